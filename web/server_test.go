package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/static"
	"github.com/luxstudio/lux-billing/web/webtest"
)

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
	for _, path := range []string{"/settings/billing/credits"} {
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
	if p.Has(`[data-testid="nav-credits"]`) || p.Has(`[data-testid="add-credits"]`) {
		t.Errorf("a member's nav links to admin pages")
	}
	if !p.Has(`[data-testid="nav-limits"]`) {
		t.Errorf("a member's nav lacks Limits, where they read their own limit")
	}
	if got := p.Text(`[data-testid="user-role"]`); got != "Member" {
		t.Errorf("role = %q", got)
	}
	for _, path := range []string{"/settings/billing/usage", "/settings/billing/history", "/settings/billing/plans", "/settings/billing/calculator", "/settings/api-keys"} {
		webtest.WantStatus(t, b.Get(path), http.StatusOK)
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
