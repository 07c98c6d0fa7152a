package documents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// Number series. Each numbers its documents per calendar year (UTC) from 1, without gaps:
// LUX-2026-000042 (invoices), LUX-CN-2026-000007 (credit notes), LUX-ST-2026-000123
// (statements).
const (
	SeriesInvoice    = "LUX"
	SeriesCreditNote = "LUX-CN"
	SeriesStatement  = "LUX-ST"
)

func seriesOf(kind string) string {
	switch kind {
	case KindCreditNote:
		return SeriesCreditNote
	case KindStatement:
		return SeriesStatement
	}
	return SeriesInvoice
}

// FormatNumber is a document's number: series, year and a six-digit sequence.
func FormatNumber(series string, year int, seq int64) string {
	return fmt.Sprintf("%s-%d-%06d", series, year, seq)
}

// Purchase is what payments knows of a paid purchase of credits: the facts its invoice states.
type Purchase struct {
	OrgID string
	// Ref identifies the purchase (its payment reference); one invoice per Ref.
	Ref       string
	Credits   billing.Millicredits
	UnitCents billing.Cents // price of one credit
	Amount    billing.Cents // what was paid, tax included
	Currency  string        // ISO code, e.g. "usd"
	PaidAt    time.Time     // when it was paid; zero means now
	// IssuedAt is the invoice's date when it is issued after the payment (a purchase paid
	// before invoices were issued, invoiced when it is refunded); zero means PaidAt.
	IssuedAt time.Time
	// Method says how it was paid, e.g. "Card (Stripe)" or "Demo payment (no card charged)".
	Method     string
	PaymentRef string // e.g. the Stripe payment intent, printed on the invoice
}

// PlanCharge is what payments or plans know of a paid plan charge.
type PlanCharge struct {
	OrgID       string
	Ref         string // one invoice per Ref
	PlanName    string // e.g. "Pro"
	PeriodStart time.Time
	PeriodEnd   time.Time
	// Detail explains the amount, e.g. "Upgrade from Starter, pro rata for 17 of 30 days".
	Detail     string
	Amount     billing.Cents // paid, tax included
	Currency   string
	PaidAt     time.Time // zero means now
	Method     string
	PaymentRef string
}

// Refund is what payments knows of a refund: the facts its credit note states.
type Refund struct {
	OrgID string
	Ref   string // one credit note per Ref
	// InvoiceSource and InvoiceRef name the invoice it corrects: the Purchase.Ref (source
	// SourcePurchase) or PlanCharge.Ref (SourcePlanCharge) it was issued for.
	InvoiceSource string
	InvoiceRef    string
	Credits       billing.Millicredits // credits removed
	Amount        billing.Cents        // money returned, tax included
	Currency      string
	RefundedAt    time.Time // zero means now
	Method        string    // e.g. "Refund to card (Stripe)"
	PaymentRef    string    // e.g. the Stripe refund id
	Reason        string
}

// IssuePurchaseInvoice issues the invoice for a paid purchase inside tx, the transaction that
// fulfils it. Issuing again for the same p.Ref returns the invoice already issued.
func (s *Service) IssuePurchaseInvoice(ctx context.Context, tx *sqlx.Tx, p Purchase) (*Document, error) {
	if p.Credits <= 0 || p.Amount < 0 || p.Ref == "" {
		return nil, billing.Errorf(billing.EINVALID, "an invoice needs a purchase reference, credits and an amount")
	}
	line := Line{
		Description: "Lux credits (prepaid)",
		Detail:      "Purchased credits, added to the balance at once; they never expire",
		Quantity:    int64(p.Credits / billing.Credit),
		Unit:        "credits",
		UnitCents:   int64(p.UnitCents),
		AmountCents: int64(p.Amount),
		Credits:     p.Credits,
	}
	if p.Credits%billing.Credit != 0 || p.UnitCents == 0 {
		line.Quantity, line.Unit, line.UnitCents = 1, "", int64(p.Amount)
	}
	d := &Document{
		OrgID: p.OrgID, Kind: KindInvoice, Source: SourcePurchase, SourceRef: p.Ref,
		Title:  fmt.Sprintf("Purchase of %s credits", p.Credits),
		Status: StatusPaid, Currency: currency(p.Currency), Total: p.Amount, Credits: p.Credits,
		PaymentMethod: p.Method, IssuedAt: p.PaidAt,
		Body: Body{Lines: []Line{line}, PaymentRef: p.PaymentRef},
	}
	if !p.IssuedAt.IsZero() {
		paid := p.PaidAt.UTC().Truncate(time.Microsecond)
		d.IssuedAt, d.Body.PaidAt = p.IssuedAt, &paid
	}
	return s.issue(ctx, tx, d)
}

// IssuePlanInvoice issues the invoice for a paid plan charge inside tx. Issuing again for the
// same c.Ref returns the invoice already issued.
func (s *Service) IssuePlanInvoice(ctx context.Context, tx *sqlx.Tx, c PlanCharge) (*Document, error) {
	if c.Ref == "" || c.Amount < 0 || c.PlanName == "" {
		return nil, billing.Errorf(billing.EINVALID, "a plan invoice needs a charge reference, a plan and an amount")
	}
	start, end := c.PeriodStart, c.PeriodEnd
	d := &Document{
		OrgID: c.OrgID, Kind: KindInvoice, Source: SourcePlanCharge, SourceRef: c.Ref,
		Title:  c.PlanName + " plan",
		Status: StatusPaid, Currency: currency(c.Currency), Total: c.Amount,
		PaymentMethod: c.Method, IssuedAt: c.PaidAt, PeriodStart: &start, PeriodEnd: &end,
		Body: Body{PaymentRef: c.PaymentRef, Lines: []Line{{
			Description: c.PlanName + " plan", Detail: c.Detail,
			Quantity: 1, UnitCents: int64(c.Amount), AmountCents: int64(c.Amount),
		}}},
	}
	return s.issue(ctx, tx, d)
}

// IssueCreditNote issues the credit note for a refund inside tx, the refund's transaction. The
// invoice it corrects must exist (ENOTFOUND otherwise). Issuing again for the same r.Ref
// returns the credit note already issued.
func (s *Service) IssueCreditNote(ctx context.Context, tx *sqlx.Tx, r Refund) (*Document, error) {
	if r.Ref == "" || r.Amount < 0 || r.Credits < 0 {
		return nil, billing.Errorf(billing.EINVALID, "a credit note needs a refund reference and an amount")
	}
	src := r.InvoiceSource
	if src == "" {
		src = SourcePurchase
	}
	inv, err := s.bySource(ctx, tx, r.OrgID, src, r.InvoiceRef)
	if err != nil {
		return nil, err
	}
	if inv == nil {
		return nil, billing.Errorf(billing.ENOTFOUND, "no invoice was issued for %s %s", src, r.InvoiceRef)
	}
	invDate := inv.IssuedAt
	desc := "Refund of " + inv.Title
	if r.Credits > 0 {
		desc = fmt.Sprintf("Refund of %s unused credits", r.Credits)
	}
	d := &Document{
		OrgID: r.OrgID, Kind: KindCreditNote, Source: SourceRefund, SourceRef: r.Ref,
		Title:  "Refund for " + inv.Number,
		Status: StatusRefunded, Currency: currency(r.Currency), Total: r.Amount, Credits: r.Credits,
		PaymentMethod: r.Method, IssuedAt: r.RefundedAt, CorrectsID: &inv.ID,
		Body: Body{
			PaymentRef: r.PaymentRef, CorrectsNumber: inv.Number, CorrectsDate: &invDate, Reason: r.Reason,
			Lines: []Line{{
				Description: desc, Detail: "Corrects invoice " + inv.Number + "; the credits were removed from the balance",
				Quantity: 1, UnitCents: int64(r.Amount), AmountCents: int64(r.Amount), Credits: r.Credits,
			}},
		},
	}
	return s.issue(ctx, tx, d)
}

func currency(c string) string {
	if c == "" {
		return "usd"
	}
	return strings.ToLower(c)
}

// bySource returns the document issued for (source, ref), or nil.
func (s *Service) bySource(ctx context.Context, tx *sqlx.Tx, orgID, source, ref string) (*Document, error) {
	var d Document
	if err := tx.GetContext(ctx, &d, q.selectBySource, orgID, source, ref); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("documents: find %s %s: %w", source, ref, err)
	}
	return &d, d.decode()
}

// issue completes d (bill-to from the org's billing profile, seller and tax from the
// configuration, number) and stores it in tx. A document already issued for d's source is
// returned instead. The number is drawn last: the counter row is the last lock taken, so
// issuing never waits on it while holding it, and other issuers wait only for the insert.
func (s *Service) issue(ctx context.Context, tx *sqlx.Tx, d *Document) (*Document, error) {
	if existing, err := s.bySource(ctx, tx, d.OrgID, d.Source, d.SourceRef); err != nil || existing != nil {
		return existing, err
	}
	org, err := s.org(ctx, tx, d.OrgID)
	if err != nil {
		return nil, err
	}
	billTo, err := s.billTo(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	if d.IssuedAt.IsZero() {
		d.IssuedAt = s.now()
	}
	d.IssuedAt = d.IssuedAt.UTC().Truncate(time.Microsecond)
	d.Body.Seller, d.Body.BillTo, d.Body.Timezone = s.cfg.Seller, billTo, org.Timezone
	if d.Kind != KindStatement {
		d.Body.TaxLabel, d.Body.TaxRateBP = s.cfg.TaxLabel, s.cfg.TaxRateBP
		d.Tax = taxIncluded(d.Total, s.cfg.TaxRateBP)
		d.Subtotal = d.Total - d.Tax
		if d.Kind == KindInvoice && d.Body.PaidAt == nil {
			paid := d.IssuedAt
			d.Body.PaidAt = &paid
		}
	}
	body, err := json.Marshal(d.Body)
	if err != nil {
		return nil, fmt.Errorf("documents: encode: %w", err)
	}
	d.BodyJSON = body
	var seq int64
	year := d.IssuedAt.Year()
	if err := tx.GetContext(ctx, &seq, q.nextNumber, seriesOf(d.Kind), year); err != nil {
		return nil, fmt.Errorf("documents: number: %w", err)
	}
	d.Number = FormatNumber(seriesOf(d.Kind), year, seq)
	rows, err := tx.NamedQuery(q.insertDocument, d.row())
	if err != nil {
		return nil, fmt.Errorf("documents: insert %s: %w", d.Number, err)
	}
	defer rows.Close()
	if rows.Next() {
		if err := rows.Scan(&d.ID); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("documents: insert %s: %w", d.Number, err)
	}
	return d, nil
}

// row is d's columns for insert-document.
func (d *Document) row() map[string]any {
	return map[string]any{
		"org_id": d.OrgID, "kind": d.Kind, "source": d.Source, "source_ref": d.SourceRef,
		"number": d.Number, "title": d.Title, "issued_at": d.IssuedAt,
		"period_start": d.PeriodStart, "period_end": d.PeriodEnd, "status": d.Status,
		"currency": d.Currency, "subtotal_cents": d.Subtotal, "tax_cents": d.Tax,
		"total_cents": d.Total, "credits_mc": d.Credits, "payment_method": d.PaymentMethod,
		"corrects_id": d.CorrectsID, "body": string(d.BodyJSON), // text: []byte travels as binary
	}
}

// taxIncluded is the tax contained in a tax-inclusive total at rateBP basis points, rounded
// half up to the cent: total × rate / (10,000 + rate).
func taxIncluded(total billing.Cents, rateBP int64) billing.Cents {
	if rateBP <= 0 || total == 0 {
		return 0
	}
	neg := total < 0
	t := int64(total)
	if neg {
		t = -t
	}
	den := 10000 + rateBP
	tax := (t*rateBP*2 + den) / (2 * den)
	if neg {
		tax = -tax
	}
	return billing.Cents(tax)
}

type orgRow struct {
	ID       string `db:"id"`
	Name     string `db:"name"`
	Timezone string `db:"timezone"`
}

func (s *Service) org(ctx context.Context, db sqlx.QueryerContext, orgID string) (*orgRow, error) {
	var o orgRow
	if err := sqlx.GetContext(ctx, db, &o, q.selectOrg, orgID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, billing.Errorf(billing.ENOTFOUND, "organization not found")
		}
		return nil, fmt.Errorf("documents: org %s: %w", orgID, err)
	}
	return &o, nil
}
