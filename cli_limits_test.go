package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// lux limits against the real API: an admin's key shows and sets the organization's and a
// member's limits; a member's key shows its own and is refused changes.
func TestCLI_LimitsShowAndSet(t *testing.T) {
	t.Parallel()
	ts := webtest.New(t, webtest.Options{Clock: billingtest.NewClock(time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC))})
	ctx := context.Background()
	ada, org, err := ts.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := ts.Identity.CreateUser(ctx, identity.NewUser{Email: "dev@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Identity.AddMember(ctx, org, dev.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	adminKey, _, err := ts.Identity.CreateAPIKey(ctx, org, ada.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	devKey, _, err := ts.Identity.CreateAPIKey(ctx, org, dev.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Billing.RecordUsage(ctx, org, dev.ID, []billing.UsageEvent{{ID: "e1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 30}}); err != nil {
		t.Fatal(err)
	}
	admin := map[string]string{"LUX_API_URL": ts.URL, "LUX_API_KEY": adminKey}
	member := map[string]string{"LUX_API_URL": ts.URL, "LUX_API_KEY": devKey}
	wantOut := func(out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}

	out, errOut, code := runLux(t, admin, "limits")
	if code != 0 {
		t.Fatalf("lux limits: exit %d: %s", code, errOut)
	}
	wantOut(out, "Monthly limit      none", "Alerts at          50%, 80%, 100% of the monthly limit", "Low-balance alert  none",
		"Used this cycle    30 credits", "ada@example.com", "dev@example.com")

	// Set everything; a limit below what is used is saved with a warning.
	out, errOut, code = runLux(t, admin, "limits", "--monthly-limit", "25", "--thresholds", "90, 50", "--low-balance", "1,500.5")
	if code != 0 {
		t.Fatalf("set: exit %d: %s", code, errOut)
	}
	wantOut(out, "✓ Limits saved.", "! 30 credits are already used this cycle", "Monthly limit      25 credits", "Alerts at          50%, 90% of the monthly limit", "Low-balance alert  1,500.5 credits")
	out, errOut, code = runLux(t, admin, "limits", "--member", "dev@example.com", "--member-limit", "20")
	if code != 0 {
		t.Fatalf("member limit: exit %d: %s", code, errOut)
	}
	wantOut(out, "! This member already used 30 credits")
	var got api.Limits
	out, _, code = runLux(t, admin, "limits", "--json")
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("--json: exit %d, %v: %s", code, err, out)
	}
	if got.MonthlyLimit == nil || *got.MonthlyLimit != billing.Credits(25) || len(got.Members) != 2 || got.Members[1].MonthlyLimit == nil || *got.Members[1].MonthlyLimit != billing.Credits(20) {
		t.Errorf("--json after the changes: %s", out)
	}
	if _, _, code = runLux(t, admin, "limits", "--monthly-limit", "none", "--member", dev.ID, "--member-limit", "none"); code != 0 {
		t.Fatalf("clearing: exit %d", code)
	}
	out, _, _ = runLux(t, admin, "limits")
	wantOut(out, "Monthly limit      none")
	if strings.Contains(out, "20 credits") {
		t.Errorf("the member limit is still shown:\n%s", out)
	}

	// The server's 400 is shown with the field it names.
	_, errOut, code = runLux(t, admin, "limits", "--thresholds", "50,120")
	if code == 0 || !strings.Contains(errOut, "thresholds: 120% is over 100") {
		t.Errorf("threshold over 100: exit %d, %s", code, errOut)
	}
	// A member's key: its own row, and no changes.
	out, errOut, code = runLux(t, member, "limits")
	if code != 0 || strings.Contains(out, "ada@example.com") || !strings.Contains(out, "dev@example.com") {
		t.Errorf("member's lux limits: exit %d %s\n%s", code, errOut, out)
	}
	_, errOut, code = runLux(t, member, "limits", "--monthly-limit", "5")
	if code != 1 || !strings.Contains(errOut, "admin's API key") {
		t.Errorf("member setting a limit: exit %d, %s", code, errOut)
	}
}
