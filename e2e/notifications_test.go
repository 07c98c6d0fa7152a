package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// Usage crosses the 50 % and 80 % thresholds of the org's limit: the bell on every page shows
// two unread notices; marking one read on the notifications page (htmx) leaves one on the bell,
// "Mark all as read" clears it, and it stays cleared on the next page.
func TestBrowser_BellCountsCrossingsAndMarkingReadClearsIt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ada, org, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada Admin", Password: "correct horse"}, "Initech")
	if err != nil {
		t.Fatal(err)
	}
	limit := billing.Credits(100)
	if err := a.Billing.SetMonthlyLimit(ctx, org, &limit); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	if n := tb.count(`[data-testid="bell-count"]`); n != 0 {
		t.Fatalf("bell before any notice shows a count (%d)", n)
	}
	for _, q := range []int64{55, 30} { // 55 %, then 85 %
		ev := billing.UsageEvent{ID: fmt.Sprintf("e%d", q), FlowID: "flow_1", ExecutionID: "exec_1", Type: "email", Quantity: q}
		if _, err := a.Billing.RecordUsage(ctx, org, ada.ID, []billing.UsageEvent{ev}); err != nil {
			t.Fatal(err)
		}
	}
	tb.open("/settings/billing/usage")
	if got := tb.text(testID("bell-count")); got != "2" {
		t.Fatalf("bell after two crossings = %q, want 2", got)
	}
	tb.do(chromedp.Click(testID("bell")))
	tb.wait(testID("notifications"))
	if got := tb.text(chromedp.CSS(`[data-testid="notification"][data-read="false"] [data-testid="notification-title"]`)); got != "Credit usage reached 80% of the monthly limit" {
		t.Errorf("newest notice = %q", got)
	}
	tb.do(chromedp.Click(testID("mark-read")))
	tb.do(chromedp.WaitVisible(chromedp.CSS(`[data-testid="bell-count"]`)))
	waitText(tb, testID("unread-summary"), "1 unread")
	if got := tb.text(testID("bell-count")); got != "1" {
		t.Fatalf("bell after marking one read = %q, want 1", got)
	}
	tb.do(chromedp.Click(testID("mark-all-read")))
	waitText(tb, testID("unread-summary"), "All read")
	if n := tb.count(`[data-testid="bell-count"]`); n != 0 {
		t.Errorf("bell after marking all read still shows a count")
	}
	tb.open("/settings/billing")
	if n := tb.count(`[data-testid="bell-count"]`); n != 0 {
		t.Errorf("bell on the next page shows a count")
	}
}

// waitText waits until the element's text is want.
func waitText(tb *tab, sel chromedp.CSS, want string) {
	tb.t.Helper()
	expr := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.innerText.trim() === %q })()`, string(sel), want)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](expr)); err != nil {
		tb.t.Fatalf("waiting for %s to read %q: %v", sel, want, err)
	}
}
