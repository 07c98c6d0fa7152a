package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// An admin on Free upgrades to Starter in demo mode and sees 10,000 credits of allotment,
// then schedules a downgrade and cancels it.
func TestPlans_UpgradeInDemoModeThenDowngradeAndCancel(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	_, org, err := a.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Name: "Ada Lovelace", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	tb.open("/settings/billing/plans")
	if got := tb.text(testID("summary-allotment")); got != "1,000 credits" {
		t.Fatalf("allotment on Free: %q", got)
	}
	tb.do(chromedp.Click(testID("upgrade-starter")))
	tb.wait(testID("pay-plan"))
	if body := tb.body(); !strings.Contains(body, "no card is charged") {
		t.Fatalf("the demo checkout does not say no card is charged:\n%s", body)
	}
	tb.do(chromedp.Click(testID("pay-plan")))
	tb.wait(testID("plans-page"))
	if got := tb.text(testID("summary-allotment")); got != "10,000 credits" {
		t.Fatalf("allotment after upgrading to Starter: %q, want 10,000 credits", got)
	}
	if got := tb.text(testID("summary-plan")); got != "Starter" {
		t.Fatalf("plan after the upgrade: %q", got)
	}
	tb.open("/settings/billing")
	if body := tb.body(); !strings.Contains(body, "10,000") {
		t.Fatalf("the overview does not show the 10,000 allotment:\n%s", body)
	}

	tb.open("/settings/billing/plans")
	tb.do(chromedp.Click(testID("downgrade-free")))
	if got := tb.text(testID("pending-change")); !strings.Contains(got, "Changing to Free on") {
		t.Fatalf("pending downgrade: %q", got)
	}
	tb.do(chromedp.Click(testID("cancel-downgrade")))
	tb.do(chromedp.WaitNotPresent(testID("pending-change")))
	if got := tb.text(testID("summary-plan")); got != "Starter" {
		t.Fatalf("plan after cancelling the downgrade: %q", got)
	}
	billingtest.AssertLedger(t, a.DB, org)
}
