package payments

import (
	"context"
	"encoding/json"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
)

// StripeEventHandler acts on verified Stripe events of another kind of payment (a plan's
// subscription checkout): it reports whether the event was its own.
type StripeEventHandler interface {
	HandleStripeEvent(ctx context.Context, ev stripe.Event) (handled bool, err error)
}

// HandleStripeWebhook verifies a Stripe webhook on its raw body (the Stripe-Signature header,
// STRIPE_WEBHOOK_SECRET, Stripe's default tolerance of 5 minutes) and acts on it:
// checkout.session.completed (paid, or an asynchronous payment in process),
// checkout.session.async_payment_succeeded, …async_payment_failed and checkout.session.expired.
// Each of others (plan changes) is offered the verified event first. Other event types are acknowledged
// and ignored (nil). A bad or stale signature, a malformed
// body or an unknown purchase is EINVALID and nothing is granted; no configured secret is
// EUNAVAILABLE (Stripe retries).
func (s *Service) HandleStripeWebhook(ctx context.Context, payload []byte, signature string, others ...StripeEventHandler) error {
	if s.cfg.WebhookSecret == "" {
		return billing.Errorf(billing.EUNAVAILABLE, "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET is not set)")
	}
	// The API version of events follows the Stripe account's settings, not this library's; the
	// few fields read here are the same in every version.
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.cfg.WebhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return billing.Errorf(billing.EINVALID, "the webhook's signature does not verify (%v)", err)
	}
	for _, h := range others {
		handled, err := h.HandleStripeEvent(ctx, ev)
		if handled || err != nil {
			return err
		}
	}
	var outcome Outcome
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted:
		outcome = InProcess
	case stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		outcome = Paid
	case stripe.EventTypeCheckoutSessionAsyncPaymentFailed:
		outcome = Failed
	case stripe.EventTypeCheckoutSessionExpired:
		outcome = Expired
	default:
		return nil
	}
	if ev.ID == "" || ev.Data == nil || len(ev.Data.Raw) == 0 {
		return billing.Errorf(billing.EINVALID, "the webhook's event has no id or data")
	}
	var sess stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &sess); err != nil {
		return billing.Errorf(billing.EINVALID, "the webhook's checkout session is malformed: %v", err)
	}
	if outcome == InProcess && sess.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid {
		outcome = Paid
	}
	purchase := sess.ClientReferenceID
	if purchase == "" {
		purchase = sess.Metadata["purchase_id"]
	}
	if purchase == "" {
		return billing.Errorf(billing.EINVALID, "the checkout session names no purchase (client_reference_id)")
	}
	c := Confirmation{EventID: ev.ID, EventType: string(ev.Type), Provider: ProviderStripe,
		PurchaseID: purchase, SessionID: sess.ID, Outcome: outcome}
	if sess.PaymentIntent != nil {
		c.PaymentID = sess.PaymentIntent.ID
	}
	_, err = s.Fulfil(ctx, c)
	return err
}
