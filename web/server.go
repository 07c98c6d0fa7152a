// Package web is the HTTP server of Lux Billing: configuration, the route list (routes.go),
// middleware — who is signed in or which API key is used (middleware.go), sessions, CSRF,
// security headers — and the one place where errors become responses (errors.go). It calls
// handlers, which never import it.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/luxstudio/lux-billing/handlers"
)

// Config is the server's part of the configuration (the rest is read in main).
type Config struct {
	Addr          string // LUX_ADDR, default ":8080"
	BaseURL       string // LUX_BASE_URL: the public URL, for links in mail and Secure cookies
	SessionSecret []byte // LUX_SESSION_SECRET, or a generated one persisted in development
	// TrustedProxies (LUX_TRUSTED_PROXIES) are the addresses or CIDR ranges whose
	// X-Forwarded-For is believed; none by default.
	TrustedProxies []string
	// MetricsToken (LUX_METRICS_TOKEN) lets a scraper on another machine read /metrics.
	MetricsToken string
	// Timeouts of the HTTP server; zero values take the defaults (see Start).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Server is the HTTP server.
type Server struct {
	cfg      Config
	domain   handlers.Domain
	log      *slog.Logger
	echo     *echo.Echo
	sessions *Sessions
	pages    *handlers.Pages
	api      *handlers.API
	hooks    *handlers.Webhooks
}

// New builds the server and its routes over the domain's parts.
func New(cfg Config, d handlers.Domain, log *slog.Logger) *Server {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address (for sign-in throttling) is taken from X-Forwarded-For only when the
	// request comes from a trusted proxy (main checked the list with ParseTrustedProxies).
	e.IPExtractor, _ = ipExtractor(cfg.TrustedProxies)
	if e.IPExtractor == nil {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	secure := strings.HasPrefix(strings.ToLower(cfg.BaseURL), "https://")
	s := &Server{cfg: cfg, domain: d, log: log, echo: e, sessions: NewSessions(cfg.SessionSecret, secure, d.Identity),
		api: handlers.NewAPI(d), hooks: handlers.NewWebhooks(d)}
	s.pages = handlers.NewPages(d, s.sessions)
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID())
	e.Use(middleware.Recover())
	e.Use(s.logRequests)
	e.Use(metricsMiddleware)
	e.Use(securityHeaders(secure))
	e.Use(formLimit())
	e.Use(requireJSON)
	e.Use(checkText(maxBody))
	e.Use(csrfGuard(csrfKey(cfg.SessionSecret), secure, s.sessions))
	s.routes()
	return s
}

// Handler returns the server's http.Handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Start serves on cfg.Addr until ctx ends, then shuts down gracefully.
func (s *Server) Start(ctx context.Context) error {
	srv := &http.Server{Addr: s.cfg.Addr, Handler: s.echo, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: s.cfg.ReadTimeout, WriteTimeout: s.cfg.WriteTimeout, IdleTimeout: s.cfg.IdleTimeout}
	// A slow client cannot hold a connection for ever: the whole request must arrive within
	// ReadTimeout, an answer be written within WriteTimeout (CSV downloads push their own
	// deadline forward as each chunk goes out, handlers.StreamDeadline), and an idle
	// keep-alive connection is closed after IdleTimeout.
	if srv.ReadTimeout == 0 {
		srv.ReadTimeout = 60 * time.Second
	}
	if srv.WriteTimeout == 0 {
		srv.WriteTimeout = 60 * time.Second
	}
	if srv.IdleTimeout == 0 {
		srv.IdleTimeout = 120 * time.Second
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shutdown)
	}
}

// logRequests logs each request with its id, status and duration.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		res := c.Response()
		level := slog.LevelDebug
		if res.Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(c.Request().Context(), level, "request",
			"id", res.Header().Get(echo.HeaderXRequestID), "method", c.Request().Method,
			"path", c.Request().URL.Path, "status", res.Status, "dur", time.Since(start))
		return nil
	}
}
