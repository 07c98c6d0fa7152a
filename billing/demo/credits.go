package demo

import (
	"context"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// buyCredits buys n credits for org as admin through the demo checkout, exactly as the Add
// Credits page does: a purchase, paid, granted by the fulfilment function.
func buyCredits(ctx context.Context, svc *billing.Service, ids *identity.Service, org, admin string, n int64) error {
	pay := payments.New(svc, ids, payments.Config{})
	p, err := pay.StartPurchase(ctx, org, admin, n)
	if err != nil {
		return fmt.Errorf("demo: purchase: %w", err)
	}
	if _, err := pay.PayDemo(ctx, org, p.ID); err != nil {
		return fmt.Errorf("demo: pay: %w", err)
	}
	return nil
}
