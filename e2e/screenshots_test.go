package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// screen is one page to capture and what it must show.
type screen struct {
	name    string
	path    string
	heading string // the page's main heading (h1) contains this
	status  int
}

// billingScreens are the pages of Settings → Billing as an admin sees them.
var billingScreens = []screen{
	{"overview", "/settings/billing", "Billing overview", http.StatusOK},
	{"usage", "/settings/billing/usage", "Usage", http.StatusOK},
	{"credits", "/settings/billing/credits", "Add credits", http.StatusOK},
	{"history", "/settings/billing/history", "History", http.StatusOK},
	{"limits", "/settings/billing/limits", "Limits", http.StatusOK},
	{"plans", "/settings/billing/plans", "Plans", http.StatusOK},
	{"calculator", "/settings/billing/calculator", "calculator", http.StatusOK},
	{"api-keys", "/settings/api-keys", "API keys", http.StatusOK},
	{"notifications", "/settings/notifications", "Notifications", http.StatusOK},
	{"members", "/settings/members", "Members", http.StatusOK},
	{"account", "/settings/account", "Sign-in & security", http.StatusOK},
}

// TestScreenshots renders every billing page for the demo admin and member, at desktop and
// phone widths, checks each answers with its status and main heading, and writes PNGs to
// $LUX_SCREENSHOTS (make screenshots) or a temporary directory.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("LUX_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	a := newApp(t)
	seeded, err := demo.Seed(context.Background(), a.DB, time.Now(), 90)
	if err != nil {
		t.Fatal(err)
	}
	// The admin is in a second organization too, so the org switcher shows.
	if _, err := a.Identity.CreateOrg(context.Background(), billing.NewOrg{Name: "Zeta Labs", PlanCode: "starter"}, seeded.AdminID); err != nil {
		t.Fatal(err)
	}
	// A downgrade waits for the next cycle, so the plans page shows it with its Cancel button.
	if _, err := a.Billing.ScheduleDowngrade(context.Background(), seeded.OrgID, "starter", seeded.AdminID); err != nil {
		t.Fatal(err)
	}
	calls, err := a.Reports.FlowExecutions(context.Background(), seeded.OrgID, "flow_sales_calls", "", 1)
	if err != nil || len(calls.Executions) != 1 {
		t.Fatalf("an execution to drill down to: %v", err)
	}
	usage := usageScreens(calls.Executions[0].ExecutionID)

	t.Run("signed-out", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		for _, s := range []screen{
			{"login", "/login", "Sign in", http.StatusOK},
			{"signup", "/signup", "Create your account", http.StatusOK},
			{"not-found", "/nowhere", "Page not found", http.StatusNotFound},
		} {
			tb.capture(dir, "signed-out", s)
		}
	})
	t.Run("admin", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		for _, s := range billingScreens {
			tb.capture(dir, "admin", s)
		}
		tb.captureDark(dir, "admin", billingScreens[0])
		tb.captureOpenNav(dir, "admin")
		tb.captureOrgMenu(dir, "admin")
	})
	// The usage views and the drill-downs in tabs of their own: one tab's steps share a
	// deadline.
	t.Run("admin-usage", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		for _, s := range usage[:3] {
			tb.captureUsage(dir, "admin", s, false)
		}
		tb.captureUsage(dir, "admin", billingScreens[1], true)
		tb.captureUsage(dir, "admin", usage[0], true)
	})
	t.Run("admin-usage-drill-down", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		for _, s := range usage[3:] {
			tb.captureUsage(dir, "admin", s, false)
		}
		tb.captureUsage(dir, "admin", usage[3], true)
	})
	t.Run("admin-plans", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		plans := billingScreens[5]
		plans.name = "plans-pending-downgrade"
		tb.capture(dir, "admin", plans)
		tb.captureDark(dir, "admin", plans)
		tb.wait(testID("cancel-downgrade"))
	})
	// Add credits in demo mode: the checkout, the purchase done, the refund's confirm step.
	t.Run("admin-credits", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		tb.open("/settings/billing/credits")
		tb.do(chromedp.Click(chromedp.CSS(`[data-testid="pack-5,000"] button`)))
		tb.wait(testID("demo-pay"))
		checkout := tb.location()
		tb.capture(dir, "admin", screen{"credits-checkout", checkout, "Checkout", http.StatusOK})
		tb.do(chromedp.Click(testID("demo-pay")))
		tb.wait(testID("purchase-done"))
		done := tb.location()
		tb.capture(dir, "admin", screen{"credits-success", done, "Your purchase", http.StatusOK})
		tb.capture(dir, "admin", screen{"credits-refund", done + "/refund", "Refund unused credits", http.StatusOK})
		tb.captureDark(dir, "admin", screen{"credits", "/settings/billing/credits", "Add credits", http.StatusOK})
	})
	t.Run("admin-calculator", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		tb.captureCalculator(dir, "admin")
	})
	t.Run("new-org", func(t *testing.T) {
		t.Parallel()
		if _, _, err := a.Identity.SignUp(context.Background(), identity.NewUser{Email: "nia@example.com", Name: "Nia New", Password: "correct horse"}, "Fresh Org"); err != nil {
			t.Fatal(err)
		}
		tb := newTab(t, a.URL)
		tb.login("nia@example.com", "correct horse")
		tb.captureUsage(dir, "new-org", screen{"usage-empty", "/settings/billing/usage", "Usage", http.StatusOK}, false)
		// The demo checkout of an upgrade from Free.
		tb.viewport(desktopWidth, 900, false)
		tb.checkPage(screen{"plans", "/settings/billing/plans", "Plans", http.StatusOK})
		tb.do(chromedp.Click(testID("upgrade-starter")))
		tb.wait(testID("pay-plan"))
		tb.shoot(filepath.Join(dir, "new-org-plan-checkout-desktop.png"), true)
	})
	t.Run("documents", func(t *testing.T) {
		t.Parallel()
		captureDocuments(t, a, seeded.OrgID, dir)
		tb := newTab(t, a.URL)
		tb.login(demo.AdminEmail, demo.Password)
		tb.captureDark(dir, "admin", screen{"history", "/settings/billing/history", "History", http.StatusOK})
		tb.capture(dir, "admin", screen{"history-statements", "/settings/billing/history?type=statement", "History", http.StatusOK})
	})
	t.Run("member", func(t *testing.T) {
		t.Parallel()
		tb := newTab(t, a.URL)
		tb.login(demo.MemberEmail, demo.Password)
		for _, s := range billingScreens {
			if s.name == "credits" {
				s.heading, s.status = "You don't have access to this", http.StatusForbidden
			}
			tb.capture(dir, "member", s)
		}
	})
}

// capture opens s at desktop and phone widths, checks its status and heading, and writes
// dir/who-name-desktop.png and dir/who-name-phone.png.
func (tb *tab) capture(dir, who string, s screen) {
	tb.t.Helper()
	for _, w := range []struct {
		label string
		width int64
	}{{"desktop", desktopWidth}, {"phone", phoneWidth}} {
		tb.viewport(w.width, 900, false)
		tb.checkPage(s)
		tb.shoot(filepath.Join(dir, who+"-"+s.name+"-"+w.label+".png"), true)
	}
}

// captureDark writes s in the dark colour scheme, desktop and phone.
func (tb *tab) captureDark(dir, who string, s screen) {
	tb.t.Helper()
	for _, w := range []struct {
		label string
		width int64
	}{{"desktop", desktopWidth}, {"phone", phoneWidth}} {
		tb.viewport(w.width, 900, true)
		tb.checkPage(s)
		tb.shoot(filepath.Join(dir, who+"-"+s.name+"-"+w.label+"-dark.png"), true)
	}
	tb.viewport(desktopWidth, 900, false)
}

// captureOpenNav writes the phone layout with its nav opened by the menu button.
func (tb *tab) captureOpenNav(dir, who string) {
	tb.t.Helper()
	tb.viewport(phoneWidth, 844, false)
	tb.checkPage(billingScreens[0])
	tb.do(chromedp.Click(chromedp.CSS("[data-nav-toggle]")), chromedp.WaitVisible(testID("nav-plans")))
	tb.shoot(filepath.Join(dir, who+"-nav-phone-open.png"), false)
	tb.viewport(desktopWidth, 900, false)
}

// checkPage opens s and fails the test unless it answers s.status with s.heading.
func (tb *tab) checkPage(s screen) {
	tb.t.Helper()
	if got := tb.open(s.path); got != int64(s.status) {
		tb.t.Errorf("%s: status %d, want %d", s.path, got, s.status)
	}
	if got := tb.text(testID("page-title")); !strings.Contains(got, s.heading) {
		tb.t.Errorf("%s: heading %q, want %q", s.path, got, s.heading)
	}
}

// shoot writes a PNG of the page (full: the whole page, else the viewport).
func (tb *tab) shoot(path string, full bool) {
	tb.t.Helper()
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(tb.ctx, shot)
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", path, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// captureOrgMenu writes the desktop top bar with the org switcher open.
func (tb *tab) captureOrgMenu(dir, who string) {
	tb.t.Helper()
	tb.viewport(desktopWidth, 900, false)
	tb.checkPage(billingScreens[0])
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="org-switcher"] summary`)), chromedp.WaitVisible(testID("org-option")))
	tb.shoot(filepath.Join(dir, who+"-org-switcher-desktop.png"), false)
}
