package web

import (
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
)

// machinePath reports whether a path serves machines (the JSON API, webhooks, probes, metrics,
// assets) rather than people's browser sessions: those carry no session cookie, so CSRF does not
// apply, and an API key or a signature authenticates them instead.
func machinePath(path string) bool {
	for _, p := range []string{"/api/", "/webhooks/", "/static/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return path == "/healthz" || path == "/metrics"
}

var (
	errFormExpired = billing.Errorf(billing.EFORBIDDEN, "this form has expired or came from another site. Reload the page and try again")
	errCrossSite   = billing.Errorf(billing.EFORBIDDEN, "this request came from another site, so it was refused. Open Lux Billing directly and try again")
)

// maxFormBytes bounds the body of a browser request; the API and webhooks have their own
// limits.
const maxFormBytes = "64K"

// maxBody is the most a request body to path may hold.
func maxBody(path string) int64 {
	if machinePath(path) {
		return handlers.MaxBodyBytes
	}
	return 64 << 10
}

// formLimit refuses page requests with bodies over maxFormBytes (413).
func formLimit() echo.MiddlewareFunc {
	return middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Skipper: func(c echo.Context) bool { return machinePath(c.Request().URL.Path) },
		Limit:   maxFormBytes,
	})
}

// securityHeaders sets the headers every response should carry: no framing, no MIME sniffing,
// a strict Content-Security-Policy (scripts only from this site; inline style attributes are
// allowed for meters and charts), and HSTS on https.
func securityHeaders(secure bool) echo.MiddlewareFunc {
	cfg := middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
	}
	if secure {
		cfg.HSTSMaxAge = 63072000
	}
	return middleware.SecureWithConfig(cfg)
}
