package handlers

import (
	"net/http"
	"time"
	_ "time/tzdata" // organizations' time zones work on hosts without a zoneinfo database

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/views"
)

// Pages serves the Settings → Billing pages and signing in and out.
//
// A page handler is registered under the /settings group in web/routes.go (web.RequireSession,
// and RequireAdmin for admin pages), reads the org from viewer(c).Membership (never from the
// URL), calls the domain, and renders a views component whose view struct embeds
// h.Shell(c, views.NavX, "Title"); the component wraps its content in @App(v.Shell). Fragments
// for htmx are rendered when IsHTMX(c). Errors are returned: web/ turns them into an error page
// or an inline alert, or, for an Inline error, asks the handler to show the form again.
type Pages struct {
	Domain
	sessions Sessions
	// Failed sign-ins are throttled per email and address and per address by each server;
	// per account whatever the address, by every server together (identity.TakeSignInAttempt),
	// so that many addresses and replicas cannot share out the guessing. Sign-ups per address.
	loginByUser *Throttle
	loginByIP   *Throttle
	signups     *Throttle
}

// NewPages returns the page handlers. sessions keeps who is signed in.
func NewPages(d Domain, sessions Sessions) *Pages {
	return &Pages{
		Domain:      d,
		sessions:    sessions,
		loginByUser: NewThrottle(5, time.Minute),
		loginByIP:   NewThrottle(30, time.Minute),
		signups:     NewThrottle(10, 10*time.Minute),
	}
}

// Root sends / to the billing overview (which sends signed-out visitors on to /login).
func (h *Pages) Root(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, views.PathOverview)
}

// Shell builds the frame of a signed-in page: user, organization, switcher, nav and flashes.
func (h *Pages) Shell(c echo.Context, active, title string) views.Shell {
	v := viewer(c)
	s := views.Shell{
		Title: title, Active: active, CSRF: CSRFToken(c),
		UserName: v.User.Name, UserEmail: v.User.Email,
		OrgID: v.Membership.OrgID, OrgName: v.Membership.OrgName, Role: v.Membership.Role,
		ReturnPath: c.Request().URL.Path,
		Flashes:    h.sessions.Flashes(c),
	}
	for _, m := range v.Memberships {
		s.Orgs = append(s.Orgs, views.OrgChoice{ID: m.OrgID, Name: m.OrgName, Role: m.Role, Current: m.OrgID == v.Membership.OrgID})
	}
	s.Unread = h.unread(c)
	return s
}
