package identity_test

import (
	"fmt"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestOrgAdmins_ListsAdminsOnly(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.NewMember(t, "member@example.com", "Mem")
	admins, err := f.Identity.OrgAdmins(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if len(admins) != 1 || admins[0].UserID != f.Admin {
		t.Fatalf("admins = %+v, want the one admin", admins)
	}
}

func TestRemoveMember_TwoAdminsRemovingEachOtherLeaveOne(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		f := billingtest.NewFixture(t, "free")
		second := f.NewMember(t, fmt.Sprintf("second%d@example.com", round), "Second")
		if err := f.Identity.AddMember(ctx, f.Org, second.ID, identity.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, victim := range []string{f.Admin, second.ID} {
			go func() {
				<-start
				errs <- f.Identity.RemoveMember(ctx, f.Org, victim)
			}()
		}
		close(start)
		ok, conflict := 0, 0
		for range 2 {
			switch err := <-errs; billing.ErrorCode(err) {
			case "":
				ok++
			case billing.ECONFLICT:
				conflict++
			default:
				t.Fatalf("remove: %v", err)
			}
		}
		admins, err := f.Identity.OrgAdmins(ctx, f.Org)
		if err != nil {
			t.Fatal(err)
		}
		if ok != 1 || conflict != 1 || len(admins) != 1 {
			t.Fatalf("round %d: %d removed, %d refused, %d admins left; want 1, 1, 1", round, ok, conflict, len(admins))
		}
	}
}

func TestMembers_ListsAdminsFirst(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.NewMember(t, "aaron@example.com", "Aaron")
	ms, err := f.Identity.Members(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].UserID != f.Admin || !ms[0].IsAdmin() || ms[1].Email != "aaron@example.com" || ms[1].IsAdmin() {
		t.Fatalf("members = %+v, want the admin, then Aaron", ms)
	}
	if err := f.Identity.RemoveMember(ctx, f.Org, "usr_nobody"); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("removing a stranger: %v, want ENOTFOUND", err)
	}
}
