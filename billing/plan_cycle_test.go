package billing_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// allotmentGrants returns the org's allotment grants by cycle start: the base allotment's
// amount, and how many base grants exist per cycle (must be one).
func allotmentGrants(t *testing.T, f *planFixture) (base map[string]billing.Millicredits, count map[string]int) {
	t.Helper()
	var rows []struct {
		Ref    string               `db:"source_ref"`
		Amount billing.Millicredits `db:"amount_mc"`
	}
	err := f.DB.Select(&rows, `SELECT source_ref, amount_mc FROM grants
		WHERE org_id = $1 AND kind = 'plan_allotment' AND source_ref NOT LIKE '%/%' ORDER BY id`, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	base, count = map[string]billing.Millicredits{}, map[string]int{}
	for _, r := range rows {
		base[r.Ref] += r.Amount
		count[r.Ref]++
	}
	return base, count
}

// A year of cycles with usage, upgrades, downgrades, cancelled downgrades, operator changes,
// a failed renewal and purchases: every cycle's allotment is granted once at the plan of its
// start and expires once, upgrades top up exactly the difference, purchased credits are only
// ever used by usage.
func TestPlans_AYearOfCycles(t *testing.T) {
	f := newPlanFixture(t, "free")
	type step struct {
		plan    string // the plan the cycle starts on
		granted int64  // the cycle's allotment grants in credits, after its actions
		do      func()
	}
	var purchased int64
	buy := func(n int64) { f.purchase(t, n); purchased += n }
	down := func(plan string) {
		if _, err := f.Svc.ScheduleDowngrade(ctx, f.Org, plan, f.Admin); err != nil {
			t.Fatal(err)
		}
	}
	cancel := func() {
		if err := f.Svc.CancelPlanChange(ctx, f.Org, f.Admin); err != nil {
			t.Fatal(err)
		}
	}
	setPlan := func(plan string, credits *billing.Millicredits, now bool) {
		if _, err := f.Svc.SetPlan(ctx, f.Org, plan, credits, now); err != nil {
			t.Fatal(err)
		}
	}
	year := []step{
		{"free", 10000, func() { f.use(t, 300); f.upgrade(t, "starter"); buy(5000) }},
		// 12,000 used on a 10,000 allotment: 2,000 come from the purchase, as usage should.
		{"starter", 10000, func() { f.use(t, 12000); purchased -= 2000; down("free"); cancel() }},
		{"starter", 100000, func() { f.upgrade(t, "pro"); down("starter") }},
		{"starter", 10000, func() { f.use(t, 9000); down("free") }},
		{"free", 1000, func() { f.use(t, 500); buy(1000) }},
		{"free", 100000, func() { f.upgrade(t, "starter"); f.upgrade(t, "pro"); down("starter"); cancel() }},
		{"pro", 100000, func() { setPlan("enterprise", ptr(billing.Credits(250000)), false) }},
		{"enterprise", 300000, func() { setPlan("enterprise", ptr(billing.Credits(300000)), true) }},
		{"enterprise", 300000, func() { f.use(t, 1000); setPlan("pro", nil, false) }},
		{"pro", 100000, func() {
			if _, err := f.Svc.RenewalFailed(ctx, f.Org, "past_due"); err != nil {
				t.Fatal(err)
			}
		}},
		{"free", 1000, func() { f.use(t, 999) }},
		{"free", 10000, func() { f.upgrade(t, "starter"); buy(100) }},
	}
	var starts []string
	for i, s := range year {
		if i > 0 {
			f.nextCycle(t)
		}
		st := f.plan(t)
		starts = append(starts, st.CycleStart.UTC().Format(time.RFC3339))
		if st.Plan.Code != s.plan {
			t.Fatalf("cycle %d starts on %s, want %s", i, st.Plan.Code, s.plan)
		}
		if st.Granted != st.Allotment {
			t.Fatalf("cycle %d starts with %s granted, want its plan's %s", i, st.Granted, st.Allotment)
		}
		s.do()
		f.Clock.Advance(48 * time.Hour)
		if st := f.plan(t); st.Granted != billing.Credits(s.granted) {
			t.Fatalf("cycle %d (%s): %s granted, want %d", i, s.plan, st.Granted, s.granted)
		}
		if cs := f.CreditSummary(t); cs.Purchased != billing.Credits(purchased) {
			t.Fatalf("cycle %d: purchased credits %s, want %d", i, cs.Purchased, purchased)
		}
		billingtest.AssertLedger(t, f.DB, f.Org)
	}
	f.nextCycle(t)
	base, count := allotmentGrants(t, f)
	for i, start := range starts {
		if count[start] != 1 {
			t.Errorf("cycle %d (%s): %d base allotments, want 1", i, start, count[start])
		}
	}
	// Every ended cycle's allotment grants expired once, and nothing of them is left.
	var left, expiries, expired int
	if err := f.DB.Get(&left, `SELECT count(*) FROM grants g JOIN accounts a USING (org_id)
		WHERE g.org_id = $1 AND g.kind = 'plan_allotment' AND g.expires_at <= a.cycle_start AND g.remaining_mc > 0`, f.Org); err != nil {
		t.Fatal(err)
	}
	if err := f.DB.Get(&expiries, `SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND kind = 'expiry'`, f.Org); err != nil {
		t.Fatal(err)
	}
	if err := f.DB.Get(&expired, `SELECT count(*) FROM grants g JOIN accounts a USING (org_id)
		WHERE g.org_id = $1 AND g.kind = 'plan_allotment' AND g.expires_at <= a.cycle_start
		AND g.amount_mc > COALESCE((SELECT sum(x.amount_mc) FROM allocations x JOIN ledger_entries e ON e.id = x.entry_id
		                            WHERE x.grant_id = g.id AND e.kind = 'usage'), 0)`, f.Org); err != nil {
		t.Fatal(err)
	}
	if left != 0 || expiries != expired {
		t.Errorf("%d allotments outlive their cycle; %d expiry entries for %d allotments with credit left", left, expiries, expired)
	}
	if len(base) != len(starts)+1 {
		t.Errorf("%d cycles granted, want %d", len(base), len(starts)+1)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

// Anchors on the 29th, 30th and 31st: the cycle after January's starts on the last day of
// February (the 29th in a leap year), a downgrade waiting for it applies there, and each
// cycle's allotment is granted once.
func TestPlans_AnchorDaysAcrossFebruaryAndALeapYear(t *testing.T) {
	for _, day := range []int{29, 30, 31} {
		t.Run(fmt.Sprint(day), func(t *testing.T) {
			t.Parallel()
			anchor := time.Date(2027, 1, day, 23, 30, 0, 0, time.UTC)
			clock := billingtest.NewClock(anchor)
			svc, db := billingtest.NewService(t, billing.WithClock(clock.Now))
			ids := identity.New(svc)
			u, err := ids.CreateUser(ctx, identity.NewUser{Email: "a@example.com", Password: "correct horse"})
			if err != nil {
				t.Fatal(err)
			}
			org, err := ids.CreateOrg(ctx, billing.NewOrg{Name: "Anchored", PlanCode: "pro"}, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			f := &planFixture{&billingtest.Fixture{Svc: svc, Identity: ids, DB: db, Clock: clock, Org: org, Admin: u.ID}}
			if _, err := svc.ScheduleDowngrade(ctx, org, "starter", u.ID); err != nil {
				t.Fatal(err)
			}
			wantStarts := map[int]string{1: "2027-02-28", 12: "2028-01-%02d", 13: "2028-02-29", 14: "2028-03-%02d"}
			for k := 1; k <= 14; k++ {
				f.nextCycle(t)
				st := f.plan(t)
				if w, ok := wantStarts[k]; ok {
					if k == 12 || k == 14 {
						w = fmt.Sprintf(w, day)
					}
					if got := st.CycleStart.Format("2006-01-02"); got != w {
						t.Fatalf("cycle %d starts %s, want %s", k, got, w)
					}
				}
				if st.Plan.Code != "starter" || st.Granted != billing.Credits(10000) {
					t.Fatalf("cycle %d: %s with %s granted, want starter with 10,000", k, st.Plan.Code, st.Granted)
				}
				if k == 1 && !st.CycleEnd.Equal(time.Date(2027, 3, day, 23, 30, 0, 0, time.UTC)) {
					t.Fatalf("February's cycle ends %s, want March %d", st.CycleEnd, day)
				}
			}
			_, count := allotmentGrants(t, f)
			for ref, n := range count {
				if n != 1 {
					t.Errorf("cycle %s granted %d times", ref, n)
				}
			}
			if len(count) != 15 {
				t.Errorf("%d cycles granted, want 15", len(count))
			}
			billingtest.AssertLedger(t, db, org)
		})
	}
}

// Two servers (two services on one database) sweep the same due orgs at once, with the
// pages reading them and usage arriving: each pending downgrade is applied once and each cycle granted once.
func TestDowngrade_TwoSchedulersApplyItOnce(t *testing.T) {
	f := newPlanFixture(t, "pro")
	orgs := []string{f.Org}
	for i := range 5 {
		org, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: fmt.Sprintf("Org %d", i), PlanCode: "pro"}, f.Admin)
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, org)
	}
	for _, org := range orgs {
		if _, err := f.Svc.ScheduleDowngrade(ctx, org, "free", f.Admin); err != nil {
			t.Fatal(err)
		}
	}
	other, err := billing.New(context.Background(), f.DB, billing.WithClock(f.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Set(f.CreditSummary(t).CycleEnd.Add(time.Minute))
	var wg sync.WaitGroup
	for _, s := range []*billing.Service{f.Svc, other, f.Svc, other} {
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := s.RollOverDue(ctx, 100); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			for _, org := range orgs {
				if _, err := s.CreditSummary(ctx, org); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	// Usage arriving meanwhile is charged whatever the plan it finds.
	for _, org := range orgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.Svc.RecordUsage(ctx, org, f.Admin, []billing.UsageEvent{billingtest.Event("email", "", 3)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, org := range orgs {
		var applied, grants int
		if err := f.DB.Get(&applied, `SELECT count(*) FROM plan_changes WHERE org_id = $1 AND status = 'applied'`, org); err != nil {
			t.Fatal(err)
		}
		if err := f.DB.Get(&grants, `SELECT count(*) FROM grants WHERE org_id = $1 AND kind = 'plan_allotment'`, org); err != nil {
			t.Fatal(err)
		}
		cs, err := f.Svc.CreditSummary(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if applied != 1 || grants != 2 || cs.Plan.Code != "free" || cs.Allotment != billing.Credits(1000) {
			t.Errorf("org %s: applied %d, allotments %d, plan %s with %s; want 1, 2, free with 1,000", org, applied, grants, cs.Plan.Code, cs.Allotment)
		}
		billingtest.AssertLedger(t, f.DB, org)
	}
}

// After three months without a server, the first touch walks every missed cycle: the
// downgrade applies at the first, each gets its allotment and the demo subscription's renewal
// once, every old allotment expires, purchased credits stay.
func TestCatchUp_AfterAThreeMonthGap(t *testing.T) {
	f := newPlanFixture(t, "free")
	f.upgrade(t, "pro")
	f.purchase(t, 2000)
	f.use(t, 500)
	if _, err := f.Svc.ScheduleDowngrade(ctx, f.Org, "starter", f.Admin); err != nil {
		t.Fatal(err)
	}
	first := f.CreditSummary(t)
	f.Clock.Set(first.CycleEnd.AddDate(0, 3, 2))
	cs := f.CreditSummary(t)
	if cs.Plan.Code != "starter" || cs.Allotment != billing.Credits(10000) || cs.AllotmentRemaining != billing.Credits(10000) {
		t.Fatalf("after the gap: %s, allotment %s (%s left); want starter 10,000", cs.Plan.Code, cs.Allotment, cs.AllotmentRemaining)
	}
	if cs.Purchased != billing.Credits(2000) || cs.Balance != billing.Credits(12000) {
		t.Fatalf("purchased %s, balance %s; want 2,000 and 12,000", cs.Purchased, cs.Balance)
	}
	base, count := allotmentGrants(t, f)
	if len(base) != 5 {
		t.Fatalf("%d cycles granted, want 5 (the first and four caught up)", len(base))
	}
	for ref, n := range count {
		if n != 1 {
			t.Errorf("cycle %s granted %d times", ref, n)
		}
	}
	charges, err := f.Svc.PlanCharges(ctx, f.Org, 20)
	if err != nil {
		t.Fatal(err)
	}
	renewals := 0
	for _, c := range charges {
		if c.Kind == "renewal" {
			renewals++
			if c.PlanCode != "starter" || c.AmountCents != 2900 || c.GrantID == nil {
				t.Errorf("renewal %+v, want starter at $29 against its allotment", c)
			}
		}
	}
	if renewals != 4 {
		t.Errorf("%d renewals charged, want 4", renewals)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

// A failed renewal moves the org to Free at its next cycle, cannot be cancelled away, and
// leaves this cycle's allotment and every purchased credit alone; a later renewal payment
// takes the move back.
func TestRenewalFailed_FreeFromTheNextCycle(t *testing.T) {
	f := newPlanFixture(t, "free")
	f.upgrade(t, "starter")
	f.purchase(t, 1500)
	c, err := f.Svc.RenewalFailed(ctx, f.Org, "past_due")
	if err != nil || c == nil || c.ToPlan != "free" {
		t.Fatalf("RenewalFailed = %+v, %v", c, err)
	}
	if err := f.Svc.CancelPlanChange(ctx, f.Org, f.Admin); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("cancelling the move to Free: %v, want invalid", err)
	}
	if cs := f.CreditSummary(t); cs.Allotment != billing.Credits(10000) || cs.Purchased != billing.Credits(1500) {
		t.Fatalf("this cycle: allotment %s, purchased %s", cs.Allotment, cs.Purchased)
	}
	f.nextCycle(t)
	cs := f.CreditSummary(t)
	if cs.Plan.Code != "free" || cs.Allotment != billing.Credits(1000) || cs.Purchased != billing.Credits(1500) {
		t.Fatalf("next cycle: %s with %s, purchased %s; want free 1,000 and 1,500", cs.Plan.Code, cs.Allotment, cs.Purchased)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)

	// Paid late: the renewal takes the move back.
	g := newPlanFixture(t, "free")
	g.upgrade(t, "pro")
	if _, err := g.Svc.RenewalFailed(ctx, g.Org, "past_due"); err != nil {
		t.Fatal(err)
	}
	if id, err := g.Svc.RecordRenewal(ctx, g.Org, billing.ProviderStripe, "in_123", 24900); err != nil || id == 0 {
		t.Fatalf("RecordRenewal: %d, %v", id, err)
	}
	if id, err := g.Svc.RecordRenewal(ctx, g.Org, billing.ProviderStripe, "in_123", 24900); err != nil || id != 0 {
		t.Fatalf("the same invoice again: %d, %v; want nothing recorded", id, err)
	}
	if st := g.plan(t); st.Pending != nil {
		t.Fatalf("pending %+v after the renewal was paid", st.Pending)
	}
	billingtest.AssertLedger(t, g.DB, g.Org)
}
