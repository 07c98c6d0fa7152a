package documents_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// cycleOfUsage records usage by two members across flows and types during March, buys credits
// and overspends into arrears, so that every statement line has something to show.
func cycleOfUsage(t *testing.T, f *fixture) {
	t.Helper()
	f.clock.Set(t0.Add(2 * 24 * time.Hour))
	f.use(t, f.admin, "flow_support", "ai", "claude-sonnet", 400_000) // 2,000 credits
	f.use(t, f.member, "flow_support", "email", "", 300)              // 300
	f.clock.Set(t0.Add(5 * 24 * time.Hour))
	f.buy(t, "cs_march", 2000)
	for i := range 12 { // 12 flows: the top ones and "Other"
		f.use(t, f.member, fmt.Sprintf("flow_%02d", i), "sms", "", int64(i+1)*10)
	}
	f.clock.Set(t0.Add(20 * 24 * time.Hour))
	f.use(t, f.admin, "flow_calls", "voice_call", "", 61*60)    // 61 minutes = 305 credits
	f.use(t, f.admin, "flow_big", "ai", "claude-opus", 700_000) // 10,500: into arrears
}

func TestStatement_FiguresAddUpAndMatchLedgerAndRollups(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cycleOfUsage(t, f)
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

	// Nothing is issued while the cycle runs; the draft shows it so far.
	if docs, err := f.docs.IssueDueStatements(ctx, 100); err != nil || len(docs) != 0 {
		t.Fatalf("statements before the cycle closed: %v, %v", docs, err)
	}
	draft, err := f.docs.DraftStatement(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, draft); !strings.Contains(text, "DRAFT – NOT A STATEMENT OF ACCOUNT") {
		t.Errorf("draft PDF is not marked as a draft:\n%s", text)
	}
	keepPDFAs(t, draft, "statement-draft.pdf")

	// The cycle closes: the sweep rolls the account over, the statement run issues it once,
	// however often it runs and from however many servers.
	f.clock.Set(end.Add(10 * time.Minute))
	if _, err := f.svc.RollOverDue(ctx, 100); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	issued := make(chan int, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			docs, err := f.docs.IssueDueStatements(ctx, 100)
			if err != nil {
				t.Error(err)
			}
			issued <- len(docs)
		}()
	}
	wg.Wait()
	close(issued)
	total := 0
	for n := range issued {
		total += n
	}
	if total != 1 {
		t.Fatalf("%d statements issued for one closed cycle, want 1", total)
	}
	page, err := f.docs.List(ctx, f.org, documents.Filter{Type: documents.TypeStatement})
	if err != nil || len(page.Documents) != 1 {
		t.Fatalf("statements: %v %v", page, err)
	}
	d := page.Documents[0]
	st := d.Body.Statement
	if d.Number != "LUX-ST-2026-000001" || !d.PeriodStart.Equal(t0) || !d.PeriodEnd.Equal(end) {
		t.Errorf("statement %s for %v – %v", d.Number, d.PeriodStart, d.PeriodEnd)
	}
	if !st.Balanced() {
		t.Errorf("statement does not add up: %+v", st)
	}
	// Ledger: opening 0; the starter allotment of 10,000 and 2,000 purchased came in; the
	// allotment is spent, so nothing expired; closing equals the balance just before the next
	// allotment (the cached balance now, minus that allotment).
	var balance int64
	if err := f.db.Get(&balance, `SELECT balance_mc FROM accounts WHERE org_id = $1`, f.org); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]billing.Millicredits{
		"opening": {st.Opening, 0}, "allotment": {st.AllotmentGranted, billing.Credits(10000)},
		"purchased": {st.Purchased, billing.Credits(2000)}, "expired": {st.Expired, 0},
		"closing": {st.Closing, billing.Millicredits(balance) - billing.Credits(10000)},
	}
	for name, v := range want {
		if v[0] != v[1] {
			t.Errorf("statement %s = %s, want %s", name, v[0], v[1])
		}
	}
	if st.Closing >= 0 || st.Arrears != -st.Closing {
		t.Errorf("closing %s with arrears %s: the cycle ended in arrears", st.Closing, st.Arrears)
	}
	// Breakdowns equal the usage rollups of the cycle's days.
	for _, g := range []struct {
		by     reports.GroupBy
		shares []documents.Share
	}{{reports.GroupByUser, st.ByMember}, {reports.GroupByFlow, st.ByFlow}, {reports.GroupByType, st.ByType}} {
		rep, err := f.rep.UsageReport(ctx, f.org, reports.Query{
			From: reports.NewDate(2026, 3, 1), To: reports.NewDate(2026, 3, 31), GroupBy: g.by, Interval: reports.IntervalMonth,
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Total.Credits != st.Used {
			t.Errorf("rollup total %s, statement used %s", rep.Total.Credits, st.Used)
		}
		byKey := map[string]billing.Millicredits{}
		for _, rg := range rep.Groups {
			byKey[rg.Key] = rg.Total.Credits
		}
		for _, s := range g.shares {
			if s.Key != "" && byKey[s.Key] != s.Credits {
				t.Errorf("%s %s: statement %s, rollup %s", g.by, s.Key, s.Credits, byKey[s.Key])
			}
		}
	}
	if n := len(st.ByFlow); n != documents.TopFlows || st.ByFlow[n-1].Key != "" {
		t.Errorf("flows: %d rows, want the top %d with Other last", n, documents.TopFlows-1)
	}
	// Per member, the core's cycle counters agree too.
	for _, s := range st.ByMember {
		var used int64
		if err := f.db.Get(&used, `SELECT used_mc FROM member_cycle_usage WHERE org_id = $1 AND user_id = $2 AND cycle_start = $3`, f.org, s.Key, t0); err != nil {
			t.Fatal(err)
		}
		if billing.Millicredits(used) != s.Credits {
			t.Errorf("member %s: statement %s, cycle counter %d", s.Label, s.Credits, used)
		}
	}
	text := pdfText(t, d)
	for _, want := range []string{"STATEMENT", d.Number, "Initech Robotics", "1 Mar – 1 Apr 2026", "Opening balance", "Closing balance",
		st.Closing.String(), st.Used.String(), "Ada Admin", "Bob Member", "flow_big", "Other (6)", "AI", "Voice call", "Arrears at the cycle's end"} {
		if !strings.Contains(text, want) {
			t.Errorf("statement PDF lacks %q:\n%s", want, text)
		}
	}
	keepPDFAs(t, d, "statement.pdf")

	// The next cycle's opening is this closing.
	f.clock.Set(time.Date(2026, 5, 1, 0, 5, 0, 0, time.UTC))
	if _, err := f.svc.RollOverDue(ctx, 100); err != nil {
		t.Fatal(err)
	}
	docs, err := f.docs.IssueDueStatements(ctx, 100)
	if err != nil || len(docs) != 1 {
		t.Fatalf("April statement: %v %v", docs, err)
	}
	april := docs[0].Body.Statement
	if april.Opening != st.Closing || !april.Balanced() || april.AllotmentExpired == 0 {
		t.Errorf("April: opening %s (March closed at %s), expired %s", april.Opening, st.Closing, april.AllotmentExpired)
	}
	billingtest.AssertLedger(t, f.db, f.org)
	billingtest.AssertDocuments(t, f.db, f.org)
}

func TestStatement_LateRunIssuesEveryMissedCycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.clock.Set(t0.Add(24 * time.Hour))
	f.use(t, f.admin, "flow_a", "email", "", 10)
	// The servers were down for three months; the first sweep after catches up.
	f.clock.Set(time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC))
	if _, err := f.svc.RollOverDue(ctx, 100); err != nil {
		t.Fatal(err)
	}
	docs, err := f.docs.IssueDueStatements(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d statements after three missed cycles", len(docs))
	}
	prev := billing.Millicredits(0)
	for i, d := range docs {
		st := d.Body.Statement
		if !st.Balanced() || st.Opening != prev {
			t.Errorf("statement %d (%s): opening %s, previous closing %s", i, d.Number, st.Opening, prev)
		}
		if want := fmt.Sprintf("LUX-ST-2026-%06d", i+1); d.Number != want {
			t.Errorf("statement %d numbered %s, want %s", i, d.Number, want)
		}
		prev = st.Closing
	}
	if again, err := f.docs.IssueDueStatements(ctx, 100); err != nil || len(again) != 0 {
		t.Errorf("second run issued %d (%v)", len(again), err)
	}
	billingtest.AssertDocuments(t, f.db, f.org)
}
