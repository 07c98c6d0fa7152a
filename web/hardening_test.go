package web_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/web"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// newSiteOpts is a real server with options over its own database.
func newSiteOpts(t *testing.T, o webtest.Options) *webtest.Site {
	t.Helper()
	if o.BaseURL == "" {
		o.BaseURL = "http://localhost"
	}
	return webtest.SiteOf(t, webtest.New(t, o))
}

func TestLogin_ForwardedForIsNotBelievedWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	bad := url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}}
	throttled := 0
	for i := 0; i < 40; i++ {
		p := b.Post("/login", "/login", bad, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if p.StatusCode == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled < 30 {
		t.Errorf("40 failures with 40 forwarded addresses: %d throttled, want the 6th on", throttled)
	}
}

func TestLogin_PerAccountLimitAppliesWhateverTheAddress(t *testing.T) {
	t.Parallel()
	s := newSiteOpts(t, webtest.Options{TrustedProxies: []string{"127.0.0.1", "::1"}})
	s.SignedUp("ada@example.com", "Org")
	b := s.Browser()
	bad := url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}}
	first := 0
	for i := 0; i < 40; i++ {
		// Through the trusted proxy each attempt comes from another client address.
		p := b.Post("/login", "/login", bad, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		if p.StatusCode == http.StatusTooManyRequests && first == 0 {
			first = i + 1
		}
	}
	if first == 0 || first > 11 {
		t.Fatalf("first throttled attempt: %d, want the 11th", first)
	}
	// Even the right password waits: the account is being guessed.
	p := b.Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}, "X-Forwarded-For", "203.0.113.9")
	webtest.WantStatus(t, p, http.StatusTooManyRequests)
	// Another account is not affected.
	s.SignedUp("bob@example.com", "Org B")
	s.Browser().Login("bob@example.com", "correct horse")
}

// Two replicas behind one proxy share the account's limit: attempts spread over both are
// counted together (the per-address limits stay each server's own).
func TestLogin_PerAccountLimitHoldsAcrossServers(t *testing.T) {
	t.Parallel()
	one := newSiteOpts(t, webtest.Options{TrustedProxies: []string{"127.0.0.1", "::1"}})
	two := webtest.SiteOf(t, one.Replica(t))
	one.SignedUp("ada@example.com", "Org")
	sites := []*webtest.Site{one, two}
	for i := 0; i < identity.AccountAttempts; i++ {
		bad := url.Values{"email": {"ada@example.com"}, "password": {"wrong password"}} // a new browser's token each time
		p := sites[i%2].Browser().Post("/login", "/login", bad, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
		webtest.WantStatus(t, p, http.StatusUnauthorized)
	}
	for i, s := range sites {
		// Each server saw only half the failures, from addresses it never saw before.
		p := s.Browser().Post("/login", "/login", url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		webtest.WantStatus(t, p, http.StatusTooManyRequests)
		if p.Header.Get("Retry-After") == "" {
			t.Errorf("server %d: no Retry-After", i+1)
		}
	}
	// Someone else signs in on either server.
	one.SignedUp("bob@example.com", "Org B")
	two.Browser().Login("bob@example.com", "correct horse")
}

func TestTrustedProxies_AreChecked(t *testing.T) {
	for _, bad := range []string{"nonsense", "10.0.0.0/99", "1.2.3.4.5"} {
		if _, err := web.ParseTrustedProxies(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	got, err := web.ParseTrustedProxies(" 10.0.0.1, 10.1.0.0/16 ,,::1")
	if err != nil || len(got) != 3 {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestMetrics_OnlyFromLoopbackOrWithTheToken(t *testing.T) {
	t.Parallel()
	s := newSiteOpts(t, webtest.Options{MetricsToken: "scrape-secret"})
	// The test server's peer is loopback.
	if p := s.Browser().Get("/metrics"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "lux_http_request_duration_seconds") {
		t.Fatalf("from loopback: %d", p.StatusCode)
	}
	for _, c := range []struct {
		auth, forwarded string
		want            int
	}{
		{"", "", http.StatusForbidden},
		{"", "127.0.0.1", http.StatusForbidden}, // a header does not make a peer local
		{"Bearer wrong", "", http.StatusForbidden},
		{"Bearer scrape-secret", "", http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.RemoteAddr = "203.0.113.7:41000"
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		if c.forwarded != "" {
			req.Header.Set("X-Forwarded-For", c.forwarded)
		}
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("remote peer, auth %q, forwarded %q: %d, want %d", c.auth, c.forwarded, rec.Code, c.want)
		}
	}
}

// startServer runs the server's own Start (its http.Server and timeouts) on a free port.
func startServer(t *testing.T, cfg web.Config) (*webtest.Site, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = l.Addr().String()
	l.Close()
	svc, db := billingtest.NewService(t)
	d := handlers.NewDomain(svc)
	cfg.SessionSecret = []byte("test-secret-test-secret-test-secret!")
	srv := web.New(cfg, d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	base := "http://" + cfg.Addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server did not start")
		}
		time.Sleep(5 * time.Millisecond) // polling interval, with a deadline
	}
	return webtest.SiteOf(t, &webtest.Server{Domain: d, DB: db, URL: base}), base
}

func TestServer_SlowClientIsCutOffAndCSVStillStreams(t *testing.T) {
	t.Parallel()
	s, base := startServer(t, web.Config{ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Half a request, then nothing: the server closes the connection after ReadTimeout.
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nemail=")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(bufio.NewReader(conn))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a stalled request open for 10 s")
	}
	if held := time.Since(start); held > 5*time.Second {
		t.Errorf("stalled request held for %s", held)
	}

	// A CSV download goes through with the timeouts in force.
	u, org, err := s.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Org")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := s.Identity.CreateAPIKey(context.Background(), org, u.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	var events []billing.UsageEvent
	for i := 0; i < 500; i++ {
		events = append(events, billing.UsageEvent{ID: fmt.Sprintf("e%d", i), FlowID: fmt.Sprintf("flow_%d", i%50), ExecutionID: "x", Type: "email", Quantity: 1})
	}
	if _, err := s.Billing.RecordUsage(context.Background(), org, u.ID, events); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/usage?format=csv&groupBy=flow", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || res.StatusCode != http.StatusOK || len(rows) != 51 {
		t.Fatalf("CSV: %d, %d rows, %v", res.StatusCode, len(rows), err)
	}
}

func TestPages_InvalidUTF8OrNULIs400NotA500(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	for _, p := range []string{
		"/settings/billing/usage/flows/%00", "/settings/billing/usage/flows/%ff",
		"/settings/billing/usage/executions/%ff/events.csv", "/settings/billing/usage/executions/%00",
		"/settings/billing/usage?from=%ff", "/settings/billing/usage.csv?groupBy=%00",
	} {
		webtest.WantStatus(t, b.Get(p), http.StatusBadRequest)
	}
	// A form body with bad text is refused before anything reads it.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/login", strings.NewReader("email=a%00b%40example.com&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	webtest.WantStatus(t, b.Do(req), http.StatusBadRequest)
	// Anonymous visitors get the same 400 (never a 500).
	webtest.WantStatus(t, s.Browser().Get("/settings/billing/usage/flows/%ff%fe"), http.StatusBadRequest)
}

func TestPages_UsageDatesOutsideTheWindowAre400(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Org")
	for _, q := range []string{"from=0001-01-01&to=9999-12-31", "range=custom&to=0001-01-01", "range=custom&from=0001-01-01"} {
		p := b.Get("/settings/billing/usage?" + q)
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.Body, "outside the dates reports cover") {
			t.Errorf("%s: no message naming the window", q)
		}
		webtest.WantStatus(t, b.Get("/settings/billing/usage.csv?"+q), http.StatusBadRequest)
	}
}
