package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
	_ "time/tzdata" // organizations' time zones work on hosts without a zoneinfo database

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// CSRFContextKey is where the CSRF middleware leaves the token that forms must post back.
const CSRFContextKey = "csrf"

// Pages serves the Settings → Billing pages and signing in and out.
//
// A page handler is registered under the /settings group in web/routes.go (RequireSession, and
// RequireAdmin for admin pages), reads the org from viewer(c).Membership (never from the URL),
// calls billing, and renders a views component whose view struct embeds
// h.shell(c, views.NavX, "Title"); the component wraps its content in @App(v.Shell). Fragments
// for htmx are rendered when isHTMX(c). Errors are returned: web/ turns them into an error page
// or an inline alert.
type Pages struct {
	billing  *billing.Service
	sessions *Sessions
	// Failed sign-ins are throttled per email and address, and per address; sign-ups per
	// address.
	loginByUser *Throttle
	loginByIP   *Throttle
	signups     *Throttle
}

// NewPages returns the page handlers. sessions keeps who is signed in.
func NewPages(svc *billing.Service, sessions *Sessions) *Pages {
	return &Pages{
		billing:     svc,
		sessions:    sessions,
		loginByUser: NewThrottle(5, time.Minute),
		loginByIP:   NewThrottle(30, time.Minute),
		signups:     NewThrottle(10, 10*time.Minute),
	}
}

// Root sends / to the billing overview (which sends signed-out visitors on to /login).
func (h *Pages) Root(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/settings/billing")
}

// render writes a component with status. It renders into a buffer first, so a failing
// component becomes a clean error page rather than half a page. Pages hold account data, so
// no cache may keep them.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("handlers: render %s: %w", c.Path(), err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// isHTMX reports whether htmx made the request (it then wants a fragment, not a page).
func isHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// redirect sends the browser to path after a form post: a 303 for a plain form, HX-Redirect
// (a full page load) for htmx.
func redirect(c echo.Context, path string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// csrfToken is the token the request's forms must carry.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(CSRFContextKey).(string)
	return t
}

// shell builds the frame of a signed-in page: user, organization, switcher, nav and flashes.
func (h *Pages) shell(c echo.Context, active, title string) views.Shell {
	v := viewer(c)
	s := views.Shell{
		Title: title, Active: active, CSRF: csrfToken(c),
		UserName: v.User.Name, UserEmail: v.User.Email,
		OrgID: v.Membership.OrgID, OrgName: v.Membership.OrgName, Role: v.Membership.Role,
		ReturnPath: c.Request().URL.Path,
		Flashes:    h.sessions.popFlashes(c, flashKey),
	}
	for _, m := range v.Memberships {
		s.Orgs = append(s.Orgs, views.OrgChoice{ID: m.OrgID, Name: m.OrgName, Role: m.Role, Current: m.OrgID == v.Membership.OrgID})
	}
	return s
}

// location is an organization's time zone; an unknown name falls back to UTC.
func location(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// formError turns a billing error a person can fix into the status and message a form shows
// inline. ok is false for anything else (an internal error goes to the error handler).
func formError(err error) (status int, msg string, ok bool) {
	switch code := billing.ErrorCode(err); code {
	case billing.EINVALID, billing.EUNAUTHORIZED, billing.ECONFLICT, billing.EFORBIDDEN,
		billing.ENOTFOUND, billing.ERATELIMIT, billing.ETOOLARGE:
		return StatusOf(code), views.Sentence(billing.ErrorMessage(err)), true
	}
	return 0, "", false
}
