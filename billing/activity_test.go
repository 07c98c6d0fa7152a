package billing_test

import (
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

func TestRecentActivity_NewestFirstAndFiltered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "free")
	f.clock.Advance(time.Hour)
	f.record(t, ev(billing.TypeEmail, "", 3))
	f.clock.Advance(time.Hour)
	if _, err := f.svc.GrantCredits(ctx, f.org, billing.GrantPurchase, billing.Credits(500), nil, "ref_1", ""); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	f.record(t, ev(billing.TypeSMS, "", 1))

	all, err := f.svc.RecentActivity(ctx, f.org, billing.ActivityAll, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range all {
		got = append(got, a.Label()+" "+a.Amount.String())
	}
	want := []string{"Usage -2", "Purchased credits 500", "Usage -3", "Plan allotment 1,000"}
	if len(got) != len(want) {
		t.Fatalf("activity = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("activity = %q, want %q", got, want)
		}
	}

	usage, err := f.svc.RecentActivity(ctx, f.org, billing.ActivityUsage, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 1 || usage[0].Kind != "usage" || usage[0].Amount != -billing.Credits(2) {
		t.Fatalf("usage activity = %+v, want the last SMS only", usage)
	}
	credits, err := f.svc.RecentActivity(ctx, f.org, billing.ActivityCredits, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(credits) != 2 || credits[0].GrantKind != billing.GrantPurchase || credits[1].GrantKind != billing.GrantPlanAllotment {
		t.Fatalf("credit activity = %+v, want the purchase then the allotment", credits)
	}
	if _, err := f.svc.RecentActivity(ctx, f.org, "bogus", 10); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("unknown filter: err = %v, want EINVALID", err)
	}
}

func TestRecentActivity_OtherOrgIsInvisible(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "free")
	u, err := f.svc.CreateUser(ctx, billing.NewUser{Email: "b@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.CreateOrg(ctx, billing.NewOrg{Name: "Other", PlanCode: "pro"}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.record(t, ev(billing.TypeEmail, "", 1))
	acts, err := f.svc.RecentActivity(ctx, other, billing.ActivityAll, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || acts[0].Amount != billing.Credits(100000) {
		t.Fatalf("other org's activity = %+v, want only its own allotment", acts)
	}
}

func TestMemberStanding_LimitAndUsage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "pro")
	m, err := f.svc.MemberStanding(ctx, f.org, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if m.Limit != nil || m.Used != 0 || m.Paused() || m.Role != billing.RoleAdmin {
		t.Fatalf("fresh standing = %+v, want no limit, nothing used", m)
	}
	if _, err := f.db.Exec(`UPDATE memberships SET monthly_limit_mc = 3000 WHERE org_id = $1 AND user_id = $2`, f.org, f.admin); err != nil {
		t.Fatal(err)
	}
	f.record(t, ev(billing.TypeEmail, "", 3))
	m, err = f.svc.MemberStanding(ctx, f.org, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	if m.Used != billing.Credits(3) || m.Limit == nil || *m.Limit != billing.Credits(3) || !m.Paused() {
		t.Fatalf("standing = %+v, want 3 of 3 used and paused", m)
	}
	if !m.CycleStart.Equal(t0.Truncate(time.Second)) || !m.CycleEnd.After(m.CycleStart) {
		t.Fatalf("cycle = %v – %v", m.CycleStart, m.CycleEnd)
	}
	if _, err := f.svc.MemberStanding(ctx, f.org, "usr_nobody"); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Fatalf("non-member: err = %v, want ENOTFOUND", err)
	}
}

func TestOrgAdmins_ListsAdminsOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "free")
	u, err := f.svc.CreateUser(ctx, billing.NewUser{Email: "member@example.com", Name: "Mem", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AddMember(ctx, f.org, u.ID, billing.RoleMember); err != nil {
		t.Fatal(err)
	}
	admins, err := f.svc.OrgAdmins(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if len(admins) != 1 || admins[0].UserID != f.admin {
		t.Fatalf("admins = %+v, want the one admin", admins)
	}
}
