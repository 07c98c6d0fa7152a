package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestBrowser_SignUpLandsOnOverviewThenLogOut(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	tb := newTab(t, a.URL)
	tb.open("/")
	tb.wait(testID("login-form")) // / → /settings/billing → /login
	tb.do(chromedp.Click(testID("signup-link")))
	tb.fill("signup-name", "Grace Hopper", "signup-email", "grace@example.com",
		"signup-password", "compilers rock", "signup-org", "Navy Labs")
	tb.do(chromedp.Click(testID("signup-submit")))

	if got := tb.text(testID("balance")); got != "1,000 credits" {
		t.Errorf("balance = %q, want 1,000 credits", got)
	}
	if got := tb.location(); got != "/settings/billing" {
		t.Errorf("after sign-up at %q", got)
	}
	if got := tb.text(testID("plan-name")); got != "Free" {
		t.Errorf("plan = %q", got)
	}
	if got := tb.text(testID("org-name")); got != "Navy Labs" {
		t.Errorf("org = %q", got)
	}
	if got := tb.text(testID("allotment")); !strings.Contains(got, "1,000 of 1,000") || !strings.Contains(got, "resets ") {
		t.Errorf("allotment = %q", got)
	}
	tb.wait(testID("welcome-banner"))

	tb.do(chromedp.Click(testID("logout")))
	if got := tb.text(testID("alert-info")); got != "You are signed out." {
		t.Errorf("after logout: %q", got)
	}
	tb.open("/settings/billing")
	tb.wait(testID("login-form"))
	if got := tb.location(); got != "/login?next=%2Fsettings%2Fbilling" {
		t.Errorf("signed out, /settings/billing went to %q", got)
	}
}

func TestBrowser_WrongPasswordIsShownInline(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, _, err := a.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Org"); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.open("/login")
	tb.fill("login-email", "ada@example.com", "login-password", "wrong horse")
	tb.do(chromedp.Click(testID("login-submit")))
	if got := tb.text(testID("form-error")); got != "That email and password do not match an account." {
		t.Errorf("error = %q", got)
	}
	if got := tb.location(); got != "/login" {
		t.Errorf("at %q after a failed sign-in", got)
	}
	// The form was swapped in place by htmx (the password field is empty again) and still works.
	tb.fill("login-password", "correct horse")
	tb.do(chromedp.Click(testID("login-submit")))
	tb.wait(testID("balance"))
}

func TestBrowser_DemoAdminSeesOverview(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := demo.Seed(context.Background(), a.DB, time.Now(), 14); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login(demo.AdminEmail, demo.Password)
	if got := tb.text(testID("org-name")); got != demo.OrgName {
		t.Errorf("org = %q", got)
	}
	if got := tb.text(testID("plan-name")); got != "Pro" {
		t.Errorf("plan = %q", got)
	}
	if got := tb.text(testID("user-role")); got != "Admin" {
		t.Errorf("role = %q", got)
	}
	if n := tb.count(`[data-testid="recent-usage"] [data-testid="activity-row"]`); n == 0 {
		t.Errorf("no recent usage on a demo org")
	}
	if got := tb.text(`[data-testid="recent-credits"]`); !strings.Contains(got, "Plan allotment") {
		t.Errorf("credits added = %q", got)
	}
	for _, nav := range []string{"overview", "usage", "credits", "history", "limits", "plans", "calculator", "api-keys"} {
		tb.wait(testID("nav-" + nav)) // the nav is open on a desktop-sized tab
	}
	tb.do(chromedp.Click(testID("nav-plans")))
	if got := tb.text(`[data-testid="plan-pro"] [data-testid="current-plan"]`); got != "Current plan" {
		t.Errorf("plans page: %q", got)
	}
}

func TestBrowser_MemberIsRefusedAdminPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := demo.Seed(context.Background(), a.DB, time.Now(), 14); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login(demo.MemberEmail, demo.Password)
	if got := tb.text(testID("user-role")); got != "Member" {
		t.Errorf("role = %q", got)
	}
	if n := tb.count(`[data-testid="nav-credits"], [data-testid="add-credits"]`); n != 0 {
		t.Errorf("a member sees %d links to admin pages", n)
	}
	tb.wait(testID("member-card"))
	if status := tb.open("/settings/billing/credits"); status != http.StatusForbidden {
		t.Errorf("member on Add credits: status %d, want 403", status)
	}
	if got := tb.text(testID("error-status")); got != "403" {
		t.Errorf("error status = %q", got)
	}
	if got := tb.text(testID("error-message")); !strings.Contains(got, "Only admins of "+demo.OrgName) {
		t.Errorf("error message = %q", got)
	}
	// The 403 page keeps the app around it: the member can go back.
	tb.do(chromedp.Click(testID("nav-overview")))
	tb.wait(testID("balance"))
}

func TestBrowser_OrgSessionNeverShowsAnotherOrg(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	if _, _, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "alice@alpha.example", Name: "Alice", Password: "correct horse"}, "Alpha Works"); err != nil {
		t.Fatal(err)
	}
	_, orgB, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "bob@bravo.example", Name: "Bob", Password: "correct horse"}, "Bravo Secret Labs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Billing.GrantCredits(ctx, orgB, billing.GrantPurchase, billing.Credits(4321), nil, "bravo_1", ""); err != nil {
		t.Fatal(err)
	}
	leaks := func(tb *tab) {
		t.Helper()
		body := tb.body()
		if strings.Contains(body, "Bravo") || strings.Contains(body, "5,321") || strings.Contains(body, "4,321") {
			t.Fatalf("org A's session shows org B at %s:\n%s", tb.location(), body)
		}
	}

	tb := newTab(t, a.URL)
	tb.login("alice@alpha.example", "correct horse")
	if got := tb.text(testID("org-name")); got != "Alpha Works" {
		t.Fatalf("org = %q", got)
	}
	leaks(tb)
	if n := tb.count(`[data-testid="org-switcher"]`); n != 0 {
		t.Errorf("a user of one org sees an org switcher")
	}

	// A hand-made switch to org B, with a valid CSRF token, is refused.
	tb.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const f = document.createElement("form");
		f.method = "post"; f.action = "/settings/org";
		for (const [k, v] of [["org_id", %q], ["_csrf", document.querySelector("input[name=_csrf]").value]]) {
			const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; f.appendChild(i);
		}
		document.body.appendChild(f); f.submit();
	})()`, orgB)))
	tb.wait(testID("error-page"))
	if got := tb.text(testID("error-status")); got != "403" {
		t.Errorf("switch to a foreign org: status %q", got)
	}
	leaks(tb)

	// Neither does a URL parameter move the session.
	for _, path := range []string{"/settings/billing?org=" + orgB, "/settings/billing?org_id=" + orgB, "/settings/api-keys?org_id=" + orgB} {
		tb.open(path)
		tb.wait(testID("org-name"))
		if got := tb.text(testID("org-name")); got != "Alpha Works" {
			t.Errorf("%s: org = %q", path, got)
		}
		leaks(tb)
	}
}

func TestBrowser_SwitchOrgFromTheMenu(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	u, orgA, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}, "Alpha Works")
	if err != nil {
		t.Fatal(err)
	}
	orgB, err := a.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Zeta Labs", PlanCode: "starter"}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	if got := tb.text(testID("org-name")); got != "Alpha Works" {
		t.Fatalf("org = %q", got)
	}
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="org-switcher"] summary`)))
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid="org-option"][data-org-id=%q]`, orgB))))
	if got := tb.text(testID("alert-success")); got != "Switched to Zeta Labs." {
		t.Errorf("flash = %q", got)
	}
	if got := tb.text(testID("plan-name")); got != "Starter" {
		t.Errorf("plan after switching = %q", got)
	}
	if got := tb.text(testID("org-name")); got != "Zeta Labs" {
		t.Errorf("org after switching = %q", got)
	}
	_ = orgA
}
