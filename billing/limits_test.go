package billing_test

import (
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
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

func TestMemberStanding_LimitAndUsage(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	m, err := f.Svc.MemberStanding(ctx, f.Org, f.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if m.Limit != nil || m.Used != 0 || m.Paused() || m.Role != identity.RoleAdmin {
		t.Fatalf("fresh standing = %+v, want no limit, nothing used", m)
	}
	limit := billing.Credits(3)
	if err := f.Svc.SetMemberLimit(ctx, f.Org, f.Admin, &limit); err != nil {
		t.Fatal(err)
	}
	f.Record(t, billingtest.Event(billing.TypeEmail, "", 3))
	m, err = f.Svc.MemberStanding(ctx, f.Org, f.Admin)
	if err != nil {
		t.Fatal(err)
	}
	if m.Used != billing.Credits(3) || m.Limit == nil || *m.Limit != billing.Credits(3) || !m.Paused() {
		t.Fatalf("standing = %+v, want 3 of 3 used and paused", m)
	}
	if !m.CycleStart.Equal(billingtest.T0.Truncate(time.Second)) || !m.CycleEnd.After(m.CycleStart) {
		t.Fatalf("cycle = %v – %v", m.CycleStart, m.CycleEnd)
	}
	if _, err := f.Svc.MemberStanding(ctx, f.Org, "usr_nobody"); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("non-member: err = %v, want ENOTFOUND", err)
	}
}
