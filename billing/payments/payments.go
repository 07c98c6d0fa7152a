// Package payments sells credits: a purchase is created (pending) before the buyer goes to the
// payment page of a PaymentProvider (Stripe Checkout, or the demo provider when no Stripe key
// is set); the provider's confirmation — a verified Stripe webhook, or the demo page's Pay
// button — goes through one fulfilment function that grants the purchase's credits exactly
// once; unused purchased credits are refunded pro rata within 30 days. Credits move only
// through the core's ledger API (billing.WithLedger), in the same transaction as this
// package's own rows (queries.sql).
package payments

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
)

//go:embed queries.sql
var queriesSQL string

// queryText holds the statements of queries.sql, one field per query name.
type queryText struct {
	InsertPurchase     string
	SetCheckout        string
	SelectPurchase     string
	SelectPurchaseOrg  string
	LockPurchase       string
	MarkPaid           string
	SetStatus          string
	NotePayment        string
	InsertEvent        string
	SelectPurchases    string
	InsertRefund       string
	SelectRefundOf     string
	DeleteFailedCreate string
	SetRefundProvider  string
}

// q is read-only after package initialisation; a missing name panics there.
var q = func() queryText {
	f := billing.ParseQueries("billing/payments/queries.sql", queriesSQL)
	return queryText{
		InsertPurchase:     f.Get("insert-purchase"),
		SetCheckout:        f.Get("set-checkout"),
		SelectPurchase:     f.Get("select-purchase"),
		SelectPurchaseOrg:  f.Get("select-purchase-org"),
		LockPurchase:       f.Get("lock-purchase"),
		MarkPaid:           f.Get("mark-paid"),
		SetStatus:          f.Get("set-status"),
		NotePayment:        f.Get("note-payment"),
		InsertEvent:        f.Get("insert-event"),
		SelectPurchases:    f.Get("select-purchases"),
		InsertRefund:       f.Get("insert-refund"),
		SelectRefundOf:     f.Get("select-refund-of"),
		DeleteFailedCreate: f.Get("delete-failed-create"),
		SetRefundProvider:  f.Get("set-refund-provider-id"),
	}
}()

// Purchase statuses.
const (
	StatusPending   = "pending"   // created; the buyer is on the payment page or paying
	StatusPaid      = "paid"      // paid and granted (once)
	StatusFailed    = "failed"    // the payment failed (an asynchronous method was declined)
	StatusCancelled = "cancelled" // the buyer cancelled, or the checkout expired
)

// Provider names.
const (
	ProviderStripe = "stripe"
	ProviderDemo   = "demo"
)

// Purchase amounts, in whole credits.
const (
	MinCredits = 100
	MaxCredits = 1_000_000
)

// Packs are the amounts the Add Credits page offers, in whole credits.
var Packs = []int64{1_000, 5_000, 10_000, 50_000}

// RefundWindow is how long after payment a purchase's unused credits can be refunded.
const RefundWindow = 30 * 24 * time.Hour

// Purchase is an order of credits and its state.
type Purchase struct {
	ID          string               `db:"id"`
	OrgID       string               `db:"org_id"`
	UserID      string               `db:"user_id"`
	Credits     billing.Millicredits `db:"credits_mc"`
	UnitPrice   billing.Cents        `db:"unit_price_cents"` // per whole credit
	Price       billing.Cents        `db:"price_cents"`
	Currency    string               `db:"currency"`
	Status      string               `db:"status"`
	Provider    string               `db:"provider"`
	SessionID   string               `db:"provider_session_id"`
	PaymentID   string               `db:"provider_payment_id"`
	CheckoutURL string               `db:"checkout_url"`
	GrantID     *int64               `db:"grant_id"`
	CreatedAt   time.Time            `db:"created_at"`
	PaidAt      *time.Time           `db:"paid_at"`
	// Refund is the refund of the purchase's unused credits, if any.
	Refund *Refund `db:"-"`
}

// Refund is a refund of a purchase's unused credits.
type Refund struct {
	ID         int64                `db:"id"`
	PurchaseID string               `db:"purchase_id"`
	OrgID      string               `db:"org_id"`
	Credits    billing.Millicredits `db:"credits_mc"`
	Amount     billing.Cents        `db:"amount_cents"`
	Currency   string               `db:"currency"`
	EntryID    int64                `db:"entry_id"`
	ProviderID string               `db:"provider_refund_id"`
	By         string               `db:"requested_by"`
	At         time.Time            `db:"created_at"`
}

// PaidPurchase is what a document issuer needs to invoice a purchase.
type PaidPurchase struct {
	PurchaseID string
	OrgID      string
	UserID     string // who bought
	Credits    billing.Millicredits
	UnitPrice  billing.Cents
	Amount     billing.Cents
	Currency   string
	PaidAt     time.Time
	GrantID    int64
	Provider   string
	PaymentID  string // the provider's payment (Stripe: pi_…)
}

// IssuedRefund is what a document issuer needs for the credit note of a refund.
type IssuedRefund struct {
	RefundID   int64
	PurchaseID string
	OrgID      string
	Credits    billing.Millicredits
	Amount     billing.Cents
	Currency   string
	At         time.Time
	EntryID    int64
	Provider   string // who returns the money (ProviderStripe, ProviderDemo)
	// Purchase is the refunded purchase as it was paid, so that an issuer can invoice it first
	// when it has no invoice yet (a purchase paid before documents were issued).
	Purchase PaidPurchase
}

// InvoiceIssuer issues the documents of payments. Its methods run inside the payment's own
// transaction (tx), after the ledger changed: an error rolls the grant or refund back. Both are
// idempotent per purchase and per refund.
type InvoiceIssuer interface {
	IssuePurchaseInvoice(ctx context.Context, tx *sqlx.Tx, p PaidPurchase) error
	IssueCreditNote(ctx context.Context, tx *sqlx.Tx, r IssuedRefund) error
}

// Config configures the payments service.
type Config struct {
	// Provider takes payments; nil means the demo provider.
	Provider PaymentProvider
	// UnitPrice is the price of one credit (LUX_CREDIT_PRICE_CENTS); 0 means 1 cent.
	UnitPrice billing.Cents
	// Currency of prices; "" means usd.
	Currency string
	// BaseURL is the public URL of the server, for the provider's return URLs.
	BaseURL string
	// WebhookSecret verifies Stripe webhooks (STRIPE_WEBHOOK_SECRET).
	WebhookSecret string
	// Issuer issues invoices and credit notes; nil issues none.
	Issuer InvoiceIssuer
	// DemoDelay is how long the demo provider takes to confirm a payment after Pay, as Stripe's
	// webhook arrives a moment after checkout; 0 confirms before the buyer is redirected.
	DemoDelay time.Duration
	Log       *slog.Logger
}

// Service sells and refunds credits. It is safe for concurrent use.
type Service struct {
	core *billing.Service
	ids  *identity.Service
	db   *sqlx.DB
	cfg  Config
}

// New returns the payments service over the core (credits move through its ledger API) and
// identity (only admins buy).
func New(core *billing.Service, ids *identity.Service, cfg Config) *Service {
	if cfg.Provider == nil {
		cfg.Provider = Demo{}
	}
	if cfg.UnitPrice <= 0 {
		cfg.UnitPrice = 1
	}
	if cfg.Currency == "" {
		cfg.Currency = "usd"
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{core: core, ids: ids, db: core.DB(), cfg: cfg}
}

// UnitPrice is the price of one credit.
func (s *Service) UnitPrice() billing.Cents { return s.cfg.UnitPrice }

// Currency is the currency of prices.
func (s *Service) Currency() string { return s.cfg.Currency }

// DemoMode reports whether payments go through the demo provider (no card is charged).
func (s *Service) DemoMode() bool { return s.cfg.Provider.Name() == ProviderDemo }

// Price is what n whole credits cost.
func (s *Service) Price(credits int64) billing.Cents { return billing.Cents(credits) * s.cfg.UnitPrice }

// ProRata is the part of price that unused of bought credits is worth, rounded to the nearest
// cent (half up).
func ProRata(price billing.Cents, unused, bought billing.Millicredits) billing.Cents {
	if bought <= 0 || unused <= 0 {
		return 0
	}
	return billing.Cents((2*int64(price)*int64(unused) + int64(bought)) / (2 * int64(bought)))
}

// notFound reports a missing row as ENOTFOUND with msg, and wraps anything else.
func notFound(err error, msg, op string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return billing.Errorf(billing.ENOTFOUND, "%s", msg)
	}
	return fmt.Errorf("payments: %s: %w", op, err)
}
