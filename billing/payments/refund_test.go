package payments_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

func TestRefund_AfterPartialUseOnlyTheUsedPartStaysPaid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 5000)
	f.paid(t, p)
	f.use(t, 1000+1200) // the allotment first, then 1,200 of the purchase
	_, q, err := f.pay.QuoteRefund(ctx, f.org, p.ID)
	if err != nil || !q.Eligible || q.Credits != billing.Credits(3800) || q.Amount != 3800 {
		t.Fatalf("quote = %+v, %v; want 3,800 credits for $38.00", q, err)
	}
	r, err := f.pay.Refund(ctx, f.org, p.ID, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if r.Credits != billing.Credits(3800) || r.Amount != 3800 || r.ProviderID == "" {
		t.Fatalf("refund = %+v", r)
	}
	// What stays paid is exactly what was used: 1,200 credits for $12.00.
	if kept := p.Price - r.Amount; kept != 1200 {
		t.Fatalf("kept %d cents, want 1200", kept)
	}
	if b := f.balance(t); b != 0 {
		t.Fatalf("balance %s, want 0 after the refund", b)
	}
	if n := f.count(t, `SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND kind = 'refund' AND amount_mc = -3800000`, f.org); n != 1 {
		t.Fatalf("want one refund entry of -3,800 credits")
	}
	// A second refund has nothing left to give.
	if _, err := f.pay.Refund(ctx, f.org, p.ID, f.admin); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("second refund: err = %v, want ECONFLICT", err)
	}
}

func TestRefund_ProRataRoundsToTheNearestCent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		price          billing.Cents
		unused, bought billing.Millicredits
		want           billing.Cents
	}{
		{5000, billing.Credits(3800), billing.Credits(5000), 3800},
		{5000, 3_800_499, billing.Credits(5000), 3800},
		{5000, 3_800_500, billing.Credits(5000), 3801},
		{3, 1, billing.Credits(1), 0},
		{15000, billing.Credits(1000), billing.Credits(1000), 15000},
		{100, 0, billing.Credits(100), 0},
	} {
		if got := payments.ProRata(c.price, c.unused, c.bought); got != c.want {
			t.Errorf("ProRata(%d, %d, %d) = %d, want %d", c.price, c.unused, c.bought, got, c.want)
		}
	}
}

func TestRefund_RefusedWhenFullyUsedOrPendingOrElsewhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	used := f.buy(t, 100)
	f.paid(t, used)
	f.use(t, 1000+100)
	if _, err := f.pay.Refund(ctx, f.org, used.ID, f.admin); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("fully used: err = %v, want ECONFLICT", err)
	}
	pending := f.buy(t, 100)
	if _, err := f.pay.Refund(ctx, f.org, pending.ID, f.admin); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("pending: err = %v, want ECONFLICT", err)
	}
	other, err := f.ids.CreateOrg(ctx, billing.NewOrg{Name: "Other Org", PlanCode: "free"}, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pay.Refund(ctx, other, used.ID, f.admin); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("another org's purchase: err = %v, want ENOTFOUND", err)
	}
	if n := f.count(t, `SELECT count(*) FROM refunds`); n != 0 {
		t.Fatalf("%d refunds recorded, want none", n)
	}
}

func TestRefund_Day31IsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	late, onTime := f.buy(t, 1000), f.buy(t, 1000)
	f.paid(t, late)
	f.paid(t, onTime)
	f.clock.Advance(29 * 24 * time.Hour)
	if _, err := f.pay.Refund(ctx, f.org, onTime.ID, f.admin); err != nil {
		t.Fatalf("day 30: %v", err)
	}
	f.clock.Advance(2 * 24 * time.Hour)
	_, err := f.pay.Refund(ctx, f.org, late.ID, f.admin)
	if billing.ErrorCode(err) != billing.ECONFLICT || !contains(billing.ErrorMessage(err), "within 30 days") {
		t.Fatalf("day 31: err = %v, want ECONFLICT about 30 days", err)
	}
}

func TestRefund_RacingUsageNeverSpendsAndRefundsTheSameCredit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 2000)
	f.paid(t, p)
	f.use(t, 1000) // the allotment is gone: usage now draws on the purchase
	var wg sync.WaitGroup
	var refund *payments.Refund
	var refundErr error
	start := make(chan struct{})
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.core.RecordUsage(ctx, f.org, f.admin, []billing.UsageEvent{{
				ID: fmt.Sprintf("race_%d", i), FlowID: "flow_1", ExecutionID: "exec_race", Type: billing.TypeEmail, Quantity: 75}})
			if err != nil {
				t.Errorf("usage %d: %v", i, err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		refund, refundErr = f.pay.Refund(ctx, f.org, p.ID, f.admin)
	}()
	close(start)
	wg.Wait()
	if refundErr != nil {
		t.Fatalf("refund: %v", refundErr)
	}
	// Whatever the order, the purchase's 2,000 credits are split between usage it paid for and
	// the refund, never both: spent from the grant + refunded = 2,000 exactly.
	var spent billing.Millicredits
	if err := f.db.Get(&spent, `SELECT COALESCE(sum(a.amount_mc), 0) FROM allocations a JOIN ledger_entries e ON e.id = a.entry_id
		WHERE a.grant_id = $1 AND e.kind = 'usage'`, *mustPurchase(t, f, p.ID).GrantID); err != nil {
		t.Fatal(err)
	}
	if spent+refund.Credits != billing.Credits(2000) {
		t.Fatalf("spent %s + refunded %s ≠ 2,000", spent, refund.Credits)
	}
	if kept := p.Price - refund.Amount; billing.Credits(int64(kept)) != spent {
		t.Fatalf("kept %d cents for %s credits used", kept, spent)
	}
	// Usage after the refund went into arrears, not into the refunded credits.
	cs, _ := f.core.CreditSummary(ctx, f.org)
	if cs.Balance != -cs.Arrears || cs.Purchased != 0 {
		t.Fatalf("after the race: balance %s, arrears %s, purchased %s", cs.Balance, cs.Arrears, cs.Purchased)
	}
}

func mustPurchase(t *testing.T, f *fixture, id string) *payments.Purchase {
	t.Helper()
	p, err := f.pay.FindPurchase(ctx, f.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
