package billing_test

import (
	"fmt"
	"sync"
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

// Authorize requests that queue behind a read in flight are answered by one shared read: each
// gets its own org's account and its own user's membership, in any order and mix, and an unknown
// org only fails its own request.
func TestAuthorize_ASharedReadAnswersEachRequestWithItsOwnOrg(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	other, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Other Org", PlanCode: "pro"}, f.Admin)
	if err != nil {
		t.Fatal(err)
	}
	member := f.NewMember(t, "member@example.com", "Member") // of f.Org only
	f.Record(t, billingtest.Event("email", "", 150))
	reqs := []billing.AuthorizeRead{
		{Org: other, User: f.Admin}, {Org: f.Org, User: member.ID}, {Org: "org_missing", User: f.Admin},
		{Org: other, User: member.ID}, {Org: f.Org, User: f.Admin}, {Org: other, User: f.Admin},
	}
	billing.ReadAuthorizeTogether(f.Svc, reqs)
	freeBalance, proBalance := billing.Credits(850), billing.Credits(100000)
	want := []struct {
		balance  billing.Millicredits
		isMember bool
	}{{proBalance, true}, {freeBalance, true}, {}, {proBalance, false}, {freeBalance, true}, {proBalance, true}}
	for i, r := range reqs {
		if r.Org == "org_missing" {
			if billing.ErrorCode(r.Err) != billing.ENOTFOUND {
				t.Errorf("request %d (unknown org): %v, want ENOTFOUND", i, r.Err)
			}
			continue
		}
		if r.Err != nil || r.Balance != want[i].balance || r.IsMember != want[i].isMember {
			t.Errorf("request %d (%s, %s): balance %v, member %v, err %v; want balance %v, member %v",
				i, r.Org, r.User, r.Balance, r.IsMember, r.Err, want[i].balance, want[i].isMember)
		}
	}

	// Through Authorize, from many goroutines at once: every answer is its own org's.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			org, balance := f.Org, freeBalance
			if g%2 == 1 {
				org, balance = other, proBalance
			}
			a, err := f.Svc.Authorize(ctx, org, f.Admin, billing.AuthorizeRequest{FlowID: "flow_1", ExecutionID: fmt.Sprint("exec_", g)})
			if err != nil {
				errs <- err
			} else if a.Balance != balance {
				errs <- fmt.Errorf("goroutine %d (%s): balance %v, want %v", g, org, a.Balance, balance)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
