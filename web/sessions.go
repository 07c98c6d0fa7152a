package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
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

// rememberOrg keeps org as the one to open at the next sign-in on this browser.
func (s *Sessions) rememberOrg(c echo.Context, orgID string) {
	c.SetCookie(&http.Cookie{Name: lastOrgCookie, Value: orgID, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: s.store.Options.Secure, SameSite: http.SameSiteLaxMode})
}

// lastOrg is the organization last used on this browser, or "".
func (s *Sessions) lastOrg(c echo.Context) string {
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

// Viewer is who is signed in, in which organization: the membership was checked on this request.
type Viewer struct {
	User        *billing.User
	Membership  *billing.Membership  // the current organization; never from a URL
	Memberships []billing.Membership // every organization of the user, for the switcher
}

const viewerKey = "lux.viewer"

// viewer returns the request's Viewer; only routes behind RequireSession may call it.
func viewer(c echo.Context) *Viewer { return c.Get(viewerKey).(*Viewer) }

// viewerOrNil returns the request's Viewer, or nil outside RequireSession.
func viewerOrNil(c echo.Context) *Viewer {
	v, _ := c.Get(viewerKey).(*Viewer)
	return v
}

// RequireSession lets signed-in people through with their Viewer and sends everyone else to
// /login with a return path. The current organization comes from the session and is checked
// against the user's memberships on every request: a user removed from it falls back to
// another of theirs.
func (h *Pages) RequireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		st := h.sessions.state(c)
		if st.UserID == "" {
			return toLogin(c)
		}
		ctx := c.Request().Context()
		user, err := h.billing.FindUserByID(ctx, st.UserID)
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			h.sessions.Logout(c)
			return toLogin(c)
		}
		if err != nil {
			return err
		}
		ms, err := h.billing.Memberships(ctx, user.ID)
		if err != nil {
			return err
		}
		m, err := h.billing.FindMembership(ctx, st.OrgID, user.ID)
		if billing.ErrorCode(err) == billing.ENOTFOUND && len(ms) > 0 {
			// The session's org is gone or the user left it: use their first org instead.
			if m, err = h.billing.FindMembership(ctx, ms[0].OrgID, user.ID); err == nil {
				h.sessions.SetOrg(c, m.OrgID)
			}
		}
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return billing.Errorf(billing.EFORBIDDEN, "your account is not a member of any organization yet: ask an admin to add you, or sign up to create an organization")
		}
		if err != nil {
			return err
		}
		c.Set(viewerKey, &Viewer{User: user, Membership: m, Memberships: ms})
		h.sessions.touch(c, st)
		return next(c)
	}
}

// RequireAdmin refuses members with a 403 page: the route is for admins of the current org.
func (h *Pages) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := viewer(c)
		if !v.Membership.IsAdmin() {
			return billing.Errorf(billing.EFORBIDDEN, "only admins of %s can open this page. Ask an admin of your organization if you need a change here", v.Membership.OrgName)
		}
		return next(c)
	}
}

// toLogin sends a signed-out visitor to /login, coming back to the page they asked for (GET
// only: a form post cannot be replayed).
func toLogin(c echo.Context) error {
	to := "/login"
	if r := c.Request(); r.Method == http.MethodGet {
		if next := safeNext(r.URL.RequestURI()); next != "" {
			to += "?next=" + url.QueryEscape(next)
		}
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// safeNext returns raw when it is a path of this site's settings pages, and "" otherwise, so
// that a crafted ?next= can never send someone to another site.
func safeNext(raw string) string {
	if raw == "" || !strings.HasPrefix(raw, "/settings") || strings.ContainsAny(raw, "\\\r\n") || strings.HasPrefix(raw, "//") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	if u.Path != "/settings" && !strings.HasPrefix(u.Path, "/settings/") {
		return ""
	}
	return u.RequestURI()
}
