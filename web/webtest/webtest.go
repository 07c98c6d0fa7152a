// Package webtest serves the real server (web.New over the real domain) on a loopback port over
// a throwaway database: the one harness of the API, page, CLI and browser tests.
package webtest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/web"
)

// Options configure a Server.
type Options struct {
	Clock   *billingtest.Clock // nil: the real clock
	BaseURL string             // the server's public URL; "https://…" makes cookies Secure
	// Payments configures payments; nil: the demo provider, confirming a payment at once.
	// Purchases and refunds are invoiced by the server's documents unless it sets an Issuer.
	Payments *payments.Config
	// TrustedProxies and MetricsToken are passed to web.Config.
	TrustedProxies []string
	MetricsToken   string
}

// Server is a running server and the domain it serves, for tests to arrange data directly.
type Server struct {
	handlers.Domain
	URL    string             // where it listens, e.g. http://127.0.0.1:41234
	DB     *sqlx.DB           // its database (for billingtest.AssertLedger)
	Clock  *billingtest.Clock // nil with the real clock
	Client *http.Client       // a client for it (keeps connections alive)
	// Handler is the server's own handler (an *echo.Echo), for its route list.
	Handler http.Handler
	opts    Options
}

// secret signs the test servers' session cookies.
var secret = []byte("webtest-secret-webtest-secret-webtest!")

// New starts a server on a new database; it stops with the test.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	var opts []billing.Option
	if o.Clock != nil {
		opts = append(opts, billing.WithClock(o.Clock.Now))
	}
	svc, db := billingtest.NewService(t, opts...)
	return serverOn(svc, db, o).Serve(t, o.BaseURL)
}

// serverOn is the domain over core svc as o configures it.
func serverOn(svc *billing.Service, db *sqlx.DB, o Options) *Server {
	s := &Server{Domain: handlers.NewDomain(svc), DB: db, Clock: o.Clock, opts: o}
	if o.Payments != nil {
		cfg := *o.Payments
		if cfg.Issuer == nil {
			cfg.Issuer = documents.PaymentInvoicer{Docs: s.Documents}
		}
		s.Payments = payments.New(svc, s.Identity, cfg)
	}
	return s
}

// Replica starts a second server as another replica would be: its own domain (core, identity,
// caches, throttles) over the same database; it stops with the test.
func (s *Server) Replica(t testing.TB) *Server {
	t.Helper()
	var opts []billing.Option
	if s.Clock != nil {
		opts = append(opts, billing.WithClock(s.Clock.Now))
	}
	svc, err := billing.New(context.Background(), s.DB, opts...)
	if err != nil {
		t.Fatalf("webtest: replica: %v", err)
	}
	return serverOn(svc, s.DB, s.opts).Serve(t, s.opts.BaseURL)
}

// Serve starts another server over the same domain and database at baseURL (to compare
// http and https, say); it stops with the test.
func (s *Server) Serve(t testing.TB, baseURL string) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := web.New(web.Config{BaseURL: baseURL, SessionSecret: secret, TrustedProxies: s.opts.TrustedProxies,
		MetricsToken: s.opts.MetricsToken}, s.Domain, log).Handler()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	out := *s
	out.URL, out.Client, out.Handler = ts.URL, ts.Client(), h
	out.Client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return &out
}
