package views_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

// manyFlows is a report of two days by flow with twelve flows, flow 1 using most.
func manyFlows() *reports.Report {
	d1, d2 := reports.NewDate(2026, 11, 2), reports.NewDate(2026, 11, 3)
	r := &reports.Report{
		Query:    reports.Query{From: d1, To: d2, Interval: reports.IntervalDay, GroupBy: reports.GroupByFlow},
		Timezone: "UTC",
		Buckets:  []reports.Bucket{{Start: d1, From: d1, To: d1}, {Start: d2, From: d2, To: d2}},
	}
	for i := 1; i <= 12; i++ {
		a, b := billing.Millicredits(13-i)*1000, billing.Millicredits(13-i)*500
		g := reports.Group{Key: fmt.Sprintf("flow_%d", i), Label: fmt.Sprintf("Flow %d", i),
			Series: []reports.UsageSum{{Credits: a, Events: 1}, {Credits: b, Events: 1}},
			Total:  reports.UsageSum{Credits: a + b, Events: 2}}
		r.Groups = append(r.Groups, g)
		r.Buckets[0].Total.Credits += a
		r.Buckets[1].Total.Credits += b
		r.Total.Credits += a + b
		r.Total.Events += 2
	}
	return r
}

func TestUsageView_GroupsPastEightAreSummedAsOther(t *testing.T) {
	r := manyFlows()
	doc := render(t, views.UsageView(views.Usage{Report: r, Now: now, Loc: time.UTC,
		Filters: views.UsageFilters{Range: "custom", From: "2026-11-02", To: "2026-11-03", Interval: "day", GroupBy: "flow"}}))
	cols := doc.Find(`[data-testid="usage-col"]`)
	if cols.Length() != 9 || strings.TrimSpace(cols.Last().Text()) != "Other (4)" {
		t.Fatalf("%d columns, last %q", cols.Length(), strings.TrimSpace(cols.Last().Text()))
	}
	// Flows 9 to 12 used 4+3+2+1 credits on the first day and half that on the second.
	totals := doc.Find(`[data-testid="usage-col-total"]`)
	if got := strings.TrimSpace(totals.Last().Text()); got != "15" {
		t.Errorf("Other total %q, want 15", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="usage-row"][data-bucket="2026-11-03"] [data-testid="usage-cell"]`).Last().Text()); got != "5" {
		t.Errorf("Other on Nov 3 %q, want 5", got)
	}
	if got := text(doc, "usage-total"); got != r.Total.Credits.String() {
		t.Errorf("total %q", got)
	}
	if n := doc.Find(`[data-testid="usage-group"]`).Length(); n != 12 {
		t.Errorf("the breakdown lists %d flows, want all 12", n)
	}
	var chart struct {
		Series []struct {
			Label  string
			Swatch string
		}
		Titles []string
	}
	if err := json.Unmarshal([]byte(doc.Find(`[data-chart="usage"]`).AttrOr("data-chart-data", "")), &chart); err != nil {
		t.Fatal(err)
	}
	if len(chart.Series) != 9 || chart.Series[8].Label != "Other (4)" || chart.Series[8].Swatch != "other" {
		t.Errorf("chart series %+v", chart.Series)
	}
	if strings.Join(chart.Titles, "|") != "Mon, Nov 2|Tue, Nov 3" {
		t.Errorf("tooltip titles %v", chart.Titles)
	}
	if got := text(doc, "usage-largest"); got != "Flow 1" {
		t.Errorf("largest %q", got)
	}
}

func TestBucketLabel_InTheOrganizationsCalendar(t *testing.T) {
	b := reports.Bucket{Start: reports.NewDate(2026, 11, 2), From: reports.NewDate(2026, 11, 4), To: reports.NewDate(2026, 11, 8), Partial: true}
	for _, c := range []struct {
		i    reports.Interval
		want string
	}{{reports.IntervalDay, "Nov 2"}, {reports.IntervalWeek, "Week of Nov 2"}, {reports.IntervalMonth, "Nov 2026"}} {
		if got := views.BucketLabel(b, c.i, now, time.UTC); got != c.want {
			t.Errorf("%s: %q, want %q", c.i, got, c.want)
		}
	}
	old := reports.Bucket{Start: reports.NewDate(2025, 12, 29)}
	if got := views.BucketLabel(old, reports.IntervalWeek, now, time.UTC); got != "Week of Dec 29, 2025" {
		t.Errorf("last year's week: %q", got)
	}
}

func TestForecast_Wording(t *testing.T) {
	end := time.Date(2026, 12, 14, 9, 0, 0, 0, time.UTC)
	soon := now.Add(4 * 24 * time.Hour)
	late := end.Add(48 * time.Hour)
	for _, c := range []struct {
		f      reports.Forecast
		runOut string
	}{
		{reports.Forecast{At: now, CycleEnd: end, DailyRate: billing.Credits(10), RunsOutAt: &soon}, "About Dec 1, in 4 days"},
		{reports.Forecast{At: now, CycleEnd: end, DailyRate: billing.Credits(10), RunsOutAt: &late}, "Not this cycle"},
		{reports.Forecast{At: now, CycleEnd: end}, "Not at this rate"},
		{reports.Forecast{At: now, CycleEnd: end, DailyRate: billing.Credits(10), Exhausted: true}, "Now: flows are paused until credits are added"},
	} {
		if got := views.ForecastRunOut(&c.f, time.UTC); got != c.runOut {
			t.Errorf("run out %q, want %q", got, c.runOut)
		}
	}
	if got := views.ForecastSentence(&reports.Forecast{At: now, CycleEnd: end}, time.UTC); got != "" {
		t.Errorf("no usage, yet a forecast: %q", got)
	}
}
