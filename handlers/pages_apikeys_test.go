package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/web/webtest"
)

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
