package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

var bg = context.Background()

// site is a real server on a loopback port over its own database.
type site struct {
	*webtest.Server
	t *testing.T
}

func newSite(t *testing.T) *site {
	return siteOf(t, webtest.New(t, webtest.Options{BaseURL: "http://localhost"}))
}

func siteOf(t *testing.T, srv *webtest.Server) *site { return &site{Server: srv, t: t} }

// browser is a cookie-keeping client that does not follow redirects, so tests see them.
type browser struct {
	s      *site
	client *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is a response with its body parsed.
type page struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

func (p *page) text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }
func (p *page) has(sel string) bool    { return p.Doc.Find(sel).Length() > 0 }

func (b *browser) do(req *http.Request) *page {
	b.s.t.Helper()
	res, err := b.client.Do(req)
	if err != nil {
		b.s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.s.t.Fatalf("parse %s: %v", req.URL, err)
	}
	return &page{Response: res, Body: string(body), Doc: doc}
}

func (b *browser) get(path string, header ...string) *page {
	b.s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

// post submits a form with the CSRF token of the page at from, as a browser would.
func (b *browser) post(from, path string, form url.Values, header ...string) *page {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		p := b.get(from)
		token, ok := p.Doc.Find(`input[name="_csrf"]`).First().Attr("value")
		if !ok || token == "" {
			b.s.t.Fatalf("no CSRF token on %s (status %d)", from, p.StatusCode)
		}
		form.Set("_csrf", token)
	}
	req, _ := http.NewRequest(http.MethodPost, b.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) login(email, password string) {
	b.s.t.Helper()
	p := b.post("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if p.StatusCode != http.StatusSeeOther {
		b.s.t.Fatalf("login %s: status %d: %s", email, p.StatusCode, p.text(`[data-testid="form-error"]`))
	}
}

func (b *browser) signup(email, name, org string) *page {
	b.s.t.Helper()
	return b.post("/signup", "/signup", url.Values{"email": {email}, "name": {name}, "password": {"correct horse"}, "org": {org}})
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, status, p.Body)
	}
}

func wantRedirect(t *testing.T, p *page, to string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != to {
		t.Fatalf("%s %s: %d to %q, want 303 to %q", p.Request.Method, p.Request.URL.Path, p.StatusCode, p.Header.Get("Location"), to)
	}
}

// member adds a user with role to org and returns their email (password "correct horse").
func (s *site) member(org, email, role string) string {
	s.t.Helper()
	u, err := s.Identity.CreateUser(bg, identity.NewUser{Email: email, Name: "Mel Member", Password: "correct horse"})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.Identity.AddMember(bg, org, u.ID, role); err != nil {
		s.t.Fatal(err)
	}
	return email
}

// signedUp signs up a new account with its org and returns the browser and org id.
func (s *site) signedUp(email, org string) (*browser, string) {
	s.t.Helper()
	b := s.browser()
	wantRedirect(s.t, b.signup(email, "Ada Lovelace", org), "/settings/billing")
	u, err := s.Identity.FindUserByEmail(bg, email)
	if err != nil {
		s.t.Fatal(err)
	}
	ms, err := s.Identity.Memberships(bg, u.ID)
	if err != nil || len(ms) != 1 {
		s.t.Fatalf("memberships: %v %v", ms, err)
	}
	return b, ms[0].OrgID
}
