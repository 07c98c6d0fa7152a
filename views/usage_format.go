package views

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// maxSeries is how many groups the chart and the table show on their own; past it the
// smaller ones are summed as one "Other" column, so that a report of hundreds of flows stays
// readable. The breakdown lists every group.
const maxSeries = 8

// usageColumn is a series of the chart and a column of the table: a group of the report, or
// "Other" summing the groups past maxSeries.
type usageColumn struct {
	Key, Label, Detail string
	Swatch             string // the series' colour: "1" to "8" (CSS --series-N) or "other"
	Total              reports.UsageSum
	Series             []reports.UsageSum
	Others             int // for "Other": how many groups it sums
}

// usageColumns returns the report's groups as chart series and table columns, most credits
// first. Types keep their own colour whatever their rank.
func usageColumns(r *reports.Report) []usageColumn {
	n := len(r.Groups)
	if n > maxSeries+1 {
		n = maxSeries
	}
	out := make([]usageColumn, 0, n+1)
	for i, g := range r.Groups[:n] {
		out = append(out, usageColumn{Key: g.Key, Label: g.Label, Detail: g.Detail,
			Swatch: swatch(r.Query.GroupBy, g.Key, i), Total: g.Total, Series: g.Series})
	}
	if rest := r.Groups[n:]; len(rest) > 0 {
		o := usageColumn{Key: "", Label: fmt.Sprintf("Other (%d)", len(rest)), Swatch: "other",
			Series: make([]reports.UsageSum, len(r.Buckets)), Others: len(rest)}
		for _, g := range rest {
			o.Total = addSum(o.Total, g.Total)
			for j, v := range g.Series {
				o.Series[j] = addSum(o.Series[j], v)
			}
		}
		out = append(out, o)
	}
	return out
}

func addSum(a, b reports.UsageSum) reports.UsageSum {
	return reports.UsageSum{Credits: a.Credits + b.Credits, Quantity: a.Quantity + b.Quantity, Events: a.Events + b.Events}
}

// swatch picks the colour of a group: a usage type always has the same one; flows and members
// take theirs by rank.
func swatch(g reports.GroupBy, key string, rank int) string {
	if g == reports.GroupByType {
		for i, t := range billing.Types {
			if t == key {
				return strconv.Itoa(i + 1)
			}
		}
	}
	return strconv.Itoa(rank%maxSeries + 1)
}

// typeSwatch is the colour of a usage type.
func typeSwatch(t string) string { return swatch(reports.GroupByType, t, len(billing.Types)) }

// groupByNoun names the groups of a view: "integration", "flow", "member".
func groupByNoun(g string) string {
	switch reports.GroupBy(g) {
	case reports.GroupByFlow:
		return "flow"
	case reports.GroupByUser:
		return "member"
	}
	return "integration"
}

// intervalNoun names a view's period: "day", "week", "month".
func intervalNoun(i string) string {
	switch reports.Interval(i) {
	case reports.IntervalWeek:
		return "week"
	case reports.IntervalMonth:
		return "month"
	}
	return "day"
}

// withYear formats a day as "Nov 3", adding the year when it is not now's year.
func withYear(d reports.Date, now time.Time, loc *time.Location) string {
	if d.Year() != in(now, loc).Year() {
		return d.Format("Jan 2, 2006")
	}
	return d.Format("Jan 2")
}

// BucketLabel names a period of a report for people, in the org's calendar: "Nov 3",
// "Week of Nov 3", "Nov 2026" (days and weeks get their year when it is not the current one).
func BucketLabel(b reports.Bucket, i reports.Interval, now time.Time, loc *time.Location) string {
	switch i {
	case reports.IntervalWeek:
		return "Week of " + withYear(b.Start, now, loc)
	case reports.IntervalMonth:
		return b.Start.Format("Jan 2006")
	}
	return withYear(b.Start, now, loc)
}

// bucketAxis is the short label of a period under the chart: "Nov 3", "Nov 2026".
func bucketAxis(b reports.Bucket, i reports.Interval, now time.Time, loc *time.Location) string {
	if i == reports.IntervalMonth {
		return b.Start.Format("Jan 2006")
	}
	return withYear(b.Start, now, loc)
}

// bucketDays says which days of a week or month the report covers: "Nov 3 – Nov 9", or for a
// period cut by the range, its days inside it. "" for a day.
func bucketDays(b reports.Bucket, i reports.Interval, now time.Time, loc *time.Location) string {
	if i == reports.IntervalDay {
		return ""
	}
	if i == reports.IntervalMonth && !b.Partial {
		return ""
	}
	return DayRange(b.From, b.To, now, loc)
}

// bucketTitle is a period as the chart's tooltip heads it: "Mon, Nov 3", "Week of Nov 3 ·
// Nov 3 – Nov 9", "November 2026".
func bucketTitle(b reports.Bucket, i reports.Interval, now time.Time, loc *time.Location) string {
	switch i {
	case reports.IntervalWeek:
		return BucketLabel(b, i, now, loc) + " · " + DayRange(b.From, b.To, now, loc)
	case reports.IntervalMonth:
		s := b.Start.Format("January 2006")
		if b.Partial {
			s += " · " + DayRange(b.From, b.To, now, loc)
		}
		return s
	}
	return b.Start.Format("Mon, ") + withYear(b.Start, now, loc)
}

// DayRange formats two days as "Oct 29 – Nov 27" (with years when not the current one), or
// one day when they are the same.
func DayRange(from, to reports.Date, now time.Time, loc *time.Location) string {
	if from == to {
		return withYear(from, now, loc)
	}
	return withYear(from, now, loc) + " – " + withYear(to, now, loc)
}

// rangeSummary describes a report's range: "Oct 29 – Nov 27 · 30 days".
func rangeSummary(q reports.Query, now time.Time, loc *time.Location) string {
	days := q.From.DaysUntil(q.To) + 1
	unit := " days"
	if days == 1 {
		unit = " day"
	}
	return DayRange(q.From, q.To, now, loc) + " · " + strconv.Itoa(days) + unit
}

// elapsedDays is how many days of a report's range have begun by now (at least 1): the
// divisor of a daily average, so a range reaching into the future is not diluted.
func elapsedDays(q reports.Query, now time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	today := reports.DateOf(now, loc)
	last := q.To
	if today.Before(last) {
		last = today
	}
	return max(q.From.DaysUntil(last)+1, 1)
}

// dailyAverage is the report's credits per elapsed day of its range, to the whole credit.
func dailyAverage(r *reports.Report, now time.Time, loc *time.Location) string {
	avg := r.Total.Credits / billing.Millicredits(elapsedDays(r.Query, now, loc))
	return roundCredits(avg + billing.Credit/2)
}

// share is part as a percentage of whole with one decimal ("72.4%"), "0%" for nothing.
func share(part, whole billing.Millicredits) string {
	if whole <= 0 || part <= 0 {
		return "0%"
	}
	p := int64(part) * 1000 / int64(whole)
	if p == 0 {
		return "<0.1%"
	}
	return strconv.FormatInt(p/10, 10) + "." + strconv.FormatInt(p%10, 10) + "%"
}

// shareWidth is the inline width of a share bar.
func shareWidth(part, whole billing.Millicredits) string {
	return widthStyle(Percent(part, whole))
}

// cellCredits formats a table cell: the credits, or an en dash for none.
func cellCredits(m billing.Millicredits) string {
	if m == 0 {
		return "–"
	}
	return m.String()
}

// roundCredits drops the fraction of a figure that is an estimate ("about 2,878 credits").
func roundCredits(m billing.Millicredits) string { return (m - m%billing.Credit).String() }

// Count formats a whole number with thousands separators ("1,532").
func Count(n int64) string { return billing.Thousands(n) }

// Quantity formats a usage quantity with its unit: "1,532 tokens", "1 email", "61 seconds".
func Quantity(n int64, unit string) string {
	if unit == "" {
		return Count(n)
	}
	if n == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	return Count(n) + " " + unit
}

// Plural formats n with a noun, made plural with "s" unless n is 1: "1 event", "3 events".
func Plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return Count(n) + " " + noun + "s"
}

// ForecastRate says the rate a forecast projects: "2,878 credits a day".
func ForecastRate(f *reports.Forecast) string {
	return roundCredits(f.DailyRate) + " credits a day"
}

// ForecastRunOut says when credits run out at the forecast's rate: "About Dec 8, in 11 days",
// "Now: flows are paused…", "Not at this rate", or "Not this cycle" (the run-out ignores the
// allotment renewing at the cycle's end, so past it, it only says that).
func ForecastRunOut(f *reports.Forecast, loc *time.Location) string {
	switch {
	case f.Exhausted:
		return "Now: flows are paused until credits are added"
	case f.RunsOutAt == nil:
		return "Not at this rate"
	case f.RunsOutAt.After(f.CycleEnd):
		return "Not this cycle"
	}
	return "About " + ShortDate(*f.RunsOutAt, loc, f.At) + ", " + DaysLeft(*f.RunsOutAt, loc, f.At)
}

// ForecastSentence is the forecast in one sentence, for the overview: "At the last 7 days'
// rate of about 2,878 credits a day, credits run out about Dec 8, in 11 days; this cycle ends
// at about 95,000 credits." "" when nothing was used in the window.
func ForecastSentence(f *reports.Forecast, loc *time.Location) string {
	if f == nil || f.DailyRate <= 0 {
		return ""
	}
	s := "At the last 7 days' rate of about " + ForecastRate(f) + ", "
	switch {
	case f.Exhausted:
		s += "flows stay paused until credits are added"
	case f.RunsOutAt == nil:
		s += "credits do not run out"
	case f.RunsOutAt.After(f.CycleEnd):
		s += "credits last until the allotment renews " + ShortDate(f.CycleEnd, loc, f.At)
	default:
		s += "credits run out about " + ShortDate(*f.RunsOutAt, loc, f.At) + ", " + DaysLeft(*f.RunsOutAt, loc, f.At)
	}
	return s + "; this cycle will end at about " + roundCredits(f.CycleProjected) + " credits."
}

// memberName is the name of the member id, else the id ("–" for none).
func memberName(names reports.Names, id string) string {
	if id == "" {
		return "–"
	}
	return names.Member(id)
}

// urlQueryEscape escapes a value for a query string.
func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// cappedNote follows the count of a list that stopped at its limit.
func cappedNote(capped bool) string {
	if capped {
		return " or more"
	}
	return ""
}

// eventTime is when an event happened, to the second, in loc: "Nov 3, 14:05:07", with the
// year when it is not the current one.
func eventTime(t time.Time, loc *time.Location, now time.Time) string {
	t, now = in(t, loc), in(now, loc)
	if t.Year() != now.Year() {
		return t.Format("Jan 2, 2006, 15:04:05")
	}
	return t.Format("Jan 2, 15:04:05")
}
