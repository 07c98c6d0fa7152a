package views

import (
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// Plans is the plan comparison and change page.
type Plans struct {
	Shell
	Loc        *time.Location
	Now        time.Time
	Status     *billing.PlanStatus
	Cards      []PlanCard
	Cycles     []billing.CycleUsage // the org's recent cycles, measured on every card
	DemoMode   bool                 // upgrades are paid through the demo provider
	Error      string               // why the last change was refused
	Checkout   *billing.PlanCheckout
	SalesEmail string
}

// PlanCard is one plan on the page, with what choosing it would do.
type PlanCard struct {
	Plan    billing.Plan
	Current bool
	Pending bool   // the pending change goes to this plan
	Action  string // "upgrade", "downgrade", "contact" or "" (nothing to do)
	Quote   *billing.PlanChangeQuote
	Fit     *billing.PlanFit // nil for Enterprise (its allotment is custom)
}

// PlanCheckoutPage is the demo provider's payment page for an upgrade.
type PlanCheckoutPage struct {
	Shell
	Loc      *time.Location
	Now      time.Time
	Checkout *billing.PlanCheckout
	Plan     billing.Plan
	Status   *billing.PlanStatus
	Error    string
}
