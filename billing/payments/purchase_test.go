package payments_test

import (
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

func TestStartPurchase_MemberIsForbiddenAndNothingIsCreated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	if _, err := f.pay.StartPurchase(ctx, f.org, f.member, 5000); billing.ErrorCode(err) != billing.EFORBIDDEN {
		t.Fatalf("member: err = %v, want EFORBIDDEN", err)
	}
	if n := f.count(t, `SELECT count(*) FROM purchases`); n != 0 {
		t.Fatalf("%d purchases, want none", n)
	}
}

func TestParseAmount_PacksAndCustomAmounts(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int64
	}{{"1000", 1000}, {"5,000", 5000}, {" 50000 ", 50000}, {"100", 100}, {"1000000", 1_000_000}, {"1,000,000", 1_000_000}} {
		got, err := payments.ParseAmount(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "99", "1000001", "12.5", "-500", "abc", "1e4", "0"} {
		if _, err := payments.ParseAmount(in); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("ParseAmount(%q): err = %v, want EINVALID", in, err)
		}
	}
}

func TestStartPurchase_PriceFromConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.pay = payments.New(f.core, f.ids, payments.Config{UnitPrice: 3})
	p := f.buy(t, 1234)
	if p.Price != 3702 || p.UnitPrice != 3 || p.Currency != "usd" {
		t.Fatalf("1,234 credits at 3 cents: %+v", p)
	}
	if p.CheckoutURL != payments.DemoCheckoutPath(p.ID) {
		t.Fatalf("demo checkout URL = %q", p.CheckoutURL)
	}
	if _, err := f.pay.StartPurchase(ctx, f.org, f.admin, 99); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("99 credits: err = %v, want EINVALID", err)
	}
}

func TestDemoPay_GrantsThroughFulfilmentOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	p := f.buy(t, 5000)
	before := f.balance(t)
	if _, err := f.pay.PayDemo(ctx, f.org, p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.pay.PayDemo(ctx, f.org, p.ID); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("second Pay: err = %v, want ECONFLICT (already paid)", err)
	}
	if got := f.balance(t) - before; got != billing.Credits(5000) {
		t.Fatalf("balance rose by %s, want 5,000", got)
	}
	// The confirmation of the same demo event again changes nothing.
	granted, err := f.pay.Fulfil(ctx, payments.Confirmation{EventID: "demo_evt_" + p.ID, Provider: payments.ProviderDemo, PurchaseID: p.ID, Outcome: payments.Paid})
	if err != nil || granted {
		t.Fatalf("replayed demo confirmation: granted=%v err=%v", granted, err)
	}
	if n := f.grants(t); n != 1 {
		t.Fatalf("%d grants, want 1", n)
	}
}

func TestCancel_CancelledCheckoutGrantsNothingButALatePaymentStillCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	p := f.buy(t, 1000)
	got, err := f.pay.Cancel(ctx, f.org, p.ID)
	if err != nil || got.Status != payments.StatusCancelled {
		t.Fatalf("Cancel: %+v %v", got, err)
	}
	if _, err := f.pay.PayDemo(ctx, f.org, p.ID); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("paying a cancelled demo checkout: err = %v, want ECONFLICT", err)
	}
	if n := f.grants(t); n != 0 {
		t.Fatalf("a cancelled checkout granted %d", n)
	}
	// Money the provider did take is never kept without credits.
	if !f.paid(t, p) {
		t.Fatalf("a payment confirmed after cancelling must grant")
	}
}

func TestFulfil_PausedOrgResumesAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.use(t, 1500) // 1,000 from the allotment, 500 in arrears
	auth := func() *billing.Authorization {
		a, err := f.core.Authorize(ctx, f.org, f.admin, billing.AuthorizeRequest{FlowID: "flow_1", ExecutionID: "exec_2"})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := auth(); a.Allowed {
		t.Fatalf("an org in arrears must be paused")
	}
	f.paid(t, f.buy(t, 1000))
	if a := auth(); !a.Allowed {
		t.Fatalf("after the purchase the org must resume at once: %+v", a)
	}
	cs, _ := f.core.CreditSummary(ctx, f.org)
	if cs.Arrears != 0 || cs.Balance != billing.Credits(500) || cs.Purchased != billing.Credits(500) {
		t.Fatalf("arrears %s, balance %s, purchased %s; want 0, 500, 500", cs.Arrears, cs.Balance, cs.Purchased)
	}
}

func TestPurchases_ListsNewestFirstWithRemainders(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	a := f.buy(t, 1000)
	f.paid(t, a)
	f.clock.Advance(time.Second)
	b := f.buy(t, 5000)
	lines, err := f.pay.Purchases(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].ID != b.ID || lines[1].ID != a.ID {
		t.Fatalf("purchases = %+v", lines)
	}
	if lines[1].Remaining != billing.Credits(1000) || !lines[1].Quote.Eligible || lines[1].Quote.Amount != 1000 {
		t.Fatalf("paid line = %+v", lines[1])
	}
	if lines[0].Quote.Eligible {
		t.Fatalf("a pending purchase cannot be refunded")
	}
}
