package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// copyOf returns a second browser holding a copy of b's cookies, as a thief would.
func (b *browser) copyOf() *browser {
	c := b.s.browser()
	u, _ := url.Parse(b.s.URL)
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, b.client.Jar.Cookies(u))
	c.client.Jar = jar
	return c
}

// wantLogin checks that b's cookie no longer opens a page or creates an API key.
func wantLogin(t *testing.T, b *browser, csrf string) {
	t.Helper()
	wantRedirect(t, b.get("/settings/api-keys"), "/login?next=%2Fsettings%2Fapi-keys")
	p := b.post("", "/settings/api-keys", url.Values{"_csrf": {csrf}, "name": {"stolen"}})
	if p.StatusCode == http.StatusCreated || p.StatusCode == http.StatusOK {
		t.Fatalf("a copied cookie created an API key (status %d)", p.StatusCode)
	}
}

func csrfOf(t *testing.T, b *browser, path string) string {
	t.Helper()
	token, ok := b.get(path).Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok || token == "" {
		t.Fatalf("no CSRF token on %s", path)
	}
	return token
}

func TestLogout_EndsTheSessionOnTheServer(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b, _ := s.signedUp("ada@example.com", "Org")
	stolen := b.copyOf()
	csrf := csrfOf(t, stolen, "/settings/api-keys")
	wantStatus(t, stolen.get("/settings/api-keys"), http.StatusOK)
	wantRedirect(t, b.post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	wantLogin(t, stolen, csrf)
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM api_keys`); err != nil || n != 0 {
		t.Fatalf("%d API keys after the replay (%v)", n, err)
	}
}

func TestPasswordChange_EndsEverySession(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b, _ := s.signedUp("ada@example.com", "Org")
	other := s.browser()
	other.login("ada@example.com", "correct horse")
	stolen := b.copyOf()
	csrf := csrfOf(t, stolen, "/settings/api-keys")
	u, _ := s.Identity.FindUserByEmail(bg, "ada@example.com")
	if err := s.Identity.ChangePassword(bg, u.ID, "wrong", "new password 1"); billing.ErrorCode(err) != billing.EUNAUTHORIZED {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := s.Identity.ChangePassword(bg, u.ID, "correct horse", "short"); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("short new password: %v", err)
	}
	if err := s.Identity.ChangePassword(bg, u.ID, "correct horse", "new password 1"); err != nil {
		t.Fatal(err)
	}
	wantLogin(t, stolen, csrf)
	wantRedirect(t, other.get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	other.login("ada@example.com", "new password 1")
	wantStatus(t, other.get("/settings/billing"), http.StatusOK)
}

func TestRemovalFromTheOrg_EndsTheMembersSessions(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	_, org := s.signedUp("ada@example.com", "Org")
	s.member(org, "mel@example.com", identity.RoleMember)
	mel := s.browser()
	mel.login("mel@example.com", "correct horse")
	stolen := mel.copyOf()
	csrf := csrfOf(t, stolen, "/settings/api-keys")
	u, _ := s.Identity.FindUserByEmail(bg, "mel@example.com")
	admin, _ := s.Identity.FindUserByEmail(bg, "ada@example.com")
	if err := s.Identity.RemoveMember(bg, org, admin.ID); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("removing the last admin: %v", err)
	}
	if err := s.Identity.RemoveMember(bg, org, u.ID); err != nil {
		t.Fatal(err)
	}
	wantLogin(t, stolen, csrf)
	wantRedirect(t, mel.get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
}

func TestSignOutEverywhere_EndsEverySessionOfTheUser(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b, _ := s.signedUp("ada@example.com", "Org")
	laptop, phone := s.browser(), s.browser()
	laptop.login("ada@example.com", "correct horse")
	phone.login("ada@example.com", "correct horse")
	s.signedUp("bob@example.com", "Other Org") // someone else stays signed in
	bob := s.browser()
	bob.login("bob@example.com", "correct horse")
	p := b.get("/logout")
	if !p.has(`[data-testid="logout-everywhere"]`) {
		t.Fatal("the sign-out page offers no sign out everywhere")
	}
	wantRedirect(t, b.post("/logout", "/logout", url.Values{"everywhere": {"1"}}), "/login?signed_out=1")
	for _, other := range []*browser{b, laptop, phone} {
		wantRedirect(t, other.get("/settings/billing"), "/login?next=%2Fsettings%2Fbilling")
	}
	wantStatus(t, bob.get("/settings/billing"), http.StatusOK)
}

func TestCSRF_TokensAreBoundToTheSessionAndNeverReadFromTheQuery(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	ada, _ := s.signedUp("ada@example.com", "Org A")
	bob, _ := s.signedUp("bob@example.com", "Org B")
	bobToken := csrfOf(t, bob, "/settings/api-keys")
	adaToken := csrfOf(t, ada, "/settings/api-keys")
	if bobToken == adaToken {
		t.Fatal("two sessions share a CSRF token")
	}
	// Bob's token in Ada's session is refused.
	wantStatus(t, ada.post("", "/settings/api-keys", url.Values{"_csrf": {bobToken}, "name": {"x"}}), http.StatusForbidden)
	// The token in the query string is not read.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/settings/api-keys?_csrf="+url.QueryEscape(adaToken), strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, ada.do(req), http.StatusForbidden)
	// In the body or the header it works.
	p := ada.post("", "/settings/api-keys", url.Values{"_csrf": {adaToken}, "name": {"ok"}})
	if p.StatusCode >= 400 {
		t.Fatalf("token in the body: status %d", p.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/settings/api-keys", strings.NewReader("name=ok2"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", adaToken)
	if p := ada.do(req); p.StatusCode >= 400 {
		t.Fatalf("token in the header: status %d", p.StatusCode)
	}
	// After signing out and in again, the old token is worth nothing.
	wantRedirect(t, ada.post("/settings/billing", "/logout", nil), "/login?signed_out=1")
	ada.login("ada@example.com", "correct horse")
	wantStatus(t, ada.post("", "/settings/api-keys", url.Values{"_csrf": {adaToken}, "name": {"x"}}), http.StatusForbidden)
}
