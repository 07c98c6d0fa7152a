package web_test

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

func TestLogout_EndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	stolen := b.CopyOf()
	csrf := webtest.FormToken(t, stolen, "/settings/api-keys")
	webtest.WantStatus(t, stolen.Get("/settings/api-keys"), http.StatusOK)
	webtest.WantRedirect(t, b.Post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	webtest.WantSignedOut(t, stolen, csrf)
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM api_keys`); err != nil || n != 0 {
		t.Fatalf("%d API keys after the replay (%v)", n, err)
	}
}

func TestPasswordChange_EndsEverySession(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	other := s.Browser()
	other.Login("ada@example.com", "correct horse")
	stolen := b.CopyOf()
	csrf := webtest.FormToken(t, stolen, "/settings/api-keys")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	if err := s.Identity.ChangePassword(context.Background(), u.ID, "wrong", "new password 1"); billing.ErrorCode(err) != billing.EUNAUTHORIZED {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := s.Identity.ChangePassword(context.Background(), u.ID, "correct horse", "short"); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("short new password: %v", err)
	}
	if err := s.Identity.ChangePassword(context.Background(), u.ID, "correct horse", "new password 1"); err != nil {
		t.Fatal(err)
	}
	webtest.WantSignedOut(t, stolen, csrf)
	webtest.WantRedirect(t, other.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	other.Login("ada@example.com", "new password 1")
	webtest.WantStatus(t, other.Get("/settings/billing"), http.StatusOK)
}

func TestRemovalFromTheOrg_EndsTheMembersSessions(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	_, org := s.SignedUp("ada@example.com", "Org")
	s.Member(org, "mel@example.com", identity.RoleMember)
	mel := s.Browser()
	mel.Login("mel@example.com", "correct horse")
	stolen := mel.CopyOf()
	csrf := webtest.FormToken(t, stolen, "/settings/api-keys")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "mel@example.com")
	admin, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	if err := s.Identity.RemoveMember(context.Background(), org, admin.ID); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("removing the last admin: %v", err)
	}
	if err := s.Identity.RemoveMember(context.Background(), org, u.ID); err != nil {
		t.Fatal(err)
	}
	webtest.WantSignedOut(t, stolen, csrf)
	webtest.WantRedirect(t, mel.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
}

func TestSignOutEverywhere_EndsEverySessionOfTheUser(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	laptop, phone := s.Browser(), s.Browser()
	laptop.Login("ada@example.com", "correct horse")
	phone.Login("ada@example.com", "correct horse")
	s.SignedUp("bob@example.com", "Other Org") // someone else stays signed in
	bob := s.Browser()
	bob.Login("bob@example.com", "correct horse")
	p := b.Get("/logout")
	if !p.Has(`[data-testid="logout-everywhere"]`) {
		t.Fatal("the sign-out page offers no sign out everywhere")
	}
	webtest.WantRedirect(t, b.Post("/logout", "/logout", url.Values{"everywhere": {"1"}}), "/login?signed_out=1")
	for _, other := range []*webtest.Browser{b, laptop, phone} {
		webtest.WantRedirect(t, other.Get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	}
	webtest.WantStatus(t, bob.Get("/settings/billing"), http.StatusOK)
}

func TestCSRF_TokensAreBoundToTheSessionAndNeverReadFromTheQuery(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	ada, _ := s.SignedUp("ada@example.com", "Org A")
	bob, _ := s.SignedUp("bob@example.com", "Org B")
	bobToken := webtest.FormToken(t, bob, "/settings/api-keys")
	adaToken := webtest.FormToken(t, ada, "/settings/api-keys")
	if bobToken == adaToken {
		t.Fatal("two sessions share a CSRF token")
	}
	// Bob's token in Ada's session is refused.
	webtest.WantStatus(t, ada.Post("", "/settings/api-keys", url.Values{"_csrf": {bobToken}, "name": {"x"}}), http.StatusForbidden)
	// The token in the query string is not read.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/settings/api-keys?_csrf="+url.QueryEscape(adaToken), strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	webtest.WantStatus(t, ada.Do(req), http.StatusForbidden)
	// In the body or the header it works.
	p := ada.Post("", "/settings/api-keys", url.Values{"_csrf": {adaToken}, "name": {"ok"}})
	if p.StatusCode >= 400 {
		t.Fatalf("token in the body: status %d", p.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/settings/api-keys", strings.NewReader("name=ok2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", adaToken)
	if p := ada.Do(req); p.StatusCode >= 400 {
		t.Fatalf("token in the header: status %d", p.StatusCode)
	}
	// After signing out and in again, the old token is worth nothing.
	webtest.WantRedirect(t, ada.Post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	ada.Login("ada@example.com", "correct horse")
	webtest.WantStatus(t, ada.Post("", "/settings/api-keys", url.Values{"_csrf": {adaToken}, "name": {"x"}}), http.StatusForbidden)
}
