package payments

import (
	"context"
	"net/url"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// Demo is the payment provider of demo mode (no STRIPE_SECRET_KEY): its checkout is a local
// page ("Demo mode — no card is charged") whose Pay button confirms the payment through the same
// fulfilment function as Stripe's webhook. Nothing leaves the server.
type Demo struct{}

// Name implements PaymentProvider.
func (Demo) Name() string { return ProviderDemo }

// DemoCheckoutPath is the demo provider's payment page for a purchase (views.PathDemoCheckout).
func DemoCheckoutPath(purchaseID string) string {
	return "/settings/billing/credits/demo/" + url.PathEscape(purchaseID)
}

// CreateCheckout implements PaymentProvider: the payment page is DemoCheckoutPath.
func (Demo) CreateCheckout(_ context.Context, r CheckoutRequest) (Checkout, error) {
	return Checkout{SessionID: "demo_cs_" + r.PurchaseID, URL: DemoCheckoutPath(r.PurchaseID)}, nil
}

// CancelCheckout implements PaymentProvider; the demo page refuses a cancelled purchase.
func (Demo) CancelCheckout(context.Context, string) error { return nil }

// Refund implements PaymentProvider: no money moves; the refund id is derived from the key.
func (Demo) Refund(_ context.Context, r RefundRequest) (string, error) {
	return "demo_re_" + r.PurchaseID, nil
}

// PayDemo is the demo page's Pay button for org's purchase id: the payment is confirmed through
// Fulfil, as Stripe's webhook would, after Config.DemoDelay (at once when 0). Outside demo mode,
// or for a purchase that is not pending, it is refused (ECONFLICT).
func (s *Service) PayDemo(ctx context.Context, orgID, id string) (*Purchase, error) {
	p, err := s.FindPurchase(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if p.Provider != ProviderDemo || !s.DemoMode() {
		return nil, billing.Errorf(billing.ECONFLICT, "this purchase is not paid in demo mode")
	}
	if p.Status != StatusPending {
		return nil, billing.Errorf(billing.ECONFLICT, "this checkout is %s; start a new purchase from Add credits", p.Status)
	}
	c := Confirmation{EventID: "demo_evt_" + p.ID, EventType: "demo.payment_succeeded", Provider: ProviderDemo,
		PurchaseID: p.ID, SessionID: p.SessionID, PaymentID: "demo_pi_" + p.ID, Outcome: Paid}
	if s.cfg.DemoDelay <= 0 {
		_, err := s.Fulfil(ctx, c)
		return p, err
	}
	go func() {
		time.Sleep(s.cfg.DemoDelay) // the confirmation arrives a moment later, as a webhook would
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.Fulfil(ctx, c); err != nil {
			s.cfg.Log.Error("demo payment", "purchase", p.ID, "err", err)
		}
	}()
	return p, nil
}
