package estimate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/estimate"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

var ctx = context.Background()

type fixture struct {
	core  *billing.Service
	calc  *estimate.Service
	clock *billingtest.Clock
	org   string
	user  string
	dsn   string
}

func newFixture(t *testing.T, in billing.NewOrg) *fixture {
	t.Helper()
	clock := billingtest.NewClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	db, dsn := billingtest.NewDB(t)
	core, err := billing.New(ctx, db, billing.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(core)
	u, err := ids.CreateUser(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	org, err := ids.CreateOrg(ctx, in, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{core: core, calc: estimate.New(core, reports.New(core), 1), clock: clock, org: org, user: u.ID, dsn: dsn}
}

func TestEstimate_UsesTheOrgPlanForTopUp(t *testing.T) {
	t.Parallel()
	custom := billing.Credits(500_000)
	for _, c := range []struct {
		in    billing.NewOrg
		topUp billing.Millicredits
	}{
		{billing.NewOrg{Name: "Free Org"}, billing.Credits(77_600)},
		{billing.NewOrg{Name: "Starter Org", PlanCode: "starter"}, billing.Credits(68_600)},
		{billing.NewOrg{Name: "Pro Org", PlanCode: "pro"}, 0},
		{billing.NewOrg{Name: "Big Org", PlanCode: "enterprise", CustomAllotment: &custom}, 0},
	} {
		t.Run(c.in.Name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, c.in)
			est, err := f.calc.Estimate(ctx, f.org, []estimate.Line{sonnet(10_000, 1_500), emails(2_000), sms(500), voice(120, 60)})
			if err != nil {
				t.Fatal(err)
			}
			if est.Total != billing.Credits(78_600) || est.Recommended.Code != "pro" || est.TopUp != c.topUp || est.Cents != 78_600 {
				t.Fatalf("total %s → %s, top-up %s, %s", est.Total, est.Recommended.Code, est.TopUp, est.Cents)
			}
		})
	}
}

func TestEstimate_UnknownOrgIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, billing.NewOrg{Name: "Org"})
	_, err := f.calc.Estimate(ctx, "org_nope", []estimate.Line{emails(1)})
	if billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("got %v", err)
	}
}

// A model added to the rate card is priced by a running server with no deploy: the database
// notifies every server, which reloads its copy.
func TestEstimate_NewModelAppearsWithoutADeploy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, billing.NewOrg{Name: "Org"})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.core.Watch(wctx, f.dsn); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	line := []estimate.Line{{Type: "ai", Model: "claude-sonnet-5", Count: 1_000, Quantity: 1_000}}
	if _, err := f.calc.Estimate(ctx, f.org, line); estimate.AsInvalid(err).For(0, "model") == "" {
		t.Fatalf("an unknown model was priced: %v", err)
	}
	// The listener may not be listening yet: insert, then poll until the copy has the model.
	_, err := f.core.DB().ExecContext(ctx, `INSERT INTO rate_card (type, model, unit, unit_size, mc_per_unit, label, effective_from)
		VALUES ('ai', 'claude-sonnet-5', 'tokens', 1, 4, 'Claude Sonnet 5', '2020-01-01T00:00:00Z')`)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		est, err := f.calc.Estimate(ctx, f.org, line)
		if err == nil {
			if est.Total != billing.Credits(4_000) || est.Lines[0].Label != "Claude Sonnet 5" {
				t.Fatalf("priced %s as %q", est.Total, est.Lines[0].Label)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new model was never priced: %v", err)
		}
		// Touch the rate card again so a listener that started late hears of it.
		_, _ = f.core.DB().ExecContext(ctx, `UPDATE rate_card SET label = label WHERE model = 'claude-sonnet-5'`)
		time.Sleep(50 * time.Millisecond)
	}
	var offered bool
	for _, r := range f.calc.Rates() {
		offered = offered || r.Model == "claude-sonnet-5"
	}
	if !offered {
		t.Error("the calculator does not offer the new model")
	}
}

func TestFromUsage_RepeatsTheLast30DaysPerTypeAndModel(t *testing.T) {
	t.Parallel()
	f := newFixture(t, billing.NewOrg{Name: "Org", PlanCode: "pro"})
	var events []billing.UsageEvent
	n := 0
	add := func(daysAgo int, typ, model string, qty int64) {
		n++
		events = append(events, billing.UsageEvent{ID: fmt.Sprintf("e%d", n), FlowID: "flow_1", ExecutionID: "x1",
			Type: typ, Model: model, Quantity: qty, OccurredAt: f.clock.Now().AddDate(0, 0, -daysAgo)})
	}
	add(0, "ai", "claude-sonnet", 1_000)
	add(3, "ai", "claude-sonnet", 2_001) // average 1,500.5 → 1,501 tokens a call
	add(29, "ai", "claude-haiku", 700)
	add(30, "ai", "claude-opus", 9_999) // 31 days ago counting today: outside
	add(1, "email", "", 1)
	add(2, "email", "", 3)
	add(5, "voice_call", "", 61)
	add(6, "voice_call", "", 30)
	if _, err := f.core.RecordUsage(ctx, f.org, f.user, events); err != nil {
		t.Fatal(err)
	}
	lines, err := f.calc.FromUsage(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	want := []estimate.Line{
		{Type: "ai", Model: "claude-haiku", Count: 1, Quantity: 700},
		{Type: "ai", Model: "claude-sonnet", Count: 2, Quantity: 1_501},
		{Type: "email", Count: 2, Quantity: 2},
		{Type: "voice_call", Count: 2, Quantity: 46},
	}
	if fmt.Sprint(lines) != fmt.Sprint(want) {
		t.Fatalf("lines %v\nwant  %v", lines, want)
	}
	if _, err := f.calc.Estimate(ctx, f.org, lines); err != nil {
		t.Fatalf("the lines from usage do not estimate: %v", err)
	}
	billingtest.AssertLedger(t, f.core.DB(), f.org)
}

func TestFromUsage_NoUsageNoLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t, billing.NewOrg{Name: "Org"})
	lines, err := f.calc.FromUsage(ctx, f.org)
	if err != nil || len(lines) != 0 {
		t.Fatalf("%v, %v", lines, err)
	}
}
