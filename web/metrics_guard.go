package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/luxstudio/lux-billing/billing"
)

// metrics serves Prometheus metrics only to the same machine (a loopback peer, not what any
// header claims) or to a scraper presenting LUX_METRICS_TOKEN as a bearer token.
func metrics(token string) echo.HandlerFunc {
	h := echo.WrapHandler(promhttp.Handler())
	return func(c echo.Context) error {
		if loopbackPeer(c.Request()) || bearerMatches(c.Request(), token) {
			return h(c)
		}
		return billing.Errorf(billing.EFORBIDDEN, "metrics are served to this machine only, or with \"Authorization: Bearer\" and the LUX_METRICS_TOKEN")
	}
}

func loopbackPeer(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func bearerMatches(r *http.Request, token string) bool {
	if token == "" {
		return false
	}
	scheme, secret, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	return ok && strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(secret)), []byte(token)) == 1
}
