package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/views"
)

// The middleware below decides who a request acts for and leaves it in the request's context
// for the handlers (handlers.SetKey, handlers.SetViewer).

// requireAPIKey authenticates "Authorization: Bearer lux_…" and records whom the key acts for.
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(auth, " ")
		if auth == "" {
			return billing.Errorf(billing.EUNAUTHORIZED, "send your API key as \"Authorization: Bearer lux_…\"; create one in Settings → API keys or with `lux apikey create`")
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return billing.Errorf(billing.EUNAUTHORIZED, "use the Bearer scheme: \"Authorization: Bearer lux_…\"")
		}
		id, err := s.domain.Identity.AuthenticateKey(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		handlers.SetKey(c, id)
		return next(c)
	}
}

// requireSession lets signed-in people through with their Viewer and sends everyone else to
// /login with a return path. The current organization comes from the session and is checked
// against the user's memberships on every request. The session itself is checked on the
// server: an ended one (signed out, password changed, removed from an org) gets the login page.
func (s *Server) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		user, ses, err := s.sessions.live(c)
		if billing.ErrorCode(err) == billing.EUNAUTHORIZED {
			if s.sessions.Token(c) != "" {
				s.sessions.forget(c) // ended on the server: drop the stale cookie
			}
			return toLogin(c)
		}
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		ms, err := s.domain.Identity.Memberships(ctx, user.ID)
		if err != nil {
			return err
		}
		m, err := s.domain.Identity.FindMembership(ctx, s.sessions.orgOf(c), user.ID)
		if billing.ErrorCode(err) == billing.ENOTFOUND && len(ms) > 0 {
			// The session's org is gone: use the user's first org instead.
			if m, err = s.domain.Identity.FindMembership(ctx, ms[0].OrgID, user.ID); err == nil {
				s.sessions.SetOrg(c, m.OrgID)
			}
		}
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return billing.Errorf(billing.EFORBIDDEN, "your account is not a member of any organization yet: ask an admin to add you, or sign up to create an organization")
		}
		if err != nil {
			return err
		}
		handlers.SetViewer(c, &handlers.Viewer{User: user, Membership: m, Memberships: ms,
			Loc: s.domain.Billing.Location(m.OrgTimezone)})
		if err := s.sessions.touch(c, ses); err != nil {
			return err
		}
		return next(c)
	}
}

// requireAdmin refuses members with a 403 page: the route is for admins of the current org.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := handlers.ViewerOf(c)
		if !v.Membership.IsAdmin() {
			return billing.Errorf(billing.EFORBIDDEN, "only admins of %s can open this page. Ask an admin of your organization if you need a change here", v.Membership.OrgName)
		}
		return next(c)
	}
}

// toLogin sends a signed-out visitor to /login, coming back to the page they asked for (GET
// only: a form post cannot be replayed).
func toLogin(c echo.Context) error {
	to := views.PathLogin
	if r := c.Request(); r.Method == http.MethodGet {
		if next := handlers.SafeNext(r.URL.RequestURI()); next != "" {
			to += "?next=" + url.QueryEscape(next)
		}
	}
	if handlers.IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusUnauthorized)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
