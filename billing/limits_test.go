package billing_test

import (
	"testing"

	"github.com/luxstudio/lux-billing/billing"
)

func TestSetMonthlyLimit_PausesAndResumesAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "free")
	f.record(t, billing.UsageEvent{ID: "e1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 100})
	limit := billing.Credits(100)
	if err := f.svc.SetMonthlyLimit(ctx, f.org, &limit); err != nil {
		t.Fatal(err)
	}
	if cs := f.credits(t); !cs.Paused || cs.PauseReason != billing.ReasonMonthlyLimitReached {
		t.Fatalf("at the limit: paused %v %q", cs.Paused, cs.PauseReason)
	}
	raised := billing.Credits(200)
	if err := f.svc.SetMonthlyLimit(ctx, f.org, &raised); err != nil {
		t.Fatal(err)
	}
	if cs := f.credits(t); cs.Paused {
		t.Fatalf("raised limit still paused: %q", cs.PauseReason)
	}
	if err := f.svc.SetMonthlyLimit(ctx, f.org, nil); err != nil {
		t.Fatal(err)
	}
	if cs := f.credits(t); cs.MonthlyLimit != nil {
		t.Errorf("limit %v after removing it", *cs.MonthlyLimit)
	}
}

func TestSetLimit_RefusesNonsense(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "free")
	for _, v := range []billing.Millicredits{0, -5, billing.MaxLimit + 1} {
		if err := f.svc.SetMonthlyLimit(ctx, f.org, &v); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("org limit %d: %v, want EINVALID", v, err)
		}
		if err := f.svc.SetMemberLimit(ctx, f.org, f.admin, &v); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("member limit %d: %v, want EINVALID", v, err)
		}
	}
	ok := billing.Credits(10)
	if err := f.svc.SetMemberLimit(ctx, f.org, "usr_elsewhere", &ok); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("limit for a non-member: %v, want ENOTFOUND", err)
	}
}
