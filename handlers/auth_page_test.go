package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
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
