package reports

import (
	"context"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// RangePreset names a common report range.
type RangePreset string

// Range presets. "Last N days" ends today and includes it; cycles are billing cycles (see
// CycleAt), turned into the org-local days they touch.
const (
	RangeLast7Days     RangePreset = "7d"
	RangeLast30Days    RangePreset = "30d"
	RangeLast90Days    RangePreset = "90d"
	RangeThisCycle     RangePreset = "cycle"
	RangePreviousCycle RangePreset = "previous_cycle"
)

// RangePresets lists the presets in display order.
var RangePresets = []RangePreset{RangeLast7Days, RangeLast30Days, RangeLast90Days, RangeThisCycle, RangePreviousCycle}

// Label returns the preset's name for people ("Last 30 days").
func (p RangePreset) Label() string {
	switch p {
	case RangeLast7Days:
		return "Last 7 days"
	case RangeLast30Days:
		return "Last 30 days"
	case RangeLast90Days:
		return "Last 90 days"
	case RangeThisCycle:
		return "This billing cycle"
	case RangePreviousCycle:
		return "Previous billing cycle"
	}
	return string(p)
}

// PresetRange returns the days, in loc, that preset p covers at instant now for an
// organization whose billing cycles are anchored at anchor. Both ends are included:
//
//   - "7d", "30d", "90d": the last N days ending today (today is day N).
//   - "cycle": the current cycle, from the day it starts to the day it ends (its last instant),
//     so the range includes the days of the cycle still to come.
//   - "previous_cycle": the cycle before it, likewise.
//
// A cycle starts and ends at the anchor's time of day, so its first and last days are partly
// in the neighbouring cycles: a report by day covers whole days. An unknown preset is EINVALID.
func PresetRange(p RangePreset, now time.Time, loc *time.Location, anchor time.Time) (from, to Date, err error) {
	today := DateOf(now, loc)
	lastN := func(n int) (Date, Date, error) { return today.AddDays(1 - n), today, nil }
	switch p {
	case RangeLast7Days:
		return lastN(7)
	case RangeLast30Days:
		return lastN(30)
	case RangeLast90Days:
		return lastN(90)
	case RangeThisCycle, RangePreviousCycle:
		start, end := billing.CycleAt(anchor, now)
		if p == RangePreviousCycle {
			start, end = billing.CycleAt(anchor, start.Add(-time.Nanosecond))
		}
		return DateOf(start, loc), DateOf(end.Add(-time.Nanosecond), loc), nil
	}
	return Date{}, Date{}, billing.Errorf(billing.EINVALID, "range %q is not one of 7d, 30d, 90d, cycle or previous_cycle", p)
}

// DefaultRange is the range of a report asked for without a range or dates.
const DefaultRange = RangeLast30Days

// ResolveRange returns the days a report covers for an organization, in its time zone, both
// included — the one place that defaults and checks a report's range:
//
//   - a preset: the days it covers now (an unknown one is EINVALID); from and to must then be
//     zero (EINVALID otherwise);
//   - no preset and no days: DefaultRange;
//   - only from: from to today (EINVALID when from is after today);
//   - only to: the 30 days ending on to;
//   - both: as given (Query.Normalize checks their order and length).
//
// An unknown organization is ENOTFOUND.
func (s *Service) ResolveRange(ctx context.Context, orgID string, preset RangePreset, from, to Date) (Date, Date, error) {
	z, loc, err := s.orgZone(ctx, orgID)
	if err != nil {
		return Date{}, Date{}, err
	}
	now := s.store.Now()
	switch {
	case preset != "" && (!from.IsZero() || !to.IsZero()):
		return Date{}, Date{}, billing.Errorf(billing.EINVALID, "give either a range or dates, not both")
	case preset != "":
		return PresetRange(preset, now, loc, z.Anchor)
	case from.IsZero() && to.IsZero():
		return PresetRange(DefaultRange, now, loc, z.Anchor)
	case to.IsZero():
		today := DateOf(now, loc)
		if today.Before(from) {
			return Date{}, Date{}, billing.Errorf(billing.EINVALID, "the start date %s is in the future: give a date up to today (%s), or an end date too", from, today)
		}
		return from, today, nil
	case from.IsZero():
		return to.AddDays(-29), to, nil
	}
	return from, to, nil
}
