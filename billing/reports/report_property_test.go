package reports_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// Zones with the awkward cases: half- and three-quarter-hour offsets, DST in both hemispheres,
// DST changes at midnight (days that start at 01:00), and offsets beyond ±12 hours.
var propZones = []string{
	"UTC", "Europe/Paris", "Europe/London", "America/New_York", "America/St_Johns", "America/Santiago",
	"America/Havana", "Asia/Beirut", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham",
	"Pacific/Kiritimati", "Pacific/Pago_Pago",
}

var propKinds = []struct{ typ, model string }{
	{"ai", "claude-haiku"}, {"ai", "claude-sonnet"}, {"ai", "gpt-4o-mini"}, {"email", ""}, {"sms", ""},
	{"voice_call", ""}, {"voice_synthesis", ""},
}

// propFixture is an organization with random usage recorded through the service.
type propFixture struct {
	Svc      *billing.Service
	Identity *identity.Service
	Reports  *reports.Service
	DB       *sqlx.DB
	Clock    *billingtest.Clock
	Org      string
	users    []string
	flows    []string
	rnd      *rand.Rand
	seq      int
}

var propNow = time.Date(2026, 11, 20, 15, 4, 5, 0, time.UTC)

func newPropFixture(t *testing.T, seed uint64, tz string) *propFixture {
	t.Helper()
	clock := billingtest.NewClock(propNow.Add(-400 * 24 * time.Hour))
	svc, db := billingtest.NewService(t, billing.WithClock(clock.Now))
	f := &propFixture{Svc: svc, Identity: identity.New(svc), Reports: reports.New(svc), DB: db, Clock: clock, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	admin, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada Lovelace", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	f.Org, err = f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Prop Org", PlanCode: "pro", Timezone: tz}, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.users = []string{admin.ID}
	for i, name := range []string{"Grace Hopper", ""} {
		u, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("member%d@example.com", i), Name: name, Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Identity.AddMember(ctx, f.Org, u.ID, identity.RoleMember); err != nil {
			t.Fatal(err)
		}
		f.users = append(f.users, u.ID)
	}
	f.flows = []string{"flow_support", "flow_leads", "flow_calls", "flow_digest", "flow_unnamed"}
	for i, name := range []string{"Support triage", "Lead enrichment", "Sales calls", "Weekly digest"} {
		if err := svc.NameFlow(ctx, f.Org, f.flows[i], name); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(propNow)
	return f
}

// randomInstant returns an instant an event may carry (at most 399 days old, at most 4 minutes
// ahead), often on a boundary: a local midnight, a Monday, a month's first day or a DST change in
// one of the zones, give or take a microsecond or a second.
func (f *propFixture) randomInstant() time.Time {
	lo, hi := propNow.Add(-399*24*time.Hour), propNow.Add(4*time.Minute)
	r := f.rnd
	var t time.Time
	switch r.IntN(6) {
	case 0, 1: // anywhere
		t = lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
	case 2: // a local midnight
		loc := mustZone(propZones[r.IntN(len(propZones))])
		d := reports.DateOf(lo, loc).AddDays(1 + r.IntN(397))
		t = d.Start(loc)
	case 3: // a Monday or a 1st of the month, local
		loc := mustZone(propZones[r.IntN(len(propZones))])
		d := reports.DateOf(lo, loc).AddDays(1 + r.IntN(397))
		if r.IntN(2) == 0 {
			d = reports.BucketStart(d, reports.IntervalWeek)
		} else {
			d = reports.BucketStart(d, reports.IntervalMonth)
		}
		t = d.Start(loc)
	default: // a DST change
		loc := mustZone(propZones[r.IntN(len(propZones))])
		tr := transitions(loc, lo, hi)
		if len(tr) == 0 {
			t = lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
		} else {
			t = tr[r.IntN(len(tr))]
		}
	}
	t = t.Add([]time.Duration{0, 0, time.Microsecond, -time.Microsecond, time.Second, -time.Second, time.Hour, -time.Hour}[r.IntN(8)])
	// PostgreSQL keeps microseconds; events carry no more precision than that.
	t = t.Truncate(time.Microsecond)
	if t.Before(lo) {
		t = lo
	}
	if t.After(hi) {
		t = hi
	}
	return t
}

// transitions lists the instants in [lo, hi) where loc changes its offset.
func transitions(loc *time.Location, lo, hi time.Time) []time.Time {
	var out []time.Time
	for t := lo; t.Before(hi); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(hi) {
			break
		}
		out = append(out, end)
		t = end
	}
	return out
}

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// recordRandom records n random events in batches through RecordUsage.
func (f *propFixture) recordRandom(t *testing.T, n int) {
	t.Helper()
	r := f.rnd
	for n > 0 {
		size := min(n, 1+r.IntN(150))
		n -= size
		batch := make([]billing.UsageEvent, size)
		for i := range batch {
			f.seq++
			k := propKinds[r.IntN(len(propKinds))]
			qty := int64(1 + r.IntN(5000))
			if k.typ == "email" || k.typ == "sms" {
				qty = int64(1 + r.IntN(3))
			}
			batch[i] = billing.UsageEvent{
				ID: fmt.Sprintf("evt_%d", f.seq), FlowID: f.flows[r.IntN(len(f.flows))],
				ExecutionID: fmt.Sprintf("exec_%d", f.seq/3), UserID: f.users[r.IntN(len(f.users))],
				Type: k.typ, Model: k.model, Quantity: qty, OccurredAt: f.randomInstant(),
			}
		}
		if _, err := f.Svc.RecordUsage(ctx, f.Org, f.users[0], batch); err != nil {
			t.Fatalf("RecordUsage: %v", err)
		}
	}
}

// randomQuery returns a random valid report query around the events' dates.
func (f *propFixture) randomQuery() reports.Query {
	r := f.rnd
	first := reports.DateOf(propNow, time.UTC).AddDays(-405)
	from := first.AddDays(r.IntN(410))
	to := from.AddDays(r.IntN(reports.MaxReportDays))
	if r.IntN(3) == 0 {
		to = from.AddDays(r.IntN(40))
	}
	q := reports.Query{
		From: from, To: to,
		Interval: reports.Intervals[r.IntN(len(reports.Intervals))],
		GroupBy:  reports.GroupBys[r.IntN(len(reports.GroupBys))],
	}
	switch r.IntN(8) {
	case 0:
		q.FlowID = f.flows[r.IntN(len(f.flows))]
	case 1:
		q.UserID = f.users[r.IntN(len(f.users))]
	case 2:
		q.Type = propKinds[r.IntN(len(propKinds))].typ
	}
	return q
}

type cellKey struct {
	bucket reports.Date
	key    string
}

// expectedCells aggregates usage_events directly, days cut in tz with PostgreSQL's date_trunc:
// the reference the rollup-based report must equal.
func expectedCells(t *testing.T, db *sqlx.DB, org, tz string, q reports.Query) map[cellKey]reports.UsageSum {
	t.Helper()
	rows, err := db.Queryx(`
		SELECT CAST(date_trunc($2, occurred_at AT TIME ZONE $3) AS date) AS bucket,
		       CASE $4 WHEN 'flow' THEN flow_id WHEN 'user' THEN user_id ELSE type END AS key,
		       sum(cost_mc)::bigint, sum(quantity)::bigint, count(*)
		FROM usage_events
		WHERE org_id = $1
		  AND CAST(occurred_at AT TIME ZONE $3 AS date) BETWEEN $5::date AND $6::date
		  AND ($7 = '' OR flow_id = $7) AND ($8 = '' OR user_id = $8) AND ($9 = '' OR type = $9)
		GROUP BY 1, 2`,
		org, string(q.Interval), tz, string(q.GroupBy), q.From.String(), q.To.String(), q.FlowID, q.UserID, q.Type)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[cellKey]reports.UsageSum{}
	for rows.Next() {
		var k cellKey
		var s reports.UsageSum
		if err := rows.Scan(&k.bucket, &k.key, &s.Credits, &s.Quantity, &s.Events); err != nil {
			t.Fatal(err)
		}
		out[k] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkReport compares a report with the reference aggregation, cell by cell and in total.
func checkReport(t *testing.T, f *propFixture, tz string, q reports.Query) {
	t.Helper()
	rep, err := f.Reports.UsageReport(ctx, f.Org, q)
	if err != nil {
		t.Fatalf("UsageReport(%+v): %v", q, err)
	}
	want := expectedCells(t, f.DB, f.Org, tz, q)
	desc := fmt.Sprintf("%s..%s per %s by %s (flow %q user %q type %q) in %s", q.From, q.To, q.Interval, q.GroupBy, q.FlowID, q.UserID, q.Type, tz)
	if rep.Timezone != tz {
		t.Errorf("%s: report zone %s", desc, rep.Timezone)
	}
	// Buckets are dense and ordered.
	if len(rep.Buckets) == 0 || rep.Buckets[0].From != q.From || rep.Buckets[len(rep.Buckets)-1].To != q.To {
		t.Fatalf("%s: buckets %v do not cover the range", desc, rep.Buckets)
	}
	for i := 1; i < len(rep.Buckets); i++ {
		if rep.Buckets[i].From != rep.Buckets[i-1].To.AddDays(1) {
			t.Fatalf("%s: gap between buckets %d and %d", desc, i-1, i)
		}
	}
	got := map[cellKey]reports.UsageSum{}
	var total reports.UsageSum
	for _, g := range rep.Groups {
		var gt reports.UsageSum
		if len(g.Series) != len(rep.Buckets) {
			t.Fatalf("%s: group %s has %d points for %d buckets", desc, g.Key, len(g.Series), len(rep.Buckets))
		}
		for i, v := range g.Series {
			if v != (reports.UsageSum{}) {
				got[cellKey{rep.Buckets[i].Start, g.Key}] = v
			}
			gt.Credits += v.Credits
			gt.Quantity += v.Quantity
			gt.Events += v.Events
		}
		if gt != g.Total {
			t.Errorf("%s: group %s total %+v, its series sum to %+v", desc, g.Key, g.Total, gt)
		}
		total.Credits += gt.Credits
		total.Quantity += gt.Quantity
		total.Events += gt.Events
	}
	if total != rep.Total {
		t.Errorf("%s: report total %+v, groups sum to %+v", desc, rep.Total, total)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: cell %s/%s = %+v, events say %+v", desc, k.bucket, k.key, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: cell %s/%s = %+v, events have none", desc, k.bucket, k.key, g)
		}
	}
	// Top flows: the flows with most credits within the range and filters.
	var top []string
	err = f.DB.Select(&top, `
		SELECT flow_id || ':' || sum(cost_mc) || ':' || sum(quantity) || ':' || count(*)
		FROM usage_events
		WHERE org_id = $1 AND CAST(occurred_at AT TIME ZONE $2 AS date) BETWEEN $3::date AND $4::date
		  AND ($5 = '' OR flow_id = $5) AND ($6 = '' OR user_id = $6) AND ($7 = '' OR type = $7)
		GROUP BY flow_id ORDER BY sum(cost_mc) DESC, flow_id LIMIT $8`,
		f.Org, tz, q.From.String(), q.To.String(), q.FlowID, q.UserID, q.Type, reports.DefaultTopFlows)
	if err != nil {
		t.Fatal(err)
	}
	var gotTop []string
	for _, ft := range rep.TopFlows {
		gotTop = append(gotTop, fmt.Sprintf("%s:%d:%d:%d", ft.FlowID, ft.Credits, ft.Quantity, ft.Events))
	}
	if fmt.Sprint(gotTop) != fmt.Sprint(top) {
		t.Errorf("%s: top flows %v, events say %v", desc, gotTop, top)
	}
}

// TestUsageReport_EqualsEventsInAnyZone is the property: for random events (many on local
// midnights, Mondays, month starts and DST changes) and random zones, ranges, intervals,
// groupings and filters, the report from the rollup equals a direct aggregation of the events
// cut in the org's zone — before and after SetTimezone, and for usage recorded after it.
func TestUsageReport_EqualsEventsInAnyZone(t *testing.T) {
	t.Parallel()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	for round := range 3 {
		tz := propZones[r.IntN(len(propZones))]
		t.Run(fmt.Sprintf("round%d_%s", round, tz), func(t *testing.T) {
			t.Parallel()
			f := newPropFixture(t, seed+uint64(round), tz)
			f.recordRandom(t, 1500)
			for range 12 {
				checkReport(t, f, tz, f.randomQuery())
			}
			for _, next := range []string{propZones[f.rnd.IntN(len(propZones))], propZones[f.rnd.IntN(len(propZones))]} {
				if err := f.Svc.SetTimezone(ctx, f.Org, next); err != nil {
					t.Fatalf("SetTimezone(%s): %v", next, err)
				}
				tz = next
				for range 6 {
					checkReport(t, f, tz, f.randomQuery())
				}
				f.recordRandom(t, 300) // ingestion now cuts days in the new zone
				for range 6 {
					checkReport(t, f, tz, f.randomQuery())
				}
			}
			billingtest.AssertLedger(t, f.DB, f.Org)
		})
	}
}

// TestWriteReportCSV_MatchesReport parses the CSV of random views and finds exactly the
// report's non-empty cells, labels and decimal credits.
func TestWriteReportCSV_MatchesReport(t *testing.T) {
	t.Parallel()
	f := newPropFixture(t, uint64(time.Now().UnixNano()), "Europe/Paris")
	f.recordRandom(t, 800)
	for range 8 {
		q := f.randomQuery()
		rep, err := f.Reports.UsageReport(ctx, f.Org, q)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := f.Reports.WriteReportCSV(ctx, &buf, f.Org, q); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse: %v", err)
		}
		if fmt.Sprint(recs[0]) != fmt.Sprint(reports.CSVHeader) {
			t.Fatalf("header %v", recs[0])
		}
		want := map[string]string{}
		for _, g := range rep.Groups {
			for i, v := range g.Series {
				if v != (reports.UsageSum{}) {
					want[rep.Buckets[i].Start.String()+"|"+g.Key] = fmt.Sprintf("%s|%s|%d|%d", g.Label, v.Credits.Decimal(), v.Quantity, v.Events)
				}
			}
		}
		if len(recs)-1 != len(want) {
			t.Errorf("%d CSV rows for %d non-empty report cells", len(recs)-1, len(want))
		}
		var sum billing.Millicredits
		for _, rec := range recs[1:] {
			k := rec[0] + "|" + rec[1]
			if got := rec[2] + "|" + rec[3] + "|" + rec[4] + "|" + rec[5]; want[k] != got {
				t.Errorf("CSV row %v, report says %q", rec, want[k])
			}
			c, err := billing.ParseCredits(rec[3])
			if err != nil {
				t.Fatal(err)
			}
			sum += c
			if _, err := strconv.ParseInt(rec[4], 10, 64); err != nil {
				t.Errorf("quantity %q is not a whole number", rec[4])
			}
		}
		if sum != rep.Total.Credits {
			t.Errorf("CSV credits sum to %s, the report to %s", sum, rep.Total.Credits)
		}
	}
}
