package identity_test

import (
	"testing"

	"github.com/luxstudio/lux-billing/billing/billingtest"
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
