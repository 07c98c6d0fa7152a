package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

func TestPasswordPage_ChangeEndsOtherSessionsAndKeepsThisOne(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	laptop := s.Browser()
	laptop.Login("ada@example.com", "correct horse")
	stolen := b.CopyOf()
	csrf := webtest.FormToken(t, stolen, "/settings/api-keys")

	p := b.Get("/settings/account")
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`[data-testid="password-form"]`) || !p.Has(`[data-testid="logout-everywhere"]`) || !p.Has(`[data-testid="nav-account"][aria-current="page"]`) {
		t.Fatal("the page lacks the password form, sign out everywhere or its nav item")
	}
	// Each mistake comes back under its field, as a 400, and changes nothing.
	for _, c := range []struct {
		current, next, confirm, field, msg string
	}{
		{"", "new password 1", "new password 1", "current", "Enter your current password"},
		{"correct horse", "", "", "password", "Choose a new password"},
		{"correct horse", "new password 1", "new password 2", "confirm", "differ"},
		{"wrong horse", "new password 1", "new password 1", "current", "not your current password"},
		{"correct horse", "short", "short", "password", "at least 8 characters"},
		{"correct horse", "correct horse", "correct horse", "password", "not the current one"},
	} {
		p := b.Post("/settings/account", "/settings/account/password",
			url.Values{"current": {c.current}, "password": {c.next}, "confirm": {c.confirm}}, "HX-Request", "true")
		webtest.WantStatus(t, p, http.StatusBadRequest)
		e := p.Doc.Find(`[data-testid="field-error"]`)
		if f, _ := e.Attr("data-field"); f != c.field || !strings.Contains(e.Text(), c.msg) {
			t.Errorf("%+v: error %q under %q, want %q under %q", c, e.Text(), f, c.msg, c.field)
		}
		if !p.Has(`form[data-testid="password-form"]`) || p.Has(`header.topbar`) {
			t.Errorf("%+v: htmx answer is not the form alone", c)
		}
	}
	webtest.WantStatus(t, stolen.Get("/settings/api-keys"), http.StatusOK) // nothing changed yet

	p = b.Post("/settings/account", "/settings/account/password",
		url.Values{"current": {"correct horse"}, "password": {"new password 1"}, "confirm": {"new password 1"}})
	webtest.WantRedirect(t, p, "/settings/account")
	// This browser carries on, with the news; the copied cookie and the other device are out.
	p = b.Get("/settings/account")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="alert-success"]`); !strings.Contains(got, "Password changed") {
		t.Errorf("flash = %q", got)
	}
	webtest.WantSignedOut(t, stolen, csrf)
	webtest.WantRedirect(t, laptop.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	if _, err := s.Identity.Authenticate(context.Background(), "ada@example.com", "correct horse"); err == nil {
		t.Fatal("the old password still works")
	}
	s.Browser().Login("ada@example.com", "new password 1")
}

func TestPasswordPage_WrongCurrentPasswordCountsAgainstTheAccount(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	wrong := url.Values{"current": {"wrong horse"}, "password": {"new password 1"}, "confirm": {"new password 1"}}
	for i := 0; i < identity.AccountAttempts; i++ {
		webtest.WantStatus(t, b.Post("/settings/account", "/settings/account/password", wrong), http.StatusBadRequest)
	}
	p := b.Post("/settings/account", "/settings/account/password", wrong)
	webtest.WantStatus(t, p, http.StatusTooManyRequests)
	if p.Header.Get("Retry-After") == "" || !strings.Contains(p.Text(`[data-testid="field-error"]`), "Too many") {
		t.Errorf("throttled answer: Retry-After %q, message %q", p.Header.Get("Retry-After"), p.Text(`[data-testid="field-error"]`))
	}
	// Signing in is limited too: the guesses were against the same account.
	webtest.WantStatus(t, s.Browser().Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}), http.StatusTooManyRequests)
}

func TestMembersPage_AdminRemovesAMemberWhoseCookieAndKeyStopWorking(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Org")
	s.Member(org, "mel@example.com", identity.RoleMember)
	mel := s.Browser()
	mel.Login("mel@example.com", "correct horse")
	stolen := mel.CopyOf()
	csrf := webtest.FormToken(t, stolen, "/settings/api-keys")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "mel@example.com")
	ada, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	key, _, err := s.Identity.CreateAPIKey(context.Background(), org, u.ID, "mel's flow")
	if err != nil {
		t.Fatal(err)
	}
	credits := func() int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/credits", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return s.Browser().Do(req).StatusCode
	}
	if got := credits(); got != http.StatusOK {
		t.Fatalf("mel's key before: %d", got)
	}

	// Everyone sees the members; only an admin sees Remove, never beside themselves.
	p := mel.Get("/settings/members")
	webtest.WantStatus(t, p, http.StatusOK)
	if n := p.Doc.Find(`[data-testid="member-row"]`).Length(); n != 2 || p.Has(`[data-testid="remove-member"]`) {
		t.Fatalf("member's view: %d rows, remove buttons %v", n, p.Has(`[data-testid="remove-member"]`))
	}
	webtest.WantStatus(t, mel.Post("/settings/members", "/settings/members/"+ada.ID+"/remove", nil), http.StatusForbidden)
	p = admin.Get("/settings/members")
	if n := p.Doc.Find(`[data-testid="remove-member"]`).Length(); n != 1 || !p.Has(`[data-user-id="`+u.ID+`"] [data-testid="remove-member"]`) {
		t.Fatalf("admin's view: %d remove buttons, want one, beside mel", n)
	}
	webtest.WantStatus(t, admin.Post("/settings/members", "/settings/members/"+ada.ID+"/remove", nil), http.StatusConflict)

	webtest.WantRedirect(t, admin.Post("/settings/members", "/settings/members/"+u.ID+"/remove", nil), "/settings/members")
	p = admin.Get("/settings/members")
	if got := p.Text(`[data-testid="alert-success"]`); !strings.Contains(got, "removed") || p.Has(`[data-user-id="`+u.ID+`"]`) {
		t.Fatalf("after removal: flash %q, mel still listed %v", got, p.Has(`[data-user-id="`+u.ID+`"]`))
	}
	webtest.WantSignedOut(t, stolen, csrf)
	webtest.WantRedirect(t, mel.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	if got := credits(); got != http.StatusUnauthorized {
		t.Fatalf("mel's key after the removal: %d, want 401", got)
	}
	// Removing again, or someone of another org, is not found; the admin stays.
	webtest.WantStatus(t, admin.Post("/settings/members", "/settings/members/"+u.ID+"/remove", nil), http.StatusNotFound)
	webtest.WantStatus(t, admin.Get("/settings/members"), http.StatusOK)
}
