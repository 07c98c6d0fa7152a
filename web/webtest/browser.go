package webtest

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
)

var bg = context.Background()

// Site is a Server used by one test through browsers.
type Site struct {
	*Server
	t testing.TB
}

// NewSite starts a Server (real clock, base URL http://localhost) for t's browsers.
func NewSite(t testing.TB) *Site { return SiteOf(t, New(t, Options{BaseURL: "http://localhost"})) }

// SiteOf is srv used by t's browsers.
func SiteOf(t testing.TB, srv *Server) *Site { return &Site{Server: srv, t: t} }

// Browser is a cookie-keeping client that does not follow redirects, so tests see them.
type Browser struct {
	s      *Site
	Client *http.Client // keeps cookies, does not follow redirects
}

// Browser returns a new browser with no cookies.
func (s *Site) Browser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{s: s, Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Page is a response with its body parsed.
type Page struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

// Text is the trimmed text of the first element sel selects.
func (p *Page) Text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }

// Has reports whether sel selects anything.
func (p *Page) Has(sel string) bool { return p.Doc.Find(sel).Length() > 0 }

// Do sends req and parses the answer.
func (b *Browser) Do(req *http.Request) *Page {
	b.s.t.Helper()
	res, err := b.Client.Do(req)
	if err != nil {
		b.s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.s.t.Fatalf("parse %s: %v", req.URL, err)
	}
	return &Page{Response: res, Body: string(body), Doc: doc}
}

// Get fetches path, with header name, value pairs.
func (b *Browser) Get(path string, header ...string) *Page {
	b.s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.s.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.Do(req)
}

// Post submits a form with the CSRF token of the page at from, as a browser would.
func (b *Browser) Post(from, path string, form url.Values, header ...string) *Page {
	b.s.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		p := b.Get(from)
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
	return b.Do(req)
}

// Login signs in; a failure ends the test.
func (b *Browser) Login(email, password string) {
	b.s.t.Helper()
	p := b.Post("/login", "/login", url.Values{"email": {email}, "password": {password}})
	if p.StatusCode != http.StatusSeeOther {
		b.s.t.Fatalf("login %s: status %d: %s", email, p.StatusCode, p.Text(`[data-testid="form-error"]`))
	}
}

// Signup submits the sign-up form (password "correct horse").
func (b *Browser) Signup(email, name, org string) *Page {
	b.s.t.Helper()
	return b.Post("/signup", "/signup", url.Values{"email": {email}, "name": {name}, "password": {"correct horse"}, "org": {org}})
}

// WantStatus ends the test unless p has status.
func WantStatus(t testing.TB, p *Page, status int) {
	t.Helper()
	if p.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", p.Request.Method, p.Request.URL.Path, p.StatusCode, status, p.Body)
	}
}

// WantRedirect ends the test unless p is a 303 to to.
func WantRedirect(t testing.TB, p *Page, to string) {
	t.Helper()
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != to {
		t.Fatalf("%s %s: %d to %q, want 303 to %q", p.Request.Method, p.Request.URL.Path, p.StatusCode, p.Header.Get("Location"), to)
	}
}

// Member adds a user with role to org and returns their email (password "correct horse").
func (s *Site) Member(org, email, role string) string {
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

// SignedUp signs up a new account with its org and returns the browser and org id.
func (s *Site) SignedUp(email, org string) (*Browser, string) {
	s.t.Helper()
	b := s.Browser()
	WantRedirect(s.t, b.Signup(email, "Ada Lovelace", org), "/settings/billing")
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

// T is the test the site serves.
func (s *Site) T() testing.TB { return s.t }

// CopyOf returns a second browser holding a copy of b's cookies, as a thief would.
func (b *Browser) CopyOf() *Browser {
	c := b.s.Browser()
	u, _ := url.Parse(b.s.URL)
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(u, b.Client.Jar.Cookies(u))
	c.Client.Jar = jar
	return c
}

// WantSignedOut checks that b's (copied) cookie no longer opens a page nor, with the CSRF token
// it had, creates an API key: the session it carries has ended on the server.
func WantSignedOut(t testing.TB, b *Browser, csrf string) {
	t.Helper()
	WantRedirect(t, b.Get("/settings/api-keys"), "/login?next=%2Fsettings%2Fapi-keys")
	p := b.Post("", "/settings/api-keys", url.Values{"_csrf": {csrf}, "name": {"stolen"}})
	if p.StatusCode == http.StatusCreated || p.StatusCode == http.StatusOK {
		t.Fatalf("a copied cookie created an API key (status %d)", p.StatusCode)
	}
}

// FormToken is the CSRF token of the form on the page at path, as b sees it.
func FormToken(t testing.TB, b *Browser, path string) string {
	t.Helper()
	token, ok := b.Get(path).Doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok || token == "" {
		t.Fatalf("no CSRF token on %s", path)
	}
	return token
}
