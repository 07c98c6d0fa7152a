package billing_test

import (
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// Authorize reads the account and the member in one statement; after the cycle has ended it
// rolls the account over first and reads the member's usage in the new cycle.
func TestAuthorize_AcrossACycleEndAndForANonMember(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	member := f.NewMember(t, "member@example.com", "Member")
	limit := billing.Credits(100)
	if err := f.Svc.SetMemberLimit(ctx, f.Org, member.ID, &limit); err != nil {
		t.Fatal(err)
	}
	e := billingtest.Event("email", "", 150)
	e.UserID = member.ID
	f.Record(t, e)
	authorize := func(user string) (*billing.Authorization, error) {
		return f.Svc.Authorize(ctx, f.Org, f.Admin, billing.AuthorizeRequest{FlowID: "flow_1", ExecutionID: "exec_1", UserID: user})
	}
	a, err := authorize(member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Allowed || a.Reason != billing.ReasonMemberLimitReached || a.MemberUsed != billing.Credits(150) || a.Balance != billing.Credits(850) {
		t.Fatalf("member over their limit: %+v", a)
	}
	if _, err := authorize("usr_nobody"); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("a user who is not a member: %v, want EINVALID", err)
	}

	f.Clock.Advance(32 * 24 * time.Hour) // past the cycle's end: a new cycle, a new allotment
	a, err = authorize(member.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Allowed || a.MemberUsed != 0 || a.CycleUsed != 0 || a.Balance != billing.Credits(1000) {
		t.Errorf("new cycle: %+v, want allowed with nothing used and the new allotment", a)
	}
	if _, err := authorize("usr_nobody"); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("a user who is not a member, after the rollover: %v, want EINVALID", err)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}
