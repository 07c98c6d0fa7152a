package billing_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// planFixture is an organization on its own database with the plan helpers of these tests.
type planFixture struct{ *billingtest.Fixture }

func newPlanFixture(t *testing.T, plan string) *planFixture {
	t.Helper()
	return &planFixture{billingtest.NewFixture(t, plan)}
}

var paySeq atomic.Int64

// upgrade pays for plan through the demo provider's checkout and returns what it did.
func (f *planFixture) upgrade(t *testing.T, plan string) *billing.PlanUpgrade {
	t.Helper()
	co, qt, err := f.Svc.StartPlanCheckout(ctx, f.Org, plan, f.Admin, billing.ProviderDemo)
	if err != nil {
		t.Fatalf("StartPlanCheckout(%s): %v", plan, err)
	}
	if co.AmountCents != qt.Price {
		t.Fatalf("checkout amount %d, quote %d", co.AmountCents, qt.Price)
	}
	res, err := f.Svc.CompletePlanCheckout(ctx, billing.PlanPayment{CheckoutID: co.ID, Provider: billing.ProviderDemo, AmountCents: co.AmountCents})
	if err != nil {
		t.Fatalf("CompletePlanCheckout(%s): %v", plan, err)
	}
	if res.TopUp != qt.TopUp {
		t.Fatalf("upgrade to %s topped up %s, quoted %s", plan, res.TopUp, qt.TopUp)
	}
	return res
}

func (f *planFixture) plan(t *testing.T) *billing.PlanStatus {
	t.Helper()
	st, err := f.Svc.PlanStatus(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *planFixture) purchase(t *testing.T, credits int64) {
	t.Helper()
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(credits), nil, fmt.Sprintf("pay_%d", paySeq.Add(1)), ""); err != nil {
		t.Fatal(err)
	}
}

// use records n credits of usage (emails cost one credit each).
func (f *planFixture) use(t *testing.T, n int64) {
	t.Helper()
	f.Record(t, billingtest.Event("email", "", n))
}

// nextCycle moves the clock an hour into the next cycle and rolls the org over.
func (f *planFixture) nextCycle(t *testing.T) {
	t.Helper()
	f.Clock.Set(f.CreditSummary(t).CycleEnd.Add(time.Hour))
	if _, err := f.Svc.RollOverDue(ctx, 100); err != nil {
		t.Fatal(err)
	}
}

func TestProRata_RoundsToTheNearestCent(t *testing.T) {
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // 28 days
	cases := []struct {
		price billing.Cents
		at    time.Time
		want  billing.Cents
	}{
		{2900, start, 2900},
		{2900, start.Add(-time.Hour), 2900},
		{2900, end, 0},
		{2900, start.Add(14 * 24 * time.Hour), 1450},
		{2900, start.Add(21 * 24 * time.Hour), 725},   // 7/28 of 2900 = 725
		{100, start.Add(27 * 24 * time.Hour), 4},      // 3.571… → 4
		{22000, start.Add(20 * 24 * time.Hour), 6286}, // 6285.71… → 6286
		{1, start.Add(14 * 24 * time.Hour), 1},        // 0.5 → 1 (halves up)
		{-500, start, 0},
	}
	for _, c := range cases {
		if got := billing.ProRata(c.price, start, end, c.at); got != c.want {
			t.Errorf("ProRata(%d at %s) = %d, want %d", c.price, c.at.Format(time.RFC3339), got, c.want)
		}
	}
}

func TestUpgrade_TopsUpExactlyTheDifferenceOnce(t *testing.T) {
	f := newPlanFixture(t, "free")
	f.purchase(t, 2000)
	f.use(t, 400)
	f.Clock.Advance(24 * time.Hour)

	co, qt, err := f.Svc.StartPlanCheckout(ctx, f.Org, "starter", f.Admin, billing.ProviderDemo)
	if err != nil {
		t.Fatal(err)
	}
	if !qt.Upgrade || qt.TopUp != billing.Credits(9000) {
		t.Fatalf("quote = %+v, want an upgrade topping up 9,000", qt)
	}
	cs := f.CreditSummary(t)
	if want := billing.ProRata(2900, cs.CycleStart, cs.CycleEnd, f.Clock.Now()); qt.Price != want || want == 0 || want >= 2900 {
		t.Fatalf("price %d, want the pro-rata %d", qt.Price, want)
	}
	pay := billing.PlanPayment{CheckoutID: co.ID, Provider: billing.ProviderDemo, AmountCents: co.AmountCents}
	// The provider says so three times, two of them at once.
	var wg sync.WaitGroup
	results := make([]*billing.PlanUpgrade, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.Svc.CompletePlanCheckout(ctx, pay)
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	fulfilled := 0
	for _, r := range results {
		if r != nil && !r.Already {
			fulfilled++
			if r.TopUp != billing.Credits(9000) {
				t.Errorf("top-up %s, want 9,000", r.TopUp)
			}
		}
	}
	if fulfilled != 1 {
		t.Fatalf("fulfilled %d times, want once", fulfilled)
	}
	cs = f.CreditSummary(t)
	if cs.Plan.Code != "starter" || cs.Allotment != billing.Credits(10000) || cs.AllotmentRemaining != billing.Credits(9600) {
		t.Fatalf("after upgrade: plan %s, allotment %s, remaining %s; want starter, 10,000, 9,600", cs.Plan.Code, cs.Allotment, cs.AllotmentRemaining)
	}
	if cs.Purchased != billing.Credits(2000) {
		t.Fatalf("purchased credits %s, want 2,000 untouched", cs.Purchased)
	}
	charges, err := f.Svc.PlanCharges(ctx, f.Org, 10)
	if err != nil || len(charges) != 1 || charges[0].AmountCents != co.AmountCents || charges[0].EntryID == nil {
		t.Fatalf("charges = %+v (%v), want one of %d linked to the top-up's entry", charges, err, co.AmountCents)
	}

	// Starter → Pro in the same cycle adds exactly the 90,000 still missing.
	f.Clock.Advance(24 * time.Hour)
	if r := f.upgrade(t, "pro"); r.TopUp != billing.Credits(90000) {
		t.Fatalf("Starter → Pro topped up %s, want 90,000", r.TopUp)
	}
	if st := f.plan(t); st.Granted != billing.Credits(100000) {
		t.Fatalf("granted this cycle %s, want 100,000", st.Granted)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

// The top-up rule: a cycle's allotment grants never add up to more than the highest
// allotment the org held in that cycle, whatever the order of upgrades, downgrades,
// cancellations and operator changes.
func TestTopUpRule_UpgradeDowngradeUpgradeNeverGrantsTwice(t *testing.T) {
	f := newPlanFixture(t, "free")
	f.upgrade(t, "pro") // 1,000 + 99,000
	if _, err := f.Svc.ScheduleDowngrade(ctx, f.Org, "starter", f.Admin); err != nil {
		t.Fatal(err)
	}
	if err := f.Svc.CancelPlanChange(ctx, f.Org, f.Admin); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Svc.ScheduleDowngrade(ctx, f.Org, "free", f.Admin); err != nil {
		t.Fatal(err)
	}
	// Still on Pro this cycle: "upgrading" to it again is refused, not granted.
	if _, _, err := f.Svc.StartPlanCheckout(ctx, f.Org, "pro", f.Admin, billing.ProviderDemo); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("checkout for the current plan: %v, want conflict", err)
	}
	// The operator moves it around at once: down to a small Enterprise, then back to Pro.
	if r, err := f.Svc.SetPlan(ctx, f.Org, "enterprise", ptr(billing.Credits(50000)), true); err != nil || r.TopUp != 0 {
		t.Fatalf("set-plan enterprise 50,000 --now: %+v, %v; want no top-up", r, err)
	}
	if r, err := f.Svc.SetPlan(ctx, f.Org, "pro", nil, true); err != nil || r.TopUp != 0 {
		t.Fatalf("set-plan pro --now: %+v, %v; want no top-up (100,000 held already)", r, err)
	}
	if r, err := f.Svc.SetPlan(ctx, f.Org, "enterprise", ptr(billing.Credits(250000)), true); err != nil || r.TopUp != billing.Credits(150000) {
		t.Fatalf("set-plan enterprise 250,000 --now: %+v, %v; want 150,000", r, err)
	}
	if st := f.plan(t); st.Granted != billing.Credits(250000) || st.Pending != nil {
		t.Fatalf("granted %s, pending %+v; want 250,000 and the downgrade gone", st.Granted, st.Pending)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)

	// Next cycle: Enterprise's 250,000, once. A downgrade then applies a cycle later, and an
	// upgrade after it tops up from the lower plan again.
	if _, err := f.Svc.SetPlan(ctx, f.Org, "starter", nil, false); err != nil {
		t.Fatal(err)
	}
	f.nextCycle(t)
	if st := f.plan(t); st.Plan.Code != "starter" || st.Granted != billing.Credits(10000) {
		t.Fatalf("after the operator's change: %s with %s granted, want starter 10,000", st.Plan.Code, st.Granted)
	}
	if r := f.upgrade(t, "pro"); r.TopUp != billing.Credits(90000) {
		t.Fatalf("top-up %s, want 90,000", r.TopUp)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func ptr[T any](v T) *T { return &v }

func TestPlanChange_RefusalsSayWhatToDo(t *testing.T) {
	f := newPlanFixture(t, "starter")
	onlyErr := func(_ any, err error) error { return err }
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"downgrade through checkout", func() error {
			_, _, err := f.Svc.StartPlanCheckout(ctx, f.Org, "free", f.Admin, billing.ProviderDemo)
			return err
		}(), billing.EINVALID},
		{"downgrade to a bigger plan", onlyErr(f.Svc.ScheduleDowngrade(ctx, f.Org, "pro", f.Admin)), billing.EINVALID},
		{"enterprise from the page", onlyErr(f.Svc.QuotePlanChange(ctx, f.Org, "enterprise")), billing.EINVALID},
		{"unknown plan", onlyErr(f.Svc.QuotePlanChange(ctx, f.Org, "gold")), billing.ENOTFOUND},
		{"cancel with nothing pending", f.Svc.CancelPlanChange(ctx, f.Org, f.Admin), billing.ENOTFOUND},
		{"enterprise without credits", onlyErr(f.Svc.SetPlan(ctx, f.Org, "enterprise", nil, true)), billing.EINVALID},
		{"credits for a standard plan", onlyErr(f.Svc.SetPlan(ctx, f.Org, "pro", ptr(billing.Credits(5)), true)), billing.EINVALID},
	}
	for _, c := range cases {
		if billing.ErrorCode(c.err) != c.code || billing.ErrorMessage(c.err) == "Internal error." {
			t.Errorf("%s: %v, want %s with a message", c.name, c.err, c.code)
		}
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}
