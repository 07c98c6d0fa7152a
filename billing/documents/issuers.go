package documents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// PlanInvoicer invoices the core's plan charges: it implements billing.PlanInvoicer, and the
// core calls it inside the transaction that records the charge.
type PlanInvoicer struct{ Docs *Service }

// IssuePlanInvoice issues the invoice of plan charge c in tx (once per charge).
func (p PlanInvoicer) IssuePlanInvoice(ctx context.Context, tx *sqlx.Tx, c billing.PlanCharge) error {
	name := c.PlanName
	if name == "" {
		name = c.PlanCode
	}
	_, err := p.Docs.IssuePlanInvoice(ctx, tx, PlanCharge{
		OrgID: c.OrgID, Ref: fmt.Sprintf("plan_charge_%d", c.ID), PlanName: name,
		PeriodStart: c.PeriodStart, PeriodEnd: c.PeriodEnd, Detail: c.Detail,
		Amount: c.AmountCents, Currency: c.Currency, PaidAt: c.CreatedAt,
		Method: PaymentMethod(c.Provider), PaymentRef: c.ProviderRef,
	})
	return err
}

// PaymentMethod says how a payment through provider (billing.ProviderStripe or
// billing.ProviderDemo) was made, for documents.
func PaymentMethod(provider string) string {
	switch provider {
	case billing.ProviderStripe:
		return "Card (Stripe)"
	case billing.ProviderDemo:
		return "Demo payment (no card charged)"
	}
	return provider
}

// PaymentInvoicer invoices payments' purchases and issues the credit notes of their refunds:
// it implements payments.InvoiceIssuer, and payments calls it inside the transaction that
// grants a purchase or refunds it.
type PaymentInvoicer struct{ Docs *Service }

// IssuePurchaseInvoice issues the invoice of paid purchase p in tx (once per purchase).
func (i PaymentInvoicer) IssuePurchaseInvoice(ctx context.Context, tx *sqlx.Tx, p payments.PaidPurchase) error {
	_, err := i.Docs.IssuePurchaseInvoice(ctx, tx, purchaseOf(p))
	return err
}

// IssueCreditNote issues the credit note of refund r in tx (once per refund), correcting the
// purchase's invoice. A purchase without an invoice — paid before invoices were issued — is
// invoiced first, dated now and stating when it was paid, so that every credit note corrects
// an invoice and every refund has its credit note.
func (i PaymentInvoicer) IssueCreditNote(ctx context.Context, tx *sqlx.Tx, r payments.IssuedRefund) error {
	inv, err := i.Docs.bySource(ctx, tx, r.OrgID, SourcePurchase, r.PurchaseID)
	if err != nil {
		return err
	}
	if inv == nil {
		if r.Purchase.PurchaseID != r.PurchaseID || r.Purchase.OrgID != r.OrgID {
			return fmt.Errorf("documents: refund %d names purchase %s but carries %s", r.RefundID, r.PurchaseID, r.Purchase.PurchaseID)
		}
		late := purchaseOf(r.Purchase)
		late.IssuedAt = r.At
		if _, err := i.Docs.IssuePurchaseInvoice(ctx, tx, late); err != nil {
			return err
		}
	}
	_, err = i.Docs.IssueCreditNote(ctx, tx, Refund{
		OrgID: r.OrgID, Ref: RefundRef(r.RefundID),
		InvoiceSource: SourcePurchase, InvoiceRef: r.PurchaseID,
		Credits: r.Credits, Amount: r.Amount, Currency: r.Currency, RefundedAt: r.At,
		Method: RefundMethod(r.Provider), PaymentRef: r.Purchase.PaymentID,
		Reason: "Unused purchased credits refunded within 30 days of payment",
	})
	return err
}

// purchaseOf is the invoice's view of paid purchase p.
func purchaseOf(p payments.PaidPurchase) Purchase {
	return Purchase{
		OrgID: p.OrgID, Ref: p.PurchaseID, Credits: p.Credits, UnitCents: p.UnitPrice,
		Amount: p.Amount, Currency: p.Currency, PaidAt: p.PaidAt,
		Method: PaymentMethod(p.Provider), PaymentRef: p.PaymentID,
	}
}

// RefundMethod says how a refund through provider returns the money, for credit notes.
func RefundMethod(provider string) string {
	switch provider {
	case billing.ProviderStripe:
		return "Refund to card (Stripe)"
	case billing.ProviderDemo:
		return "Demo refund (no money moved)"
	}
	return provider
}

// RefundRef is the source reference of the credit note of payments' refund id.
func RefundRef(id int64) string { return fmt.Sprintf("refund_%d", id) }

// FindCreditNote returns org's credit note of payments' refund id; ENOTFOUND when none.
func (s *Service) FindCreditNote(ctx context.Context, orgID string, refundID int64) (*Document, error) {
	return s.FindBySource(ctx, orgID, SourceRefund, RefundRef(refundID))
}

// FindBySource returns org's document issued for source and ref (a purchase id for
// SourcePurchase); ENOTFOUND when none was issued.
func (s *Service) FindBySource(ctx context.Context, orgID, source, ref string) (*Document, error) {
	var d Document
	if err := s.db.GetContext(ctx, &d, q.selectBySource, orgID, source, ref); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, billing.Errorf(billing.ENOTFOUND, "no document was issued for %s %s", source, ref)
		}
		return nil, fmt.Errorf("documents: find %s %s: %w", source, ref, err)
	}
	return &d, d.decode()
}
