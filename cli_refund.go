package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// demoPaymentDelay is how long the demo checkout's payment takes to be confirmed, as Stripe's
// webhook arrives a moment after checkout: long enough to see the purchase page wait for it.
const demoPaymentDelay = 1500 * time.Millisecond

// payments returns the payments service of the configuration: Stripe when STRIPE_SECRET_KEY is
// set, the demo provider otherwise.
// Purchases and refunds are invoiced by docs.
func (c *Config) payments(svc *billing.Service, ids *identity.Service, docs *documents.Service, log *slog.Logger) (*payments.Service, error) {
	if c.CreditPriceCents < 1 {
		return nil, fmt.Errorf("LUX_CREDIT_PRICE_CENTS must be a whole number of cents of at least 1, not %d", c.CreditPriceCents)
	}
	cfg := payments.Config{
		UnitPrice: billing.Cents(c.CreditPriceCents), BaseURL: strings.TrimRight(c.BaseURL, "/"),
		WebhookSecret: c.StripeWebhook, Log: log, DemoDelay: demoPaymentDelay,
		Issuer: documents.PaymentInvoicer{Docs: docs},
	}
	if c.StripeSecretKey != "" {
		cfg.Provider = payments.NewStripe(c.StripeSecretKey, c.StripeAPIBase)
	}
	return payments.New(svc, ids, cfg), nil
}

// refundCmd is support's refund of a purchase's unused credits.
type refundCmd struct {
	Purchase string `required:"" help:"Purchase id (pur_…), as shown on the purchase's page."`
}

func (r refundCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, svc, err := c.openService(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	docs, err := c.Documents.documentsOn(db)
	if err != nil {
		return err
	}
	pay, err := c.payments(svc, identity.New(svc), docs, log)
	if err != nil {
		return err
	}
	ref, err := pay.RefundForSupport(ctx, r.Purchase)
	if err != nil {
		return err
	}
	fmt.Printf("Refunded %s unused credits of purchase %s: %s back to the buyer (refund %s).\n",
		ref.Credits, ref.PurchaseID, ref.Amount, ref.ProviderID)
	cn, err := docs.FindCreditNote(ctx, ref.OrgID, ref.ID)
	if err != nil {
		return err
	}
	fmt.Printf("Credit note %s corrects invoice %s.\n", cn.Number, cn.Body.CorrectsNumber)
	return nil
}
