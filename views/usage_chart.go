package views

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// chartData is what usage.js draws a stacked chart from, embedded in the page as JSON: one
// label per period and one series per column of the table, in credits.
type chartData struct {
	Labels []string      `json:"labels"` // under the chart: "Nov 3"
	Titles []string      `json:"titles"` // heading the tooltip: "Week of Nov 3 · Nov 3 – Nov 9"
	Series []chartSeries `json:"series"`
}

// chartSeries is one stacked series: a group, or the sum of the groups past maxSeries.
type chartSeries struct {
	Label  string                 `json:"label"`
	Swatch string                 `json:"swatch"` // the CSS colour: --series-<swatch>
	Data   []billing.Millicredits `json:"data"`   // JSON numbers of credits, per period
}

func newChartData(r *reports.Report, now time.Time, loc *time.Location) chartData {
	d := chartData{Labels: make([]string, len(r.Buckets)), Titles: make([]string, len(r.Buckets)), Series: []chartSeries{}}
	for i, b := range r.Buckets {
		d.Labels[i] = bucketAxis(b, r.Query.Interval, now, loc)
		d.Titles[i] = bucketTitle(b, r.Query.Interval, now, loc)
	}
	for _, c := range usageColumns(r) {
		s := chartSeries{Label: c.Label, Swatch: c.Swatch, Data: make([]billing.Millicredits, len(c.Series))}
		for i, v := range c.Series {
			s.Data[i] = v.Credits
		}
		d.Series = append(d.Series, s)
	}
	return d
}

// chartJSON is the chart data of a report as JSON.
func chartJSON(r *reports.Report, now time.Time, loc *time.Location) string {
	b, err := json.Marshal(newChartData(r, now, loc))
	if err != nil {
		return "{}" // cannot happen: strings and numbers only
	}
	return string(b)
}

// chartLabel describes a chart for screen readers, pointing to the table with its numbers.
func chartLabel(r *reports.Report) string {
	return fmt.Sprintf("Stacked bar chart of credits per %s by %s, %d series. The table below lists the same numbers.",
		intervalNoun(string(r.Query.Interval)), groupByNoun(string(r.Query.GroupBy)), len(usageColumns(r)))
}

// groupSwatch is the colour of the report's i-th group: its column's, or "Other"'s when the
// group is summed there.
func groupSwatch(r *reports.Report, key string, i int) string {
	if len(r.Groups) > maxSeries+1 && i >= maxSeries {
		return "other"
	}
	return swatch(r.Query.GroupBy, key, i)
}

// periodHeading heads the table's first column.
func periodHeading(interval string) string {
	switch reports.Interval(interval) {
	case reports.IntervalWeek:
		return "Week"
	case reports.IntervalMonth:
		return "Month"
	}
	return "Day"
}

// rangeSummaryText is a range inside a sentence: "between Oct 29 and Nov 27", "on Nov 27".
func rangeSummaryText(q reports.Query, now time.Time, loc *time.Location) string {
	if q.From == q.To {
		return "on " + withYear(q.From, now, loc)
	}
	return "between " + withYear(q.From, now, loc) + " and " + withYear(q.To, now, loc)
}
