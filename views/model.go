// Package views holds the templ components of the Settings → Billing pages. Components take
// plain view structs (this file) built by handlers/, never an echo.Context or a database; the
// helpers in format.go turn domain values into text for people.
package views

import (
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// Shell is what the frame of every signed-in page shows: who is signed in, in which
// organization, which nav item is active, and the CSRF token its forms carry.
type Shell struct {
	Title      string // the page's title, for <title>
	Active     string // the nav key of the page: see NavItems
	CSRF       string
	UserName   string
	UserEmail  string
	OrgID      string
	OrgName    string
	Role       string // identity.RoleAdmin or identity.RoleMember
	Orgs       []OrgChoice
	ReturnPath string   // where switching organization comes back to
	Flashes    []string // one-time messages from the previous request
	Unread     int      // unread notifications, for the bell (counted up to 100)
}

// IsAdmin reports whether the signed-in user is an admin of the current organization.
func (s Shell) IsAdmin() bool { return s.Role == identity.RoleAdmin }

// OrgChoice is one organization of the signed-in user, for the org switcher.
type OrgChoice struct {
	ID      string
	Name    string
	Role    string
	Current bool
}

// NavItem is one link of the side nav.
type NavItem struct {
	Key       string
	Label     string
	Href      string
	Icon      string
	AdminOnly bool
}

// Nav keys and paths of the Settings pages.
const (
	NavOverview      = "overview"
	NavUsage         = "usage"
	NavCredits       = "credits"
	NavHistory       = "history"
	NavLimits        = "limits"
	NavPlans         = "plans"
	NavCalculator    = "calculator"
	NavAPIKeys       = "api-keys"
	NavMembers       = "members"
	NavAccount       = "account"
	NavNotifications = "notifications"
)

// BillingNav lists the billing pages in nav order; AdminOnly ones are hidden from members.
var BillingNav = []NavItem{
	{NavOverview, "Overview", PathOverview, "gauge", false},
	{NavUsage, "Usage", PathUsage, "chart", false},
	{NavCredits, "Add credits", PathCredits, "plus", true},
	{NavHistory, "History", PathHistory, "receipt", false},
	{NavLimits, "Limits", PathLimits, "sliders", false},
	{NavPlans, "Plans", PathPlans, "layers", false},
	{NavCalculator, "Calculator", PathCalculator, "calculator", false},
}

// DeveloperNav lists the developer settings pages.
var DeveloperNav = []NavItem{
	{NavAPIKeys, "API keys", PathAPIKeys, "key", false},
}

// AccountNav lists the organization's people and the user's own sign-in settings.
var AccountNav = []NavItem{
	{NavMembers, "Members", PathMembers, "user", false},
	{NavAccount, "Sign-in & security", PathAccount, "lock", false},
}

// visible returns the items the shell's user may open.
func (s Shell) visible(items []NavItem) []NavItem {
	out := make([]NavItem, 0, len(items))
	for _, it := range items {
		if !it.AdminOnly || s.IsAdmin() {
			out = append(out, it)
		}
	}
	return out
}

// Overview is the billing overview page.
type Overview struct {
	Shell
	Now      time.Time
	Loc      *time.Location // the org's time zone: dates are shown in it
	Credits  *billing.CreditSummary
	Member   *billing.MemberStanding // the signed-in user's own limit and usage
	Forecast *reports.Forecast       // when credits run out at the last 7 days' rate
	Admins   []identity.Contact      // whom a member asks to add credits
	Usage    []reports.Activity      // latest usage entries
	Credited []reports.Activity      // latest grants, expiries, refunds and adjustments
	Welcome  bool                    // just signed up
	// PausedMembers are the other members whose own monthly limit is reached (admins only).
	PausedMembers []limits.Member
}

// APIKeys is the API keys page.
type APIKeys struct {
	Shell
	Keys      []identity.APIKey
	Loc       *time.Location
	Now       time.Time
	NewSecret string // the secret of a key just created, shown once
	NewName   string // the name of that key
	FormName  string // the name typed into the form, kept when creating failed
	Error     string // why creating a key failed
	Notice    string // what the last action did
	UserID    string // the signed-in user, whose keys are "yours"
}

// ComingSoon is the frame of a billing page whose contents arrive in a later release: it says
// what the page will do and shows the figures already at hand.
type ComingSoon struct {
	Shell
	Heading  string
	Subtitle string
	Icon     string
	Lead     string   // what the page will do
	Points   []string // what it will offer
	Facts    []Fact   // current figures worth seeing now
	Rates    []billing.Rate
}

// Fact is one label and value.
type Fact struct {
	Label string
	Value string
}

// Login is the sign-in page and form.
type Login struct {
	CSRF    string
	Email   string
	Next    string // a path to go to after signing in
	Error   string
	Notice  string
	Flashes []string
}

// Signup is the sign-up page and form.
type Signup struct {
	CSRF    string
	Email   string
	Name    string
	OrgName string
	Error   string
}

// ErrorPage shows a failed request to a person: what went wrong and what to do.
type ErrorPage struct {
	Status    int
	Title     string
	Message   string
	RequestID string // the X-Request-Id of the failed request (internal errors' messages name it)
	Shell     *Shell // nil when nobody is signed in: the page has no nav
	CSRF      string
	SignedIn  bool // a session exists (offer to log out) even without a shell
}
