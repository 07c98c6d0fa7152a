package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/luxstudio/lux-billing/billing"
)

// providerTimeout bounds one call to the payment provider. A refund calls it while holding the
// org's ledger lock, so it must not wait long.
const providerTimeout = 15 * time.Second

// Stripe takes payments with Stripe Checkout (payment mode) and refunds them with the Refund
// API, with stripe-go v76.
type Stripe struct {
	api *client.API
}

// NewStripe returns the Stripe provider for secretKey. apiBase, when not empty, replaces
// Stripe's API URL (stripe-mock in tests).
func NewStripe(secretKey, apiBase string) *Stripe {
	return &Stripe{api: stripeClient(secretKey, apiBase)}
}

// stripeClient is the stripe-go client both Stripe providers (payments and plans) use: errors
// only in its log, and apiBase, when not empty, in place of Stripe's API URL.
func stripeClient(secretKey, apiBase string) *client.API {
	cfg := &stripe.BackendConfig{LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
	if apiBase != "" {
		cfg.URL = stripe.String(apiBase)
	}
	return client.New(secretKey, &stripe.Backends{
		API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
		Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
	})
}

// Name implements PaymentProvider.
func (*Stripe) Name() string { return ProviderStripe }

// CreateCheckout implements PaymentProvider: a Checkout Session in payment mode with one line
// (the credits, at the purchase's price) and the purchase id as client_reference_id and in the
// metadata of the session and of its payment, so every webhook correlates by our id.
func (p *Stripe) CreateCheckout(ctx context.Context, r CheckoutRequest) (Checkout, error) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	meta := map[string]string{"purchase_id": r.PurchaseID, "org_id": r.OrgID}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		ClientReferenceID: stripe.String(r.PurchaseID),
		SuccessURL:        stripe.String(r.SuccessURL),
		CancelURL:         stripe.String(r.CancelURL),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(r.Currency),
				UnitAmount:  stripe.Int64(int64(r.Amount)),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(r.Description)},
			},
		}},
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String(r.IdempotencyKey)
	sess, err := p.api.CheckoutSessions.New(params)
	if err != nil {
		return Checkout{}, stripeError("start the checkout", err)
	}
	return Checkout{SessionID: sess.ID, URL: sess.URL}, nil
}

// CancelCheckout implements PaymentProvider: the session is expired, so it cannot be paid.
func (p *Stripe) CancelCheckout(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	params := &stripe.CheckoutSessionExpireParams{}
	params.Context = ctx
	if _, err := p.api.CheckoutSessions.Expire(sessionID, params); err != nil {
		return stripeError("cancel the checkout", err)
	}
	return nil
}

// Refund implements PaymentProvider with the Refund API, on the purchase's PaymentIntent (read
// from its Checkout Session when the webhook did not carry it).
func (p *Stripe) Refund(ctx context.Context, r RefundRequest) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	pi := r.PaymentID
	if pi == "" && r.SessionID != "" {
		params := &stripe.CheckoutSessionParams{}
		params.Context = ctx
		sess, err := p.api.CheckoutSessions.Get(r.SessionID, params)
		if err != nil {
			return "", stripeError("find the payment to refund", err)
		}
		if sess.PaymentIntent != nil {
			pi = sess.PaymentIntent.ID
		}
	}
	if pi == "" {
		return "", billing.Errorf(billing.ECONFLICT, "Stripe has no payment for purchase %s to refund", r.PurchaseID)
	}
	params := &stripe.RefundParams{
		PaymentIntent: stripe.String(pi),
		Amount:        stripe.Int64(int64(r.Amount)),
		Reason:        stripe.String(string(stripe.RefundReasonRequestedByCustomer)),
		Metadata:      map[string]string{"purchase_id": r.PurchaseID},
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String(r.IdempotencyKey)
	ref, err := p.api.Refunds.New(params)
	if err != nil {
		return "", stripeError("refund the payment", err)
	}
	return ref.ID, nil
}

// stripeError explains a failed Stripe call: Stripe's own message for a refused request, and
// "unavailable" when Stripe could not be reached. The cause stays in the error for the logs.
func stripeError(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 {
		return fmt.Errorf("%w (stripe: %v)", billing.Errorf(billing.ECONFLICT, "Stripe refused to %s: %s", what, se.Msg), err)
	}
	return fmt.Errorf("%w (stripe: %v)", billing.Errorf(billing.EUNAVAILABLE, "could not reach Stripe to %s; nothing was charged or changed. Try again in a minute", what), err)
}
