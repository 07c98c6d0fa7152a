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

// ReportRange returns the days preset p covers now for an organization, in its time zone.
// An unknown preset is EINVALID; an unknown organization ENOTFOUND.
func (s *Service) ReportRange(ctx context.Context, orgID string, p RangePreset) (from, to Date, err error) {
	z, loc, err := s.orgZone(ctx, orgID)
	if err != nil {
		return Date{}, Date{}, err
	}
	return PresetRange(p, s.store.Now(), loc, z.Anchor)
}

// Today returns the current day in an organization's time zone; ENOTFOUND for an unknown
// organization.
func (s *Service) Today(ctx context.Context, orgID string) (Date, error) {
	_, loc, err := s.orgZone(ctx, orgID)
	if err != nil {
		return Date{}, err
	}
	return DateOf(s.store.Now(), loc), nil
}
