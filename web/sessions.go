package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
)

// Session lifetimes. A session ends after sessionIdle without a visit (the cookie's max age,
// renewed at most every sessionRefresh while it is used) and sessionMax after signing in,
// whatever happens.
const (
	sessionCookie  = "lux_session"
	sessionIdle    = 7 * 24 * time.Hour
	sessionMax     = 30 * 24 * time.Hour
	sessionRefresh = time.Hour
)

// Session value keys.
const (
	keyUser    = "uid"
	keyOrg     = "org"
	keyAuthAt  = "auth"
	keySeenAt  = "seen"
	flashKey   = "_flash"
	welcomeKey = "_welcome"
)

// Sessions keeps who is signed in and their current organization in a cookie that is signed
// (HMAC-SHA256) and encrypted (AES-256), HttpOnly, SameSite=Lax and Secure on https. The cookie
// only names the user and the org: every request checks the membership again.
type Sessions struct {
	store *sessions.CookieStore
	now   func() time.Time
}

// NewSessions returns the session store keyed from secret (32 bytes or more). The signing and
// encryption keys are derived from it, so one secret configures both. An empty secret gets a
// random one: sessions then end when the server restarts.
func NewSessions(secret []byte, secure bool) *Sessions {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	store := sessions.NewCookieStore(deriveKey(secret, "lux session signing"), deriveKey(secret, "lux session encryption"))
	store.MaxAge(int(sessionIdle / time.Second))
	store.Options.Path = "/"
	store.Options.HttpOnly = true
	store.Options.Secure = secure
	store.Options.SameSite = http.SameSiteLaxMode
	return &Sessions{store: store, now: time.Now}
}

// deriveKey returns a 32-byte key for purpose from secret (HMAC-SHA256 as a key derivation).
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// sessionState is what a session cookie holds.
type sessionState struct {
	UserID string
	OrgID  string
	AuthAt time.Time
	SeenAt time.Time
}

// get returns the request's session; a missing, forged or expired cookie gives a new, empty one.
func (s *Sessions) get(c echo.Context) *sessions.Session {
	sess, _ := s.store.Get(c.Request(), sessionCookie) // on error, sess is a new session
	return sess
}

// state reads who is signed in. Past sessionMax since signing in, nobody is.
func (s *Sessions) state(c echo.Context) sessionState {
	sess := s.get(c)
	var st sessionState
	st.UserID, _ = sess.Values[keyUser].(string)
	st.OrgID, _ = sess.Values[keyOrg].(string)
	if at, ok := sess.Values[keyAuthAt].(int64); ok {
		st.AuthAt = time.Unix(at, 0)
	}
	if at, ok := sess.Values[keySeenAt].(int64); ok {
		st.SeenAt = time.Unix(at, 0)
	}
	if st.UserID != "" && s.now().Sub(st.AuthAt) > sessionMax {
		return sessionState{}
	}
	return st
}

// SignedIn reports whether the request carries a live session.
func (s *Sessions) SignedIn(c echo.Context) bool { return s.state(c).UserID != "" }

// Login starts a session for user in org, replacing whatever the cookie held.
func (s *Sessions) Login(c echo.Context, userID, orgID string) {
	sess := s.get(c)
	sess.Values = map[any]any{}
	now := s.now().Unix()
	sess.Values[keyUser], sess.Values[keyOrg] = userID, orgID
	sess.Values[keyAuthAt], sess.Values[keySeenAt] = now, now
	sess.Options = s.options(int(sessionIdle / time.Second))
	s.save(c, sess)
}

// SetOrg makes org the session's current organization; the caller checked the membership.
func (s *Sessions) SetOrg(c echo.Context, orgID string) {
	sess := s.get(c)
	sess.Values[keyOrg] = orgID
	s.save(c, sess)
}

// Logout ends the session: the cookie is deleted.
func (s *Sessions) Logout(c echo.Context) {
	sess := s.get(c)
	sess.Values = map[any]any{}
	sess.Options = s.options(-1)
	s.save(c, sess)
}

// touch renews the cookie's idle deadline, at most once per sessionRefresh.
func (s *Sessions) touch(c echo.Context, st sessionState) {
	if s.now().Sub(st.SeenAt) < sessionRefresh {
		return
	}
	sess := s.get(c)
	sess.Values[keySeenAt] = s.now().Unix()
	s.save(c, sess)
}

// Flash keeps a message for the next page the user sees.
func (s *Sessions) Flash(c echo.Context, msg string) { s.addFlash(c, msg, flashKey) }

func (s *Sessions) addFlash(c echo.Context, msg, key string) {
	sess := s.get(c)
	sess.AddFlash(msg, key)
	s.save(c, sess)
}

// Flashes returns and forgets the messages kept for this page.
func (s *Sessions) Flashes(c echo.Context) []string { return s.popFlashes(c, flashKey) }

// Welcome marks the next page as the first after signing up.
func (s *Sessions) Welcome(c echo.Context) { s.addFlash(c, "1", welcomeKey) }

// Welcomed reports (once) whether this page is the first after signing up.
func (s *Sessions) Welcomed(c echo.Context) bool { return len(s.popFlashes(c, welcomeKey)) > 0 }

// popFlashes returns and forgets the messages kept under key.
func (s *Sessions) popFlashes(c echo.Context, key string) []string {
	sess := s.get(c)
	raw := sess.Flashes(key)
	if len(raw) == 0 {
		return nil
	}
	s.save(c, sess)
	out := make([]string, 0, len(raw))
	for _, f := range raw {
		if m, ok := f.(string); ok {
			out = append(out, m)
		}
	}
	return out
}

// lastOrgCookie remembers the organization last used on this browser, so that signing in again
// opens it. It only names an org id (not a secret); the membership is checked before use.
const lastOrgCookie = "lux_last_org"

// RememberOrg keeps org as the one to open at the next sign-in on this browser.
func (s *Sessions) RememberOrg(c echo.Context, orgID string) {
	c.SetCookie(&http.Cookie{Name: lastOrgCookie, Value: orgID, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.store.Options.Secure, SameSite: http.SameSiteLaxMode})
}

// LastOrg is the organization last used on this browser, or "".
func (s *Sessions) LastOrg(c echo.Context) string {
	if ck, err := c.Cookie(lastOrgCookie); err == nil {
		return ck.Value
	}
	return ""
}

const sessionSaveKey = "lux.session.save"

// save writes the session cookie once, just before the response's headers go out, however
// many changes the request made: one Set-Cookie per response.
func (s *Sessions) save(c echo.Context, sess *sessions.Session) {
	if c.Get(sessionSaveKey) != nil {
		return
	}
	c.Set(sessionSaveKey, true)
	c.Response().Before(func() {
		// Encoding fails only for a cookie over 4 KB, which these few values never reach.
		_ = sess.Save(c.Request(), c.Response())
	})
}

func (s *Sessions) options(maxAge int) *sessions.Options {
	o := *s.store.Options
	o.MaxAge = maxAge
	return &o
}
