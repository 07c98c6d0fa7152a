package billing_test

import (
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

func TestSetMonthlyLimit_PausesAndResumesAtOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.Record(t, billing.UsageEvent{ID: "e1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 100})
	limit := billing.Credits(100)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &limit); err != nil {
		t.Fatal(err)
	}
	if cs := f.CreditSummary(t); !cs.Paused || cs.PauseReason != billing.ReasonMonthlyLimitReached {
		t.Fatalf("at the limit: paused %v %q", cs.Paused, cs.PauseReason)
	}
	raised := billing.Credits(200)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &raised); err != nil {
		t.Fatal(err)
	}
	if cs := f.CreditSummary(t); cs.Paused {
		t.Fatalf("raised limit still paused: %q", cs.PauseReason)
	}
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, nil); err != nil {
		t.Fatal(err)
	}
	if cs := f.CreditSummary(t); cs.MonthlyLimit != nil {
		t.Errorf("limit %v after removing it", *cs.MonthlyLimit)
	}
}

func TestSetLimit_RefusesNonsense(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	for _, v := range []billing.Millicredits{0, -5, billing.MaxLimit + 1} {
		if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &v); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("org limit %d: %v, want EINVALID", v, err)
		}
		if err := f.Svc.SetMemberLimit(ctx, f.Org, f.Admin, &v); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("member limit %d: %v, want EINVALID", v, err)
		}
	}
	ok := billing.Credits(10)
	if err := f.Svc.SetMemberLimit(ctx, f.Org, "usr_elsewhere", &ok); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("limit for a non-member: %v, want ENOTFOUND", err)
	}
}
