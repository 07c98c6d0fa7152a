package identity_test

import (
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestAPIKeys_AdminSeesAllMemberSeesOwn(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	u := f.NewMember(t, "member@example.com", "Mem")
	admin, _ := f.Identity.FindMembership(ctx, f.Org, f.Admin)
	member, _ := f.Identity.FindMembership(ctx, f.Org, u.ID)

	secret, adminKey, err := f.Identity.CreateAPIKey(ctx, admin.OrgID, admin.UserID, "  CI  ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, identity.APIKeyPrefix) {
		t.Fatalf("secret %q lacks the prefix", secret)
	}
	_, memberKey, err := f.Identity.CreateAPIKey(ctx, member.OrgID, member.UserID, "")
	if err != nil {
		t.Fatal(err)
	}

	all, err := f.Identity.APIKeys(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != memberKey || all[0].Name != "API key" || all[1].Name != "CI" {
		t.Fatalf("admin's list = %+v, want both keys, newest first", all)
	}
	if !strings.HasPrefix(secret, all[1].Prefix) {
		t.Fatalf("prefix %q does not start the secret", all[1].Prefix)
	}
	own, err := f.Identity.APIKeys(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	if len(own) != 1 || own[0].ID != memberKey {
		t.Fatalf("member's list = %+v, want their own key only", own)
	}

	if err := f.Identity.RevokeAPIKey(ctx, member, adminKey); billing.ErrorCode(err) != billing.EFORBIDDEN {
		t.Fatalf("member revoking the admin's key: err = %v, want EFORBIDDEN", err)
	}
	if err := f.Identity.RevokeAPIKey(ctx, member, memberKey); err != nil {
		t.Fatalf("member revoking their own key: %v", err)
	}
	if err := f.Identity.RevokeAPIKey(ctx, admin, memberKey); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("revoking twice: err = %v, want ENOTFOUND", err)
	}
	if _, err := f.Identity.AuthenticateKey(ctx, secret); err != nil {
		t.Fatalf("the admin's key stopped working: %v", err)
	}
	if err := f.Identity.RevokeAPIKey(ctx, admin, adminKey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Identity.AuthenticateKey(ctx, secret); billing.ErrorCode(err) != billing.EUNAUTHORIZED {
		t.Fatalf("revoked key: err = %v, want EUNAUTHORIZED", err)
	}
	all, _ = f.Identity.APIKeys(ctx, admin)
	if len(all) != 2 || all[0].RevokedAt == nil || all[1].RevokedAt == nil {
		t.Fatalf("after revoking both: %+v", all)
	}
}

func TestAPIKeys_OtherOrgsKeyCannotBeRevoked(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	u, _ := f.Identity.CreateUser(ctx, identity.NewUser{Email: "b@example.com", Password: "correct horse"})
	other, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Other"}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	otherAdmin, _ := f.Identity.FindMembership(ctx, other, u.ID)
	_, key, err := f.Identity.CreateAPIKey(ctx, otherAdmin.OrgID, otherAdmin.UserID, "theirs")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := f.Identity.FindMembership(ctx, f.Org, f.Admin)
	if err := f.Identity.RevokeAPIKey(ctx, admin, key); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("revoking another org's key: err = %v, want ENOTFOUND", err)
	}
	if keys, _ := f.Identity.APIKeys(ctx, admin); len(keys) != 0 {
		t.Fatalf("another org's keys listed: %+v", keys)
	}
	if _, _, err := f.Identity.CreateAPIKey(ctx, admin.OrgID, admin.UserID, strings.Repeat("x", 101)); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("long name: err = %v, want EINVALID", err)
	}
}
