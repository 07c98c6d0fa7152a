// Package documents issues and keeps an organization's billing documents: an invoice for each
// purchase and plan charge, a credit note for each refund (naming the invoice it corrects) and a
// consolidated statement for each billing cycle, and renders them as PDFs.
//
// A document is issued once, in the transaction that makes it true (the payment's fulfilment,
// the refund, the statement run), with a gap-free sequential number per series and year. Its
// seller and bill-to blocks, lines and totals are stored as issued and never change; the PDF is
// rendered from those stored figures, so rendering again gives the same document. Documents read
// the ledger and the usage rollups; they never write them.
package documents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// Document kinds.
const (
	KindInvoice    = "invoice"
	KindCreditNote = "credit_note"
	KindStatement  = "statement"
)

// Document sources: what a document is for.
const (
	SourcePurchase   = "purchase"    // an invoice for bought credits
	SourcePlanCharge = "plan_charge" // an invoice for a plan's price
	SourceRefund     = "refund"      // a credit note
	SourceCycle      = "cycle"       // a monthly statement
)

// Document statuses, fixed when issued.
const (
	StatusPaid     = "paid"
	StatusRefunded = "refunded"
	StatusIssued   = "issued"
)

// CurrencyCredits is the currency of statements: they account for credits, not money.
const CurrencyCredits = "credits"

// Party is a seller or a customer as printed on a document.
type Party struct {
	Name    string   `json:"name"`
	Address []string `json:"address,omitempty"` // lines, top to bottom
	Country string   `json:"country,omitempty"` // ISO 3166-1 alpha-2
	TaxID   string   `json:"taxId,omitempty"`
	Email   string   `json:"email,omitempty"`
}

// Line is one line of an invoice or credit note. Amounts are in minor currency units.
type Line struct {
	Description string               `json:"description"`
	Detail      string               `json:"detail,omitempty"`
	Quantity    int64                `json:"quantity"`
	Unit        string               `json:"unit,omitempty"`
	UnitCents   int64                `json:"unitCents"`
	AmountCents int64                `json:"amountCents"`
	Credits     billing.Millicredits `json:"credits,omitempty"`
}

// Body is what a document stores as issued besides its columns: the parties, the lines and,
// for a statement, the cycle's figures. Timezone is the org's zone, in which its dates print.
type Body struct {
	Seller         Party      `json:"seller"`
	BillTo         Party      `json:"billTo"`
	Timezone       string     `json:"timezone"`
	Lines          []Line     `json:"lines,omitempty"`
	TaxLabel       string     `json:"taxLabel,omitempty"`
	TaxRateBP      int64      `json:"taxRateBp,omitempty"` // basis points: 825 = 8.25 %
	PaymentRef     string     `json:"paymentRef,omitempty"`
	PaidAt         *time.Time `json:"paidAt,omitempty"`
	CorrectsNumber string     `json:"correctsNumber,omitempty"`
	CorrectsDate   *time.Time `json:"correctsDate,omitempty"`
	Reason         string     `json:"reason,omitempty"`
	Statement      *Statement `json:"statement,omitempty"`
}

// Document is an issued document.
type Document struct {
	ID            int64                `db:"id"`
	OrgID         string               `db:"org_id"`
	Kind          string               `db:"kind"`
	Source        string               `db:"source"`
	SourceRef     string               `db:"source_ref"`
	Number        string               `db:"number"`
	Title         string               `db:"title"`
	IssuedAt      time.Time            `db:"issued_at"`
	PeriodStart   *time.Time           `db:"period_start"`
	PeriodEnd     *time.Time           `db:"period_end"`
	Status        string               `db:"status"`
	Currency      string               `db:"currency"`
	Subtotal      billing.Cents        `db:"subtotal_cents"`
	Tax           billing.Cents        `db:"tax_cents"`
	Total         billing.Cents        `db:"total_cents"`
	Credits       billing.Millicredits `db:"credits_mc"`
	PaymentMethod string               `db:"payment_method"`
	CorrectsID    *int64               `db:"corrects_id"`
	BodyJSON      []byte               `db:"body"`
	// Refunded is the total of the credit notes that correct an invoice (listings only).
	Refunded billing.Cents `db:"refunded_cents"`

	Body Body `db:"-"`
}

// Config is the documents' configuration: who sells, and the tax rate.
type Config struct {
	Seller Party
	// TaxRateBP is the tax rate in basis points (0 unless configured). Prices are tax-inclusive:
	// an invoice's total is what was paid, split into net and tax.
	TaxRateBP int64
	TaxLabel  string
}

// DefaultSeller is the seller block when none is configured.
var DefaultSeller = Party{
	Name:    "Lux Studio, Inc.",
	Address: []string{"548 Market Street, Suite 400", "San Francisco, CA 94104"},
	Country: "US",
	Email:   "billing@lux.local",
}

// Service issues, lists and renders documents. It is safe for concurrent use.
type Service struct {
	db          *sqlx.DB
	now         func() time.Time
	cfg         Config
	onStatement func(ctx context.Context, tx *sqlx.Tx, d *Document) error
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests and the demo seed).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns a documents service on db with cfg; an empty seller name means DefaultSeller.
func New(db *sqlx.DB, cfg Config, opts ...Option) *Service {
	if cfg.Seller.Name == "" {
		cfg.Seller = DefaultSeller
	}
	if cfg.TaxLabel == "" {
		cfg.TaxLabel = "Tax"
	}
	s := &Service{db: db, now: time.Now, cfg: cfg}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// inTx runs fn in a transaction, committing when fn returns nil.
func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("documents: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("documents: commit: %w", err)
	}
	return nil
}

// decode fills d.Body from the stored JSON.
func (d *Document) decode() error {
	if len(d.BodyJSON) == 0 {
		return nil
	}
	if err := json.Unmarshal(d.BodyJSON, &d.Body); err != nil {
		return fmt.Errorf("documents: decode %s: %w", d.Number, err)
	}
	return nil
}

// notFound is the answer for a document that does not exist or is another org's: the same
// message either way, so numbers cannot be probed.
func notFound(number string) error {
	return billing.Errorf(billing.ENOTFOUND, "No document %s in this organization. Check the number on the History page.", number)
}

// FindByNumber returns org's document with number. Another org's document, or none, is
// ENOTFOUND.
func (s *Service) FindByNumber(ctx context.Context, orgID, number string) (*Document, error) {
	var d Document
	if err := s.db.GetContext(ctx, &d, q.selectDocument, orgID, number); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound(number)
		}
		return nil, fmt.Errorf("documents: find %s: %w", number, err)
	}
	return &d, d.decode()
}

// Location returns the document's time zone for printing dates (UTC when unknown).
func (d *Document) Location() *time.Location {
	if loc, err := time.LoadLocation(d.Body.Timezone); err == nil && d.Body.Timezone != "" {
		return loc
	}
	return time.UTC
}

// ParseTaxRate reads a tax rate in percent with up to two decimals ("8.25", "20", "") as basis
// points; "" is 0. Anything else, or a rate over 100 %, is EINVALID.
func ParseTaxRate(s string) (int64, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	if s == "" {
		return 0, nil
	}
	bad := billing.Errorf(billing.EINVALID, "LUX_TAX_RATE %q must be a percentage with up to two decimals, such as 8.25", s)
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 || whole == "" {
		return 0, bad
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > 100 {
		return 0, bad
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 2-len(frac)), 10, 64); err != nil || f < 0 {
			return 0, bad
		}
	}
	if bp := w*100 + f; bp <= 10000 {
		return bp, nil
	}
	return 0, bad
}

// SplitLines splits a configured address on newlines or semicolons into trimmed lines.
func SplitLines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ';' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
