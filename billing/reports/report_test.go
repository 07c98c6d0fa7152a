package reports_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/reports"
)

func date(s string) reports.Date {
	d, err := reports.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestReportQuery_NormalizeExplainsBadRanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		q    reports.Query
		want string // "" = valid; else a part of the message
	}{
		{"one day", reports.Query{From: date("2026-03-01"), To: date("2026-03-01")}, ""},
		{"400 days", reports.Query{From: date("2025-01-01"), To: date("2025-01-01").AddDays(399)}, ""},
		{"401 days", reports.Query{From: date("2025-01-01"), To: date("2025-01-01").AddDays(400)}, "at most 400 days"},
		{"to before from", reports.Query{From: date("2026-03-02"), To: date("2026-03-01")}, "before the start date"},
		{"no from", reports.Query{To: date("2026-03-01")}, "needs both a start and an end"},
		{"no to", reports.Query{From: date("2026-03-01")}, "needs both a start and an end"},
		{"bad interval", reports.Query{From: date("2026-03-01"), To: date("2026-03-02"), Interval: "hour"}, "not one of day, week or month"},
		{"bad grouping", reports.Query{From: date("2026-03-01"), To: date("2026-03-02"), GroupBy: "model"}, "not one of type, flow or user"},
		{"too many top flows", reports.Query{From: date("2026-03-01"), To: date("2026-03-02"), TopFlows: 101}, "between 1 and 100"},
		{"year 1999", reports.Query{From: reports.NewDate(1999, time.December, 31), To: date("2000-01-02")}, "between the years 2000 and 9999"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := c.q.Normalize()
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid query refused: %v", err)
				}
				if n.Interval != reports.IntervalDay || n.GroupBy != reports.GroupByType || n.TopFlows != reports.DefaultTopFlows {
					t.Errorf("defaults not applied: %+v", n)
				}
				return
			}
			if billing.ErrorCode(err) != billing.EINVALID || !strings.Contains(billing.ErrorMessage(err), c.want) {
				t.Errorf("error %v, want EINVALID saying %q", err, c.want)
			}
		})
	}
}

func TestParseDate_RefusesOtherFormats(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "2026-3-1", "01/03/2026", "2026-02-30", "2026-03-01T00:00:00Z", "yesterday"} {
		if _, err := reports.ParseDate(s); billing.ErrorCode(err) != billing.EINVALID || !strings.Contains(billing.ErrorMessage(err), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) = %v, want EINVALID naming the format", s, err)
		}
	}
}

func TestBucketStart_WeeksStartMondayMonthsOnThe1st(t *testing.T) {
	t.Parallel()
	cases := []struct {
		day      string
		interval reports.Interval
		want     string
	}{
		{"2026-03-04", reports.IntervalDay, "2026-03-04"},
		{"2026-03-02", reports.IntervalWeek, "2026-03-02"}, // a Monday
		{"2026-03-08", reports.IntervalWeek, "2026-03-02"}, // the Sunday after
		{"2026-03-01", reports.IntervalWeek, "2026-02-23"}, // a Sunday: the week began in February
		{"2027-01-01", reports.IntervalWeek, "2026-12-28"}, // across a year
		{"2026-03-31", reports.IntervalMonth, "2026-03-01"},
		{"2028-02-29", reports.IntervalMonth, "2028-02-01"},
	}
	for _, c := range cases {
		if got := reports.BucketStart(date(c.day), c.interval); got.String() != c.want {
			t.Errorf("BucketStart(%s, %s) = %s, want %s", c.day, c.interval, got, c.want)
		}
	}
}

func TestPresetRange(t *testing.T) {
	t.Parallel()
	paris := mustZone("Europe/Paris")
	anchor := time.Date(2026, 1, 31, 22, 30, 0, 0, time.UTC) // Feb 1st, 23:30 in Paris
	cases := []struct {
		preset   reports.RangePreset
		now      time.Time
		loc      *time.Location
		from, to string
	}{
		{reports.RangeLast7Days, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2026-03-04", "2026-03-10"},
		{reports.RangeLast30Days, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2026-02-09", "2026-03-10"},
		{reports.RangeLast90Days, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2025-12-11", "2026-03-10"},
		// 23:30 UTC is already tomorrow in Paris.
		{reports.RangeLast7Days, time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC), paris, "2026-03-05", "2026-03-11"},
		// Cycles anchored on the 31st: Feb 28 22:30 UTC → Mar 31 22:30 UTC (clamped to month end).
		{reports.RangeThisCycle, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2026-02-28", "2026-03-31"},
		{reports.RangePreviousCycle, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.UTC, "2026-01-31", "2026-02-28"},
		// In Paris the same cycle starts on Feb 28 23:30 and ends Mar 31 23:59:59 local.
		{reports.RangeThisCycle, time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), paris, "2026-02-28", "2026-04-01"},
	}
	for _, c := range cases {
		from, to, err := reports.PresetRange(c.preset, c.now, c.loc, anchor)
		if err != nil {
			t.Fatal(err)
		}
		if from.String() != c.from || to.String() != c.to {
			t.Errorf("%s at %s in %s: %s..%s, want %s..%s", c.preset, c.now, c.loc, from, to, c.from, c.to)
		}
		if _, err := (reports.Query{From: from, To: to}).Normalize(); err != nil {
			t.Errorf("%s gives an invalid range: %v", c.preset, err)
		}
	}
	if _, _, err := reports.PresetRange("last-year", time.Now(), time.UTC, anchor); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("unknown preset: %v, want EINVALID", err)
	}
}

func TestResolveRange_UsesTheOrgZoneAndCycle(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro") // created at billingtest.T0 = 2026-03-31 09:30 UTC
	f.Clock.Set(billingtest.T0.Add(40 * 24 * time.Hour))
	from, to, err := f.Reports.ResolveRange(ctx, f.Org, reports.RangeThisCycle, reports.Date{}, reports.Date{})
	if err != nil {
		t.Fatal(err)
	}
	if from.String() != "2026-04-30" || to.String() != "2026-05-31" {
		t.Errorf("this cycle %s..%s, want 2026-04-30..2026-05-31", from, to)
	}
	if _, _, err := f.Reports.ResolveRange(ctx, "org_nope", reports.RangeLast7Days, reports.Date{}, reports.Date{}); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown org: %v, want ENOTFOUND", err)
	}
}

func TestUsageReport_LabelsTotalsAndTopFlows(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	member := f.NewMember(t, "grace@example.com", "Grace Hopper")
	if err := f.Svc.NameFlow(ctx, f.Org, "flow_support", "Support triage"); err != nil {
		t.Fatal(err)
	}
	at := func(day int, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	e := func(id, flow, user, typ, model string, qty int64, when time.Time) billing.UsageEvent {
		return billing.UsageEvent{ID: id, FlowID: flow, ExecutionID: "x_" + id, UserID: user, Type: typ, Model: model, Quantity: qty, OccurredAt: when}
	}
	f.Record(t,
		e("1", "flow_support", f.Admin, "ai", "claude-sonnet", 2000, at(2, 10)), // 10 credits, Monday
		e("2", "flow_support", member.ID, "email", "", 3, at(8, 23)),            // 3 credits, Sunday
		e("3", "flow_calls", member.ID, "voice_call", "", 61, at(9, 0)),         // 10 credits, next Monday
		e("4", "flow_calls", member.ID, "sms", "", 1, at(20, 12)),               // 2 credits
		e("5", "flow_old", f.Admin, "sms", "", 1, at(1, 12)),                    // outside the range
	)
	q := reports.Query{From: date("2026-03-02"), To: date("2026-03-20"), Interval: reports.IntervalWeek, GroupBy: reports.GroupByFlow}
	rep, err := f.Reports.UsageReport(ctx, f.Org, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(bucketStarts(rep)); got != "[2026-03-02 2026-03-09 2026-03-16]" {
		t.Errorf("weekly buckets %s", got)
	}
	if last := rep.Buckets[2]; !last.Partial || last.To.String() != "2026-03-20" {
		t.Errorf("last week %+v should be partial, ending on the 20th", last)
	}
	if rep.Total.Credits != billing.Credits(25) || rep.Total.Events != 4 {
		t.Errorf("total %+v, want 25 credits in 4 events", rep.Total)
	}
	if len(rep.Groups) != 2 || rep.Groups[0].Key != "flow_support" || rep.Groups[0].Label != "Support triage" ||
		rep.Groups[0].Detail != "flow_support" || rep.Groups[1].Label != "flow_calls" {
		t.Fatalf("groups %+v", rep.Groups)
	}
	if s := rep.Groups[0].Series; s[0].Credits != billing.Credits(13) || s[1].Credits != 0 {
		t.Errorf("support series %+v: want 13 credits in the first week (Mon 10 + Sun 3)", s)
	}
	if len(rep.TopFlows) != 2 || rep.TopFlows[0].Name != "Support triage" || rep.TopFlows[0].Credits != billing.Credits(13) {
		t.Errorf("top flows %+v", rep.TopFlows)
	}

	q.GroupBy = reports.GroupByUser
	rep, err = f.Reports.UsageReport(ctx, f.Org, q)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{}
	for _, g := range rep.Groups {
		labels[g.Key] = g.Label + "|" + g.Detail
	}
	if labels[member.ID] != "Grace Hopper|grace@example.com" || labels[f.Admin] != "admin-pro@example.com|" {
		t.Errorf("user labels %v: a name with its email, else the email", labels)
	}
	if len(rep.TopFlows) != 2 || rep.TopFlows[0].FlowID != "flow_support" {
		t.Errorf("top flows when grouped by user %+v", rep.TopFlows)
	}

	q.GroupBy, q.Interval, q.Type = reports.GroupByType, reports.IntervalMonth, "sms"
	rep, err = f.Reports.UsageReport(ctx, f.Org, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 1 || rep.Groups[0].Label != "SMS" || rep.Total.Credits != billing.Credits(2) || len(rep.Buckets) != 1 {
		t.Errorf("sms-only monthly report %+v", rep)
	}

	if _, err := f.Reports.UsageReport(ctx, "org_other", q); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown org: %v, want ENOTFOUND", err)
	}
	empty, err := f.Reports.UsageReport(ctx, f.Org, reports.Query{From: date("2025-01-01"), To: date("2025-01-31")})
	if err != nil || len(empty.Groups) != 0 || len(empty.Buckets) != 31 || empty.TopFlows == nil {
		t.Errorf("a range without usage: %+v, %v", empty, err)
	}
}

func bucketStarts(r *reports.Report) []string {
	var out []string
	for _, b := range r.Buckets {
		out = append(out, b.Start.String())
	}
	return out
}

func TestWriteReportCSV_BadQueryWritesNothing(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	var buf bytes.Buffer
	err := f.Reports.WriteReportCSV(ctx, &buf, f.Org, reports.Query{From: date("2026-03-02"), To: date("2026-03-01")})
	if billing.ErrorCode(err) != billing.EINVALID || buf.Len() != 0 {
		t.Errorf("error %v with %d bytes written", err, buf.Len())
	}
	if got := reports.CSVFilename(reports.Query{From: date("2026-03-01"), To: date("2026-03-31"), GroupBy: reports.GroupByFlow}); got != "lux-usage-2026-03-01-to-2026-03-31-by-flow-per-day.csv" {
		t.Errorf("file name %s", got)
	}
}

func TestFlowExecutions_NewestFirstInPagesWithoutOverlap(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	var events []billing.UsageEvent
	const executions = 23
	for i := range executions {
		when := billingtest.T0.Add(-time.Duration(executions-i) * time.Minute) // exec_22 is the newest
		events = append(events,
			billing.UsageEvent{ID: fmt.Sprintf("a%d", i), FlowID: "flow_x", ExecutionID: fmt.Sprintf("exec_%02d", i), Type: "ai", Model: "claude-haiku", Quantity: 1000, OccurredAt: when},
			billing.UsageEvent{ID: fmt.Sprintf("b%d", i), FlowID: "flow_x", ExecutionID: fmt.Sprintf("exec_%02d", i), Type: "email", Quantity: 1, OccurredAt: when.Add(-time.Second)})
	}
	// Two executions share their newest instant: the execution id breaks the tie.
	events = append(events, billing.UsageEvent{ID: "tie", FlowID: "flow_x", ExecutionID: "exec_tie", Type: "sms", Quantity: 1, OccurredAt: billingtest.T0.Add(-10 * time.Minute)})
	events = append(events, billing.UsageEvent{ID: "other", FlowID: "flow_y", ExecutionID: "exec_y", Type: "sms", Quantity: 1, OccurredAt: billingtest.T0})
	f.Record(t, events...)

	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := f.Reports.FlowExecutions(ctx, f.Org, "flow_x", cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			seen = append(seen, e.ExecutionID)
			if e.ExecutionID == "exec_tie" {
				if e.Total != billing.Credits(2) || e.ByType["sms"] != billing.Credits(2) {
					t.Errorf("tie execution %+v", e)
				}
				continue
			}
			if e.Total != billing.Credits(2) || e.ByType["ai"] != billing.Credits(1) || e.ByType["email"] != billing.Credits(1) || e.Events != 2 || e.FlowID != "flow_x" {
				t.Errorf("execution %+v: want 1 AI + 1 email credit in 2 events", e)
			}
			if !e.LastAt.After(e.FirstAt) {
				t.Errorf("execution %s: first %s, last %s", e.ExecutionID, e.FirstAt, e.LastAt)
			}
		}
		if page.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		cursor = page.Next
	}
	if len(seen) != executions+1 {
		t.Fatalf("%d executions over the pages, want %d: %v", len(seen), executions+1, seen)
	}
	if seen[0] != "exec_22" || seen[len(seen)-1] != "exec_00" {
		t.Errorf("order %v: want newest first", seen)
	}
	dup := map[string]bool{}
	for _, id := range seen {
		if dup[id] {
			t.Errorf("%s on two pages", id)
		}
		dup[id] = true
	}
	if _, err := f.Reports.FlowExecutions(ctx, f.Org, "flow_x", "not a cursor", 5); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("bad cursor: %v", err)
	}
	page, err := f.Reports.FlowExecutions(ctx, "org_other", "flow_x", "", 0)
	if err != nil || len(page.Executions) != 0 {
		t.Errorf("another org sees %+v (%v)", page, err)
	}
}

func TestExecutionEvents_AndRawCSV(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	var events []billing.UsageEvent
	for i := range 1203 {
		events = append(events, billing.UsageEvent{ID: fmt.Sprintf("e%04d", i), FlowID: "flow_big", ExecutionID: "exec_big", Type: "ai", Model: "gpt-4o-mini", Quantity: 1500, OccurredAt: billingtest.T0.Add(-time.Hour + time.Duration(i)*time.Millisecond)})
	}
	for i := 0; i < len(events); i += billing.MaxBatch {
		f.Record(t, events[i:min(i+billing.MaxBatch, len(events))]...)
	}
	got, err := f.Reports.ExecutionEvents(ctx, f.Org, "exec_big", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != reports.DefaultEventLimit || got[0].ID != "e0000" || got[0].Credits != 1500 || got[0].Quantity != 1500 {
		t.Errorf("%d events, first %+v", len(got), got[0])
	}
	if _, err := f.Reports.ExecutionEvents(ctx, f.Org, "exec_none", 0); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown execution: %v", err)
	}
	var buf bytes.Buffer
	if err := f.Reports.WriteExecutionEventsCSV(ctx, &buf, f.Org, "exec_big"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1204 || recs[1][0] != "e0000" || recs[1203][0] != "e1202" || recs[1][9] != "1.5" {
		t.Errorf("%d CSV rows; first %v", len(recs), recs[1])
	}
	buf.Reset()
	if err := f.Reports.WriteExecutionEventsCSV(ctx, &buf, "org_other", "exec_big"); billing.ErrorCode(err) != billing.ENOTFOUND || buf.Len() != 0 {
		t.Errorf("another org's execution: %v, %d bytes", err, buf.Len())
	}
}

func TestSetTimezone_RefusesUnknownAndAmbiguousZones(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	for _, tz := range []string{"", "Mars/Olympus", "CET", "EST", "Local", "europe/paris", "../etc/passwd", "UTC+3"} {
		if err := f.Svc.SetTimezone(ctx, f.Org, tz); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("SetTimezone(%q) = %v, want EINVALID", tz, err)
		}
	}
	if err := f.Svc.SetTimezone(ctx, "org_nope", "Europe/Paris"); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown org: %v", err)
	}
	if err := f.Svc.SetTimezone(ctx, f.Org, "Asia/Kolkata"); err != nil {
		t.Fatal(err)
	}
	if cs := f.CreditSummary(t); cs.Timezone != "Asia/Kolkata" {
		t.Errorf("zone %s after SetTimezone", cs.Timezone)
	}
}

// TestSetTimezone_UnderConcurrentIngestionRollupEqualsEvents changes the zone back and forth
// while clients record usage; afterwards the rollup is exactly the events cut in the final zone.
func TestSetTimezone_UnderConcurrentIngestionRollupEqualsEvents(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var batch []billing.UsageEvent
				for j := range 5 {
					// Around midnight in the zones below, so a wrong zone moves the day.
					when := billingtest.T0.Add(-time.Duration(i*7+j) * time.Hour).Truncate(time.Hour).Add(-time.Minute)
					batch = append(batch, billing.UsageEvent{ID: fmt.Sprintf("c%d_%d_%d", c, i, j), FlowID: "flow_z", ExecutionID: fmt.Sprintf("x%d", c), Type: "sms", Quantity: 1, OccurredAt: when})
				}
				if _, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, batch); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	zones := []string{"Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham"}
	for _, tz := range zones {
		time.Sleep(30 * time.Millisecond)
		if err := f.Svc.SetTimezone(ctx, f.Org, tz); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	final := zones[len(zones)-1]
	var diff int
	err := f.DB.Get(&diff, `
		WITH r AS (SELECT day, flow_id, user_id, type, model, credits_mc, quantity, events FROM usage_daily WHERE org_id = $1),
		     e AS (SELECT (occurred_at AT TIME ZONE $2)::date, flow_id, user_id, type, model, sum(cost_mc)::bigint, sum(quantity)::bigint, count(*)
		           FROM usage_events WHERE org_id = $1 GROUP BY 1, 2, 3, 4, 5)
		SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM e) a)
		     + (SELECT count(*) FROM (SELECT * FROM e EXCEPT ALL SELECT * FROM r) b)`, f.Org, final)
	if err != nil {
		t.Fatal(err)
	}
	var events int
	_ = f.DB.Get(&events, `SELECT count(*) FROM usage_events WHERE org_id = $1`, f.Org)
	if diff != 0 {
		t.Errorf("%d rollup rows differ from the %d events cut in %s", diff, events, final)
	}
	if events < 40 {
		t.Errorf("only %d events recorded: the race was not exercised", events)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}
