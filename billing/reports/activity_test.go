package reports_test

import (
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

func TestRecentActivity_NewestFirstAndFiltered(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.Clock.Advance(time.Hour)
	f.Record(t, billingtest.Event(billing.TypeEmail, "", 3))
	f.Clock.Advance(time.Hour)
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(500), nil, "ref_1", ""); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(time.Hour)
	f.Record(t, billingtest.Event(billing.TypeSMS, "", 1))

	all, err := f.Reports.RecentActivity(ctx, f.Org, reports.ActivityAll, 10)
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

	usage, err := f.Reports.RecentActivity(ctx, f.Org, reports.ActivityUsage, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 1 || usage[0].Kind != "usage" || usage[0].Amount != -billing.Credits(2) {
		t.Fatalf("usage activity = %+v, want the last SMS only", usage)
	}
	credits, err := f.Reports.RecentActivity(ctx, f.Org, reports.ActivityCredits, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(credits) != 2 || credits[0].GrantKind != billing.GrantPurchase || credits[1].GrantKind != billing.GrantPlanAllotment {
		t.Fatalf("credit activity = %+v, want the purchase then the allotment", credits)
	}
	if _, err := f.Reports.RecentActivity(ctx, f.Org, "bogus", 10); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("unknown filter: err = %v, want EINVALID", err)
	}
}

func TestRecentActivity_OtherOrgIsInvisible(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	u, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: "b@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Other", PlanCode: "pro"}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Record(t, billingtest.Event(billing.TypeEmail, "", 1))
	acts, err := f.Reports.RecentActivity(ctx, other, reports.ActivityAll, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) != 1 || acts[0].Amount != billing.Credits(100000) {
		t.Fatalf("other org's activity = %+v, want only its own allotment", acts)
	}
}
