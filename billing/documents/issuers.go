package documents

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
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
