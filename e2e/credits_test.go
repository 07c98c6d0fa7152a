package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// demoDelay is how long the demo payment takes to be confirmed in these tests: the purchase
// page is seen pending, then turns done by itself.
const demoDelay = 2 * time.Second

func TestBrowser_DemoAdminBuys5000CreditsAndTheOverviewShowsThem(t *testing.T) {
	t.Parallel()
	a := newAppWith(t, payments.Config{DemoDelay: demoDelay})
	seeded, err := demo.Seed(context.Background(), a.DB, time.Now(), 7)
	if err != nil {
		t.Fatal(err)
	}
	before, err := a.Billing.CreditSummary(context.Background(), seeded.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login(demo.AdminEmail, demo.Password)
	tb.open("/settings/billing/credits")
	if got := tb.text(testID("demo-banner")); !strings.Contains(got, "Demo mode — no card is charged") {
		t.Errorf("banner = %q", got)
	}
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="pack-5,000"] button`)))
	if got := tb.text(testID("demo-label")); got != "Demo mode — no card is charged" {
		t.Errorf("checkout label = %q", got)
	}
	if got := tb.text(testID("checkout-total")); got != "$50.00" {
		t.Errorf("total = %q", got)
	}
	tb.do(chromedp.Click(testID("demo-pay")))
	tb.wait(chromedp.CSS(`[data-testid="purchase-state"][data-status="pending"]`))
	// htmx polls the page until the payment is confirmed.
	if got := tb.text(testID("purchase-done")); got != "5,000 credits added" {
		t.Errorf("done = %q", got)
	}
	want := (before.Balance + billing.Credits(5000)).String() + " credits"
	if got := tb.text(testID("new-balance")); got != want {
		t.Errorf("new balance = %q, want %q", got, want)
	}
	tb.open("/settings/billing")
	if got := tb.text(testID("balance")); got != want {
		t.Errorf("overview balance = %q, want %q", got, want)
	}
	if got := tb.text(chromedp.CSS(`[data-testid="recent-credits"] [data-testid="activity-row"]`)); !strings.Contains(got, "+5,000") {
		t.Errorf("credits added = %q", got)
	}
	billingtest.AssertLedger(t, a.DB, seeded.OrgID)
}

func TestBrowser_PausedOrgResumesAfterBuyingCredits(t *testing.T) {
	t.Parallel()
	a := newAppWith(t, payments.Config{DemoDelay: demoDelay})
	ctx := context.Background()
	u, org, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}, "Engines")
	if err != nil {
		t.Fatal(err)
	}
	// 1,500 credits of email on a 1,000-credit Free plan: 500 in arrears, flows paused.
	if _, err := a.Billing.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{{ID: "evt_1", FlowID: "flow_1", ExecutionID: "exec_1", Type: billing.TypeEmail, Quantity: 1500}}); err != nil {
		t.Fatal(err)
	}
	authorized := func() bool {
		res, err := a.Billing.Authorize(ctx, org, u.ID, billing.AuthorizeRequest{FlowID: "flow_1", ExecutionID: "exec_2"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Allowed
	}
	if authorized() {
		t.Fatal("the org should be paused")
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	tb.wait(testID("pause-banner"))
	tb.open("/settings/billing/credits")
	tb.fill("custom-credits", "2500")
	if got := tb.text(testID("custom-price")); got != "$25.00" {
		t.Errorf("custom price = %q", got)
	}
	tb.do(chromedp.Click(testID("custom-submit")))
	tb.do(chromedp.Click(testID("demo-pay")))
	if got := tb.text(testID("new-balance")); got != "2,000 credits" {
		t.Errorf("new balance = %q, want 2,000 (2,500 less the 500 in arrears)", got)
	}
	if !authorized() {
		t.Error("flows must resume at once after the purchase")
	}
	tb.open("/settings/billing")
	if n := tb.count(`[data-testid="pause-banner"]`); n != 0 {
		t.Errorf("the pause banner is still shown")
	}
	billingtest.AssertLedger(t, a.DB, org)
}
