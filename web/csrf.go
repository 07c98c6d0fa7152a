package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/handlers"
)

// CSRF protection bound to the session. A form's token is an HMAC of the session's token (or,
// before signing in, of a random per-browser id kept in the lux_csrf cookie) under a key
// derived from the session secret: it is worth nothing in another session or another browser,
// and it changes when the person signs in or out. It is read from the form body (_csrf) or the
// X-CSRF-Token header (htmx), never from the query string, which leaks into logs and Referer
// headers. Browsers that send Sec-Fetch-Site: cross-site are refused whatever they carry.

const anonCookie = "lux_csrf"

// csrfGuard returns the middleware; key signs tokens.
func csrfGuard(key []byte, secure bool, sessions *Sessions) echo.MiddlewareFunc {
	token := func(binding string) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("csrf\x00" + binding))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if machinePath(r.URL.Path) {
				return next(c)
			}
			binding := sessions.Token(c)
			if binding == "" {
				binding = anonID(c, secure)
			}
			want := token(binding)
			c.Set(handlers.CSRFContextKey, want)
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			if r.Header.Get(echo.HeaderSecFetchSite) == "cross-site" {
				return errCrossSite
			}
			got := r.Header.Get("X-CSRF-Token")
			if got == "" {
				got = r.PostFormValue("_csrf") // the body only, never the query string
			}
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
				return errFormExpired
			}
			return next(c)
		}
	}
}

// anonID returns the browser's pre-session id, setting a new one when it has none.
func anonID(c echo.Context, secure bool) string {
	if ck, err := c.Cookie(anonCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	id := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: anonCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	// Later reads in this request see it too.
	c.Request().AddCookie(&http.Cookie{Name: anonCookie, Value: id})
	return id
}

// csrfKey derives the token-signing key from the session secret.
func csrfKey(secret []byte) []byte {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("lux csrf tokens"))
	return m.Sum(nil)
}
