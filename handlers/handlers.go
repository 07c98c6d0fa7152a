// Package handlers turn one HTTP request into one call of the domain and its response: bind and
// validate the request, call billing (the core), identity or reports, and render JSON (shapes
// in package api) or a views component. They never import web/: who is signed in and which key
// is used arrive in the request's context (Viewer, KeyOf), set by web's middleware, and errors
// are returned for web/ to map to a status in one place.
package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	calc "github.com/luxstudio/lux-billing/billing/estimate"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
	"github.com/luxstudio/lux-billing/billing/notify"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// Domain is every part of the domain the handlers call; main builds it once. A capability adds
// its Service here.
type Domain struct {
	Billing  *billing.Service // the core: credits, ledger, ingestion, limits
	Identity *identity.Service
	Reports  *reports.Service
	// PlanChanges changes plans with payment (demo provider until main configures Stripe).
	PlanChanges *payments.Plans
	Estimate    *calc.Service // the cost calculator
	// Documents issues and renders invoices, credit notes and statements.
	Documents *documents.Service
	// Payments buys and refunds credits (demo provider until main configures Stripe).
	Payments *payments.Service
	// Limits changes limits and alert settings with their audit log.
	Limits *limits.Service
	// Notify reads notifications in-app and keeps the org's webhook (main configures mail).
	Notify *notify.Service
}

// NewDomain builds identity, reports, documents and the calculator over the core, and plan
// changes and payments through the demo provider (main replaces them with the configured ones);
// payments' purchases and refunds are invoiced by documents. The
// calculator prices credits at the default price; main replaces it when LUX_CREDIT_PRICE_CENTS
// says otherwise.
func NewDomain(core *billing.Service) Domain {
	ids := identity.New(core)
	d := Domain{Billing: core, Identity: ids, Reports: reports.New(core),
		PlanChanges: payments.NewPlans(core, payments.PlanConfig{})}
	d.Documents = documents.New(core.DB(), documents.Config{})
	d.Limits = limits.New(core, ids)
	d.Payments = payments.New(core, ids, payments.Config{Issuer: documents.PaymentInvoicer{Docs: d.Documents}})
	d.Estimate = calc.New(core, d.Reports, calc.DefaultCreditPriceCents)
	d.Notify = notify.New(core, notify.Config{})
	return d
}

// Sessions is what the page handlers need of the session cookie (web.Sessions implements it).
type Sessions interface {
	SignedIn(c echo.Context) bool
	Login(c echo.Context, userID, orgID string) error // starts a session, replacing the cookie's
	Logout(c echo.Context, everywhere bool) error     // ends it (with everywhere, all the user's)
	SetOrg(c echo.Context, orgID string)              // the caller checked the membership
	RememberOrg(c echo.Context, orgID string)         // open it at the next sign-in on this browser
	LastOrg(c echo.Context) string                    // "" when none
	Flash(c echo.Context, msg string)                 // for the next page
	Flashes(c echo.Context) []string                  // this page's, forgotten once read
	Welcome(c echo.Context)                           // the next page is the first after signing up
	Welcomed(c echo.Context) bool
}

// Context keys set by web/'s middleware.
const (
	// CSRFContextKey is where the CSRF middleware leaves the token that forms must post back.
	CSRFContextKey = "csrf"
	viewerKey      = "lux.viewer"
	keyIdentity    = "lux.key"
)

// Viewer is who is signed in, in which organization: the membership was checked on this request.
type Viewer struct {
	User        *identity.User
	Membership  *identity.Membership  // the current organization; never from a URL
	Memberships []identity.Membership // every organization of the user, for the switcher
	Loc         *time.Location        // the current organization's time zone
}

// SetViewer records the request's Viewer (web.RequireSession).
func SetViewer(c echo.Context, v *Viewer) { c.Set(viewerKey, v) }

// ViewerOf returns the request's Viewer, or nil outside web.RequireSession.
func ViewerOf(c echo.Context) *Viewer {
	v, _ := c.Get(viewerKey).(*Viewer)
	return v
}

// viewer returns the request's Viewer; only routes behind web.RequireSession call it.
func viewer(c echo.Context) *Viewer { return c.Get(viewerKey).(*Viewer) }

// SetKey records whom the request's API key acts for (web.RequireAPIKey).
func SetKey(c echo.Context, id *identity.KeyIdentity) { c.Set(keyIdentity, id) }

// apiKey returns whom the request's API key acts for; only routes behind web.RequireAPIKey
// call it.
func apiKey(c echo.Context) *identity.KeyIdentity { return c.Get(keyIdentity).(*identity.KeyIdentity) }

// CSRFToken is the token the request's forms must carry.
func CSRFToken(c echo.Context) string {
	t, _ := c.Get(CSRFContextKey).(string)
	return t
}

// Inline is a failure the handler answers itself, where the person can act on it: a form shown
// again with its message, or the API's refusal body. web/ calls Show with the status of Err's
// code and the message to show when Err is one a person can fix (web.inlineCodes), and treats
// Err as any other error otherwise.
type Inline struct {
	Err  error
	Show func(c echo.Context, status int, msg string) error
}

func (e *Inline) Error() string { return e.Err.Error() }
func (e *Inline) Unwrap() error { return e.Err }

// inline returns err to be shown by show (see Inline); nil stays nil.
func inline(err error, show func(c echo.Context, status int, msg string) error) error {
	if err == nil {
		return nil
	}
	return &Inline{Err: err, Show: show}
}

// Render writes a component with status. It renders into a buffer first, so a failing
// component becomes a clean error page rather than half a page. Pages hold account data, so
// no cache may keep them.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return fmt.Errorf("handlers: render %s: %w", c.Path(), err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "HX-Request")
	return c.HTMLBlob(status, buf.Bytes())
}

// IsHTMX reports whether htmx made the request (it then wants a fragment, not a page).
func IsHTMX(c echo.Context) bool { return c.Request().Header.Get("HX-Request") == "true" }

// redirect sends the browser to path after a form post: a 303 for a plain form, HX-Redirect
// (a full page load) for htmx.
func redirect(c echo.Context, path string) error {
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Redirect", path)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, path)
}

// renderForm answers a form post that failed: the form alone for htmx (it swaps itself), the
// whole page otherwise.
func renderForm(c echo.Context, status int, form, page templ.Component) error {
	if IsHTMX(c) {
		return Render(c, status, form)
	}
	return Render(c, status, page)
}
