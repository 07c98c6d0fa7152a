package web

import (
	"fmt"
	"net"
	"strings"

	"github.com/labstack/echo/v4"
)

// ipExtractor returns how the server finds a client's address (for sign-in throttling and
// logs). X-Forwarded-For is believed only when the request comes from one of the trusted
// proxies (LUX_TRUSTED_PROXIES: addresses or CIDR ranges, comma-separated); with none, the
// peer address is the client, whatever the headers say, so a header cannot dodge throttling.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			if ip := net.ParseIP(p); ip != nil && ip.To4() != nil {
				p += "/32"
			} else {
				p += "/128"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("LUX_TRUSTED_PROXIES: %q is not an IP address or CIDR range", p)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// ParseTrustedProxies splits LUX_TRUSTED_PROXIES ("10.0.0.1, 10.1.0.0/16") and checks each
// entry.
func ParseTrustedProxies(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	_, err := ipExtractor(out)
	return out, err
}
