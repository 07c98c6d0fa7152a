package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing/identity"
)

// Session lifetimes: the cookie's max age is identity.SessionIdle, renewed at most every
// sessionRefresh while it is used; the server ends the session itself (identity.SessionIdle,
// identity.SessionMax, signing out, a password change, removal from the org).
const (
	sessionCookie  = "lux_session"
	sessionRefresh = time.Hour
)

// Session value keys.
const (
	keyToken   = "sid"
	keyOrg     = "org"
	flashKey   = "_flash"
	welcomeKey = "_welcome"
)

// SessionStore keeps sessions on the server, so that they can be ended there
// (identity.Service).
type SessionStore interface {
	StartSession(ctx context.Context, userID string) (string, error)
	SessionUser(ctx context.Context, token string) (*identity.User, *identity.Session, error)
	TouchSession(ctx context.Context, token string) error
	EndSession(ctx context.Context, token string) error
	EndSessions(ctx context.Context, userID string) (int64, error)
}

// Sessions keeps who is signed in: the cookie (signed with HMAC-SHA256 and encrypted with
// AES-256, HttpOnly, SameSite=Lax, Secure on https) carries a random session token and the
// current organization; the session itself is a row on the server (SessionStore), checked on
// every request, so ending it there ends it at once. Every request checks the membership
// again too.
type Sessions struct {
	store  *sessions.CookieStore
	server SessionStore
	now    func() time.Time
}

// NewSessions returns the session store keyed from secret (32 bytes or more). The signing and
// encryption keys are derived from it, so one secret configures both. An empty secret gets a
// random one: cookies then stop working when the server restarts.
func NewSessions(secret []byte, secure bool, server SessionStore) *Sessions {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	store := sessions.NewCookieStore(deriveKey(secret, "lux session signing"), deriveKey(secret, "lux session encryption"))
	store.MaxAge(int(identity.SessionIdle / time.Second))
	store.Options.Path = "/"
	store.Options.HttpOnly = true
	store.Options.Secure = secure
	store.Options.SameSite = http.SameSiteLaxMode
	return &Sessions{store: store, server: server, now: time.Now}
}

// deriveKey returns a 32-byte key for purpose from secret (HMAC-SHA256 as a key derivation).
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// get returns the request's session cookie; a missing or forged cookie gives a new, empty one.
func (s *Sessions) get(c echo.Context) *sessions.Session {
	sess, _ := s.store.Get(c.Request(), sessionCookie) // on error, sess is a new session
	return sess
}

// Token returns the session token the request's cookie carries ("" when none). It says
// nothing of whether the session is still live: requireSession checks that on the server.
func (s *Sessions) Token(c echo.Context) string {
	t, _ := s.get(c).Values[keyToken].(string)
	return t
}

func (s *Sessions) orgOf(c echo.Context) string {
	o, _ := s.get(c).Values[keyOrg].(string)
	return o
}

const liveSessionKey = "lux.session.live"

type liveSession struct {
	user *identity.User
	ses  *identity.Session
}

// live returns the user and session of the request's cookie when the server still has it
// (EUNAUTHORIZED when it does not). The answer is kept for the rest of the request.
func (s *Sessions) live(c echo.Context) (*identity.User, *identity.Session, error) {
	if r, ok := c.Get(liveSessionKey).(liveSession); ok {
		return r.user, r.ses, nil
	}
	u, ses, err := s.server.SessionUser(c.Request().Context(), s.Token(c))
	if err != nil {
		return nil, nil, err
	}
	c.Set(liveSessionKey, liveSession{u, ses})
	return u, ses, nil
}

// SignedIn reports whether the request carries a live session.
func (s *Sessions) SignedIn(c echo.Context) bool {
	_, _, err := s.live(c)
	return err == nil
}

// Login starts a session for user in org on the server and puts its token in the cookie,
// replacing whatever the cookie held.
func (s *Sessions) Login(c echo.Context, userID, orgID string) error {
	token, err := s.server.StartSession(c.Request().Context(), userID)
	if err != nil {
		return err
	}
	sess := s.get(c)
	sess.Values = map[any]any{keyToken: token, keyOrg: orgID}
	sess.Options = s.options(int(identity.SessionIdle / time.Second))
	s.save(c, sess)
	return nil
}

// SetOrg makes org the session's current organization; the caller checked the membership.
func (s *Sessions) SetOrg(c echo.Context, orgID string) {
	sess := s.get(c)
	sess.Values[keyOrg] = orgID
	s.save(c, sess)
}

// Logout ends the session on the server and deletes the cookie. With everywhere, it ends
// every session of the user, on every device.
func (s *Sessions) Logout(c echo.Context, everywhere bool) error {
	ctx := c.Request().Context()
	if everywhere {
		if user, _, err := s.live(c); err == nil {
			if _, err := s.server.EndSessions(ctx, user.ID); err != nil {
				return err
			}
		}
	}
	if t := s.Token(c); t != "" {
		if err := s.server.EndSession(ctx, t); err != nil {
			return err
		}
	}
	s.forget(c)
	return nil
}

// forget deletes the cookie (its session is gone on the server).
func (s *Sessions) forget(c echo.Context) {
	sess := s.get(c)
	sess.Values = map[any]any{}
	sess.Options = s.options(-1)
	s.save(c, sess)
}

// touch moves the session's idle deadline on, on the server and in the cookie, at most once
// per sessionRefresh.
func (s *Sessions) touch(c echo.Context, ses *identity.Session) error {
	if s.now().Sub(ses.SeenAt) < sessionRefresh {
		return nil
	}
	if err := s.server.TouchSession(c.Request().Context(), s.Token(c)); err != nil {
		return err
	}
	s.save(c, s.get(c))
	return nil
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
