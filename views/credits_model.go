package views

import (
	"strconv"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// AddCredits is the Add Credits page: packs, a custom amount, what happens next, and the org's
// purchases with their refunds.
type AddCredits struct {
	Shell
	Demo      bool // the demo payment provider is on: no card is charged
	UnitPrice billing.Cents
	Balance   billing.Millicredits
	Packs     []CreditQuote
	Custom    CustomAmount
	Purchases []payments.PurchaseLine
	Loc       *time.Location
	Now       time.Time
}

// CreditQuote is an amount of credits with its price and the balance it would leave.
type CreditQuote struct {
	Credits int64 // whole credits
	Price   billing.Cents
	After   billing.Millicredits // the balance after the purchase
}

// CustomAmount is the custom amount form: what was typed, its quote when valid, or the error.
type CustomAmount struct {
	Value string
	Quote *CreditQuote
	Error string
}

// PurchaseStatus is the page a buyer lands on after paying (or cancelling): the purchase's
// state, polled until it is done.
type PurchaseStatus struct {
	Shell
	Purchase *payments.Purchase
	Balance  billing.Millicredits // the org's balance now
	Demo     bool
	Loc      *time.Location
	Now      time.Time
}

// DemoCheckout is the demo provider's payment page.
type DemoCheckout struct {
	Shell
	Purchase *payments.Purchase
	Error    string
}

// RefundConfirm is the confirm step of a refund of unused credits.
type RefundConfirm struct {
	Shell
	Purchase *payments.Purchase
	Quote    payments.RefundQuote
	Error    string
	Loc      *time.Location
	Now      time.Time
}

func int64String(n int64) string { return strconv.FormatInt(n, 10) }
