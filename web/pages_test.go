package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/static"
	"github.com/luxstudio/lux-billing/web/webtest"
)

func TestSignup_LandsOnOverviewWithFreePlanCredits(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	p := b.Get("/settings/billing")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="balance"]`); !strings.HasPrefix(got, "1,000") {
		t.Errorf("balance = %q, want 1,000 credits", got)
	}
	if got := p.Text(`[data-testid="plan-name"]`); got != "Free" {
		t.Errorf("plan = %q, want Free", got)
	}
	if got := p.Text(`[data-testid="org-name"]`); got != "Analytical Engines" {
		t.Errorf("org = %q", got)
	}
	if !p.Has(`[data-testid="welcome-banner"]`) || !p.Has(`[data-testid="no-monthly-limit"]`) {
		t.Errorf("want the welcome banner and the no-limit note")
	}
	if p.Has(`[data-testid="pause-banner"]`) || p.Has(`[data-testid="arrears"]`) {
		t.Errorf("a new account is neither paused nor in arrears")
	}
	if got := p.Text(`[data-testid="recent-credits"] [data-testid="activity-row"]`); !strings.Contains(got, "Plan allotment") || !strings.Contains(got, "+1,000") {
		t.Errorf("recent credits = %q, want the first allotment", got)
	}
	// The welcome is said once.
	if b.Get("/settings/billing").Has(`[data-testid="welcome-banner"]`) {
		t.Errorf("welcome banner shown twice")
	}
}

func TestSignup_UsedEmailIsInline409(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "First")
	p := s.Browser().Signup("ada@example.com", "Ada", "Second")
	webtest.WantStatus(t, p, http.StatusConflict)
	if got := p.Text(`[data-testid="form-error"]`); !strings.Contains(got, "already exists") {
		t.Errorf("error = %q", got)
	}
	if v, _ := p.Doc.Find(`input[name="org"]`).Attr("value"); v != "Second" {
		t.Errorf("the form lost what was typed: org = %q", v)
	}
}

func TestSignup_InvalidFieldsAreInline400(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b := s.Browser()
	p := b.Post("/signup", "/signup", url.Values{"email": {"ada@example.com"}, "password": {"short"}, "org": {"X"}})
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if got := p.Text(`[data-testid="form-error"]`); !strings.Contains(got, "at least 8 characters") {
		t.Errorf("error = %q", got)
	}
	p = b.Post("/signup", "/signup", url.Values{"email": {"ada@example.com"}, "password": {"long enough"}, "org": {" "}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if strings.Contains(p.Body, "<html") || !p.Has(`form[data-testid="signup-form"] [data-testid="form-error"]`) {
		t.Errorf("htmx sign-up error should be the form alone:\n%s", p.Body)
	}
}

func TestLogin_WrongPasswordIsInline401(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	p := b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}})
	webtest.WantStatus(t, p, http.StatusUnauthorized)
	if got := p.Text(`[data-testid="form-error"]`); got != "That email and password do not match an account." {
		t.Errorf("error = %q", got)
	}
	if v, _ := p.Doc.Find(`input[name="email"]`).Attr("value"); v != "ada@example.com" {
		t.Errorf("email not kept: %q", v)
	}
	p = b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusUnauthorized)
	if strings.Contains(p.Body, "<html") || !p.Has(`form[data-testid="login-form"]`) {
		t.Errorf("htmx login error should be the form alone")
	}
	p = b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}, "HX-Request", "true")
	if p.Header.Get("HX-Redirect") != "/settings/billing" {
		t.Errorf("htmx login: HX-Redirect = %q", p.Header.Get("HX-Redirect"))
	}
}

func TestLogin_ThrottledAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	bad := url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}}
	for i := 0; i < 5; i++ {
		webtest.WantStatus(t, b.Post("/login", "/login", bad), http.StatusUnauthorized)
	}
	p := b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}})
	webtest.WantStatus(t, p, http.StatusTooManyRequests)
	if got := p.Text(`[data-testid="form-error"]`); !strings.Contains(got, "Too many sign-in attempts. Wait") {
		t.Errorf("error = %q", got)
	}
	if p.Header.Get("Retry-After") == "" {
		t.Errorf("no Retry-After header")
	}
	// Another account from the same address is not locked out by one account's failures.
	s.SignedUp("bob@example.com", "Org B")
	s.Browser().Login("bob@example.com", "correct horse")
}

func TestSettings_SignedOutGoesToLoginAndBack(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	webtest.WantRedirect(t, b.Get("/"), "/settings/billing")
	webtest.WantRedirect(t, b.Get("/settings/billing/plans?x=1"), "/login?next=%2Fsettings%2Fbilling%2Fplans%3Fx%3D1")
	p := b.Get("/login?next=%2Fsettings%2Fbilling%2Fplans")
	if got := p.Text(`[data-testid="alert-info"]`); got != "Sign in to continue." {
		t.Errorf("notice = %q", got)
	}
	p = b.Post("/login?next=%2Fsettings%2Fbilling%2Fplans", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {"/settings/billing/plans"}})
	webtest.WantRedirect(t, p, "/settings/billing/plans")
	// htmx requests are sent to the login page by a full-page redirect.
	p = s.Browser().Get("/settings/billing", "HX-Request", "true")
	if p.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("HX-Redirect"), "/login") {
		t.Errorf("htmx signed out: %d HX-Redirect %q", p.StatusCode, p.Header.Get("HX-Redirect"))
	}
}

func TestLogin_NextCannotLeaveTheSite(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	for _, next := range []string{"https://evil.example/settings", "//evil.example/settings", "/\\evil.example", "/login", "/settings/../../x"} {
		b := s.Browser()
		p := b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {next}})
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/settings") || strings.Contains(loc, "evil") {
			t.Errorf("next=%q redirected to %q", next, loc)
		}
	}
}

func TestLogout_EndsTheSession(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	webtest.WantRedirect(t, b.Post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	if got := b.Get("/login?signed_out=1").Text(`[data-testid="alert-info"]`); got != "You are signed out." {
		t.Errorf("notice = %q", got)
	}
	webtest.WantRedirect(t, b.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	webtest.WantStatus(t, b.Get("/logout"), http.StatusOK) // a confirmation page, not an error
}

func TestSessionCookie_IsHttpOnlyLaxAndSecureOnHTTPS(t *testing.T) {
	t.Parallel()
	srv := webtest.New(t, webtest.Options{})
	for _, tc := range []struct {
		base   string
		secure bool
	}{{"http://localhost:8080", false}, {"https://billing.example.com", true}} {
		s := webtest.SiteOf(t, srv.Serve(t, tc.base))
		b := s.Browser()
		email := strings.ReplaceAll(tc.base[:5], ":", "") + "@example.com"
		p := b.Post("/signup", "/signup", url.Values{"email": {email}, "password": {"correct horse"}, "org": {"Org"}})
		cookie := ""
		for _, c := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "lux_session=") {
				if cookie != "" {
					t.Errorf("two session cookies in one response")
				}
				cookie = c
			}
		}
		if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") || strings.Contains(cookie, "Secure") != tc.secure {
			t.Errorf("%s: session cookie %q", tc.base, cookie)
		}
	}
}

func TestCSRF_FormsWithoutTheTokenAreRefused(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	p := b.Post("/login", "/login", url.Values{"_csrf": {"forged"}, "email": {"ada@example.com"}, "password": {"correct horse"}})
	webtest.WantStatus(t, p, http.StatusForbidden)
	if got := p.Text(`[data-testid="error-message"]`); !strings.Contains(got, "Reload the page and try again") {
		t.Errorf("message = %q", got)
	}
	// A cross-site post from a browser is refused whatever it carries.
	p = b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}, "Sec-Fetch-Site", "cross-site")
	webtest.WantStatus(t, p, http.StatusForbidden)
	if got := p.Text(`[data-testid="error-message"]`); !strings.Contains(got, "came from another site") {
		t.Errorf("cross-site message = %q", got)
	}
	// A huge form is refused before it is read.
	p = b.Post("/login", "/login", url.Values{"email": {strings.Repeat("a", 100<<10)}})
	webtest.WantStatus(t, p, http.StatusRequestEntityTooLarge)
	// The header htmx sends is accepted in place of the field.
	token, _ := b.Get("/login").Doc.Find(`input[name="_csrf"]`).Attr("value")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/login", strings.NewReader("email=ada%40example.com&password=correct+horse"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", token)
	if p := b.Do(req); p.StatusCode != http.StatusSeeOther {
		t.Errorf("token in header: status %d", p.StatusCode)
	}
}

func TestMember_AdminPagesAre403Pages(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	_, org := s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	b.Login(s.Member(org, "mel@example.com", identity.RoleMember), "correct horse")
	for _, path := range []string{"/settings/billing/credits", "/settings/billing/limits"} {
		p := b.Get(path)
		webtest.WantStatus(t, p, http.StatusForbidden)
		if !p.Has(`[data-testid="error-page"]`) || !p.Has(`nav#sidenav`) {
			t.Errorf("%s: want a 403 page inside the app frame", path)
		}
		if got := p.Text(`[data-testid="error-message"]`); !strings.Contains(got, "Only admins of Org") {
			t.Errorf("%s: message %q", path, got)
		}
	}
	p := b.Get("/settings/billing")
	webtest.WantStatus(t, p, http.StatusOK)
	if p.Has(`[data-testid="nav-credits"]`) || p.Has(`[data-testid="nav-limits"]`) || p.Has(`[data-testid="add-credits"]`) {
		t.Errorf("a member's nav links to admin pages")
	}
	if got := p.Text(`[data-testid="user-role"]`); got != "Member" {
		t.Errorf("role = %q", got)
	}
	for _, path := range []string{"/settings/billing/usage", "/settings/billing/history", "/settings/billing/plans", "/settings/billing/calculator", "/settings/api-keys"} {
		webtest.WantStatus(t, b.Get(path), http.StatusOK)
	}
}

func TestSwitchOrg_OnlyToOrgsOfTheUser(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	a, orgA := s.SignedUp("ada@example.com", "Alpha Org")
	_, orgB := s.SignedUp("bob@example.com", "Bravo Org")
	if _, err := s.Billing.GrantCredits(context.Background(), orgB, billing.GrantPurchase, billing.Credits(777), nil, "b1", ""); err != nil {
		t.Fatal(err)
	}
	p := a.Post("/settings/billing", "/settings/org", url.Values{"org_id": {orgB}})
	webtest.WantStatus(t, p, http.StatusForbidden)
	if got := p.Text(`[data-testid="error-message"]`); !strings.Contains(got, "not a member of that organization") {
		t.Errorf("message = %q", got)
	}
	p = a.Get("/settings/billing")
	if strings.Contains(p.Body, "Bravo") || strings.Contains(p.Body, "1,777") || p.Text(`[data-testid="org-name"]`) != "Alpha Org" {
		t.Fatalf("org A's session shows org B")
	}

	// In both orgs, the switcher lists both and switching shows B's figures.
	u, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	if err := s.Identity.AddMember(context.Background(), orgB, u.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	p = a.Get("/settings/billing")
	if n := p.Doc.Find(`[data-testid="org-option"]`).Length(); n != 2 {
		t.Fatalf("switcher lists %d orgs, want 2", n)
	}
	webtest.WantRedirect(t, a.Post("/settings/billing", "/settings/org", url.Values{"org_id": {orgB}, "next": {"/settings/billing/plans"}}), "/settings/billing/plans")
	p = a.Get("/settings/billing")
	if p.Text(`[data-testid="org-name"]`) != "Bravo Org" || !strings.HasPrefix(p.Text(`[data-testid="balance"]`), "1,777") {
		t.Fatalf("after switching: org %q balance %q", p.Text(`[data-testid="org-name"]`), p.Text(`[data-testid="balance"]`))
	}
	if got := p.Text(`[data-testid="alert-success"]`); got != "Switched to Bravo Org." {
		t.Errorf("flash = %q", got)
	}
	if got := p.Text(`[data-testid="user-role"]`); got != "Member" {
		t.Errorf("role in B = %q, want Member", got)
	}
	// Removed from B, the session ends (SPEC §14); signing in again opens A, never B.
	if _, err := s.Billing.DB().Exec(`DELETE FROM memberships WHERE org_id = $1 AND user_id = $2`, orgB, u.ID); err != nil {
		t.Fatal(err)
	}
	webtest.WantRedirect(t, a.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	a.Login("ada@example.com", "correct horse")
	p = a.Get("/settings/billing")
	if p.Text(`[data-testid="org-name"]`) != "Alpha Org" || strings.Contains(p.Body, "Bravo") {
		t.Fatalf("after removal from B: org %q", p.Text(`[data-testid="org-name"]`))
	}
	_ = orgA
}

func TestOverview_PausedOrgShowsBannerArrearsAndWhomToAsk(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Org")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	_, err := s.Billing.RecordUsage(context.Background(), org, u.ID, []billing.UsageEvent{{ID: "e1", FlowID: "f", ExecutionID: "x", Type: billing.TypeEmail, Quantity: 1200}})
	if err != nil {
		t.Fatal(err)
	}
	p := admin.Get("/settings/billing")
	if got := p.Text(`[data-testid="pause-banner"] p`); got != billing.PauseMessage(billing.ReasonCreditsExhausted) {
		t.Errorf("pause banner = %q", got)
	}
	if got := p.Text(`[data-testid="arrears"] .value`); got != "−200" {
		t.Errorf("arrears = %q, want −200", got)
	}
	if got := p.Text(`[data-testid="balance"]`); !strings.HasPrefix(got, "-200") {
		t.Errorf("balance = %q", got)
	}
	if !p.Has(`[data-testid="pause-banner"] a[href="/settings/billing/credits"]`) {
		t.Errorf("the admin's banner should offer to add credits")
	}
	m := s.Browser()
	m.Login(s.Member(org, "mel@example.com", identity.RoleMember), "correct horse")
	if got := m.Get("/settings/billing").Text(`[data-testid="pause-banner"] .banner-actions`); got != "Ask your admin, Ada Lovelace, to resolve this." {
		t.Errorf("member's banner action = %q", got)
	}
}

func TestErrors_PagesAlertsAndJSON(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	p := b.Get("/settings/nothing-here")
	webtest.WantStatus(t, p, http.StatusNotFound)
	if !p.Has(`[data-testid="error-page"]`) || p.Text(`[data-testid="error-status"]`) != "404" {
		t.Errorf("want a 404 page")
	}
	p = b.Get("/settings/nothing-here", "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusNotFound)
	if p.Header.Get("HX-Retarget") != "#flash" || !p.Has(`[data-testid="alert-error"]`) || strings.Contains(p.Body, "<html") {
		t.Errorf("htmx error: retarget %q body %s", p.Header.Get("HX-Retarget"), p.Body)
	}
	p = s.Browser().Get("/nowhere")
	webtest.WantStatus(t, p, http.StatusNotFound)
	if !p.Has(`a[href="/login"]`) {
		t.Errorf("a signed-out 404 page should offer to sign in")
	}
	p = b.Get("/api/v1/credits")
	if p.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API error: %d %s", p.StatusCode, p.Header.Get("Content-Type"))
	}
}

func TestAPIKeys_SecretShownOnceWorksAndCanBeRevoked(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	p := b.Post("/settings/api-keys", "/settings/api-keys", url.Values{"name": {"Flow engine"}})
	webtest.WantStatus(t, p, http.StatusCreated)
	secret := p.Text(`[data-testid="new-key-secret"]`)
	if !strings.HasPrefix(secret, "lux_") {
		t.Fatalf("secret = %q", secret)
	}
	api := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/credits", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		return b.Do(req).StatusCode
	}
	if got := api(); got != http.StatusOK {
		t.Fatalf("new key: API status %d", got)
	}
	p = b.Get("/settings/api-keys")
	if strings.Contains(p.Body, secret) {
		t.Fatalf("the secret is shown again")
	}
	if got := p.Doc.Find(`[data-testid="key-row"]`).Length(); got != 1 {
		t.Fatalf("%d keys listed", got)
	}
	action, _ := p.Doc.Find(`[data-testid="key-row"] form`).Attr("action")
	webtest.WantRedirect(t, b.Post("/settings/api-keys", action, nil), "/settings/api-keys")
	if got := b.Get("/settings/api-keys").Text(`[data-testid="alert-success"]`); !strings.HasPrefix(got, "Key revoked") {
		t.Errorf("flash = %q", got)
	}
	if got := api(); got != http.StatusUnauthorized {
		t.Fatalf("revoked key: API status %d", got)
	}
	p = b.Post("/settings/api-keys", action, nil, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusNotFound)
	if p.Header.Get("HX-Retarget") != "#flash" {
		t.Errorf("revoking twice over htmx should answer an alert")
	}
	p = b.Post("/settings/api-keys", "/settings/api-keys", url.Values{"name": {strings.Repeat("k", 101)}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if !p.Has(`[data-testid="alert-error"]`) || strings.Contains(p.Body, "<html") {
		t.Errorf("htmx create error should be the section with an alert")
	}
}

func TestStatic_AssetsAreServedAndCacheable(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	p := s.Browser().Get(static.Path("css/app.css"))
	webtest.WantStatus(t, p, http.StatusOK)
	if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") || !strings.Contains(p.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("css: %s, %s", p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"))
	}
	webtest.WantStatus(t, s.Browser().Get(static.Path("js/htmx-2.0.11.min.js")), http.StatusOK)
	webtest.WantStatus(t, s.Browser().Get("/static/css/"), http.StatusNotFound)
	p = s.Browser().Get("/login")
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || p.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("security headers: CSP %q XFO %q", csp, p.Header.Get("X-Frame-Options"))
	}
}

func TestLogin_OpensTheOrgLastUsed(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Alpha Org")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	orgB, err := s.Identity.CreateOrg(context.Background(), billing.NewOrg{Name: "Bravo Org"}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.Post("/settings/billing", "/settings/org", url.Values{"org_id": {orgB}})
	b.Post("/settings/billing", "/logout", nil)
	b.Login("ada@example.com", "correct horse")
	if got := b.Get("/settings/billing").Text(`[data-testid="org-name"]`); got != "Bravo Org" {
		t.Errorf("after signing in again: org %q, want the last used", got)
	}
	// Another browser opens the user's first org.
	other := s.Browser()
	other.Login("ada@example.com", "correct horse")
	if got := other.Get("/settings/billing").Text(`[data-testid="org-name"]`); got != "Alpha Org" {
		t.Errorf("new browser: org %q", got)
	}
}
