package main

import (
	"context"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestCLI_OrgSetPlanEnterpriseNextCycleOrNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dsn := billingtest.NewDB(t)
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	_, org, err := identity.New(svc).SignUp(ctx, identity.NewUser{Email: "ops@example.com", Password: "correct horse"}, "Big Co")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn}

	_, errOut, code := runLux(t, env, "org", "set-plan", "--org", org, "--plan", "enterprise")
	if code != 1 || !strings.Contains(errOut, "--credits") {
		t.Fatalf("enterprise without --credits: exit %d, stderr %q", code, errOut)
	}
	out, errOut, code := runLux(t, env, "org", "set-plan", "--org", org, "--plan", "enterprise", "--credits", "250000")
	if code != 0 || !strings.Contains(out, "to Enterprise (250,000 credits a month) at its next cycle start") {
		t.Fatalf("next cycle: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if st, _ := svc.PlanStatus(ctx, org); st.Plan.Code != "free" || st.Pending == nil || st.Pending.ToPlan != "enterprise" {
		t.Fatalf("after set-plan without --now: %+v", st)
	}
	out, errOut, code = runLux(t, env, "org", "set-plan", "--org", org, "--plan", "enterprise", "--credits", "250,000", "--now")
	if code != 0 || !strings.Contains(out, "is on Enterprise now (250,000 credits a month); this cycle's allotment got 249,000 credits more (250,000 in all)") {
		t.Fatalf("--now: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	cs, err := svc.CreditSummary(ctx, org)
	if err != nil || cs.Allotment != billing.Credits(250000) || cs.Plan.Code != "enterprise" {
		t.Fatalf("credits after --now: %+v, %v", cs, err)
	}
	if _, errOut, code := runLux(t, env, "org", "set-plan", "--org", "org_nope", "--plan", "pro"); code != 1 || !strings.Contains(errOut, "organization not found") {
		t.Fatalf("unknown org: exit %d, stderr %q", code, errOut)
	}
	billingtest.AssertLedger(t, db, org)
}
