package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/luxstudio/lux-billing/billing"
)

// planCallTimeout bounds one call to Stripe for a plan.
const planCallTimeout = 15 * time.Second

// StripePlans collects plan prices with Stripe Checkout in subscription mode (stripe-go v76).
// The subscription's billing cycle is anchored at the end of the org's running cycle and the
// first period is prorated, so Stripe's renewals fall on the org's cycle starts.
type StripePlans struct {
	api    *client.API
	prices map[string]string // plan code → Stripe price id (STRIPE_PLAN_PRICES)
}

// NewStripePlans returns the Stripe plan provider for secretKey with the price id of each paid
// plan. apiBase, when not empty, replaces Stripe's API URL (stripe-mock in tests).
func NewStripePlans(secretKey, apiBase string, prices map[string]string) *StripePlans {
	return &StripePlans{api: stripeClient(secretKey, apiBase), prices: prices}
}

// ParsePlanPriceIDs reads STRIPE_PLAN_PRICES ("starter=price_…,pro=price_…").
func ParsePlanPriceIDs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		code, id, ok := strings.Cut(pair, "=")
		if !ok || code == "" || id == "" {
			return nil, fmt.Errorf("STRIPE_PLAN_PRICES: %q is not code=price_id (like pro=price_123)", pair)
		}
		out[code] = id
	}
	return out, nil
}

// Name implements PlanProvider.
func (*StripePlans) Name() string { return billing.ProviderStripe }

func (p *StripePlans) priceID(plan string) (string, error) {
	id := p.prices[plan]
	if id == "" {
		return "", billing.Errorf(billing.EUNAVAILABLE, "the %s plan cannot be bought online yet (no Stripe price is configured): contact sales", plan)
	}
	return id, nil
}

// CreatePlanCheckout implements PlanProvider: a Checkout Session in subscription mode for the
// plan's price, anchored at the end of the running cycle with the first period prorated; the
// checkout id is the client_reference_id and in the metadata of the session and subscription.
func (p *StripePlans) CreatePlanCheckout(ctx context.Context, r PlanCheckoutRequest) (PlanSession, error) {
	price, err := p.priceID(r.Plan.Code)
	if err != nil {
		return PlanSession{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, planCallTimeout)
	defer cancel()
	meta := map[string]string{"plan_checkout_id": r.CheckoutID, "org_id": r.OrgID, "plan": r.Plan.Code}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		ClientReferenceID: stripe.String(r.CheckoutID),
		SuccessURL:        stripe.String(r.SuccessURL),
		CancelURL:         stripe.String(r.CancelURL),
		Metadata:          meta,
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(1)}},
		SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{
			Metadata:           meta,
			BillingCycleAnchor: stripe.Int64(r.Quote.CycleEnd.Unix()),
			ProrationBehavior:  stripe.String("create_prorations"),
		},
	}
	if r.Subscribed != nil && r.Subscribed.Provider == billing.ProviderStripe && r.Subscribed.CustomerRef != "" {
		params.Customer = stripe.String(r.Subscribed.CustomerRef)
	}
	params.Context = ctx
	params.IdempotencyKey = stripe.String("plan_checkout_" + r.CheckoutID)
	sess, err := p.api.CheckoutSessions.New(params)
	if err != nil {
		return PlanSession{}, planStripeError("start the plan's checkout", err)
	}
	return PlanSession{ID: sess.ID, URL: sess.URL}, nil
}

// ScheduleDowngrade implements PlanProvider: to a plan without price the subscription ends at
// the period's end; to a cheaper paid plan its price changes without proration, so the next
// renewal charges the new price.
func (p *StripePlans) ScheduleDowngrade(ctx context.Context, sub *billing.Subscription, plan string) error {
	ctx, cancel := context.WithTimeout(ctx, planCallTimeout)
	defer cancel()
	params := &stripe.SubscriptionParams{}
	params.Context = ctx
	if plan == billing.PlanFree {
		params.CancelAtPeriodEnd = stripe.Bool(true)
	} else if err := p.setPrice(ctx, sub, plan, params); err != nil {
		return err
	}
	if _, err := p.api.Subscriptions.Update(sub.SubscriptionRef, params); err != nil {
		return planStripeError("schedule the downgrade", err)
	}
	return nil
}

// CancelDowngrade implements PlanProvider: the subscription renews again, on its plan's price.
func (p *StripePlans) CancelDowngrade(ctx context.Context, sub *billing.Subscription) error {
	ctx, cancel := context.WithTimeout(ctx, planCallTimeout)
	defer cancel()
	params := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(false)}
	params.Context = ctx
	if err := p.setPrice(ctx, sub, sub.PlanCode, params); err != nil {
		return err
	}
	if _, err := p.api.Subscriptions.Update(sub.SubscriptionRef, params); err != nil {
		return planStripeError("cancel the downgrade", err)
	}
	return nil
}

// setPrice makes params move the subscription's item to plan's price without proration.
func (p *StripePlans) setPrice(ctx context.Context, sub *billing.Subscription, plan string, params *stripe.SubscriptionParams) error {
	price, err := p.priceID(plan)
	if err != nil {
		return err
	}
	get := &stripe.SubscriptionParams{}
	get.Context = ctx
	cur, err := p.api.Subscriptions.Get(sub.SubscriptionRef, get)
	if err != nil {
		return planStripeError("read the subscription", err)
	}
	if cur.Items == nil || len(cur.Items.Data) == 0 {
		return billing.Errorf(billing.ECONFLICT, "the Stripe subscription %s has no item to change", sub.SubscriptionRef)
	}
	params.Items = []*stripe.SubscriptionItemsParams{{ID: stripe.String(cur.Items.Data[0].ID), Price: stripe.String(price)}}
	params.ProrationBehavior = stripe.String("none")
	return nil
}

// CancelOld ends a subscription the org replaced by upgrading, prorated (Stripe credits its
// unused time to the customer).
func (p *StripePlans) CancelOld(ctx context.Context, subRef string) error {
	ctx, cancel := context.WithTimeout(ctx, planCallTimeout)
	defer cancel()
	params := &stripe.SubscriptionCancelParams{Prorate: stripe.Bool(true)}
	params.Context = ctx
	if _, err := p.api.Subscriptions.Cancel(subRef, params); err != nil {
		return planStripeError("end the replaced subscription", err)
	}
	return nil
}

// HandleStripeEvent acts on a verified Stripe event about plans and reports whether it was
// one: checkout.session.completed of a subscription-mode session (the upgrade is fulfilled
// once), invoice.paid of a renewal (recorded once per invoice), customer.subscription.updated
// and .deleted (a renewal that failed or ended moves the org to Free at its next cycle; news
// older than what was applied is ignored). The payments webhook calls it first and handles
// the event itself when it returns false.
func (s *Plans) HandleStripeEvent(ctx context.Context, ev stripe.Event) (bool, error) {
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return false, nil
	}
	at := time.Unix(ev.Created, 0).UTC()
	switch ev.Type {
	case stripe.EventTypeCheckoutSessionCompleted, stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded:
		var sess stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &sess); err != nil {
			return false, billing.Errorf(billing.EINVALID, "the webhook's checkout session is malformed: %v", err)
		}
		if sess.Mode != stripe.CheckoutSessionModeSubscription {
			return false, nil
		}
		if sess.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid && sess.PaymentStatus != stripe.CheckoutSessionPaymentStatusNoPaymentRequired {
			return true, nil // paid later: async_payment_succeeded follows
		}
		return true, s.fulfil(ctx, &sess, at)
	case stripe.EventTypeInvoicePaid:
		var inv stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &inv); err != nil {
			return false, billing.Errorf(billing.EINVALID, "the webhook's invoice is malformed: %v", err)
		}
		if inv.Subscription == nil || inv.BillingReason != stripe.InvoiceBillingReasonSubscriptionCycle {
			return inv.Subscription != nil, nil // the first invoice is the checkout's, already recorded
		}
		sub, err := s.core.FindSubscriptionByRef(ctx, billing.ProviderStripe, inv.Subscription.ID)
		if err != nil {
			return true, ignoreUnknown(err)
		}
		_, err = s.core.RecordRenewal(ctx, sub.OrgID, billing.ProviderStripe, inv.ID, billing.Cents(inv.AmountPaid))
		return true, err
	case stripe.EventTypeCustomerSubscriptionUpdated, stripe.EventTypeCustomerSubscriptionDeleted:
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return false, billing.Errorf(billing.EINVALID, "the webhook's subscription is malformed: %v", err)
		}
		status := string(sub.Status)
		if ev.Type == stripe.EventTypeCustomerSubscriptionDeleted {
			status = "canceled"
		}
		_, err := s.core.SubscriptionChanged(ctx, billing.ProviderStripe, sub.ID, status, at)
		return true, ignoreUnknown(err)
	}
	return false, nil
}

// fulfil completes the plan checkout a paid subscription session belongs to, and ends the
// subscription it replaced.
func (s *Plans) fulfil(ctx context.Context, sess *stripe.CheckoutSession, at time.Time) error {
	id := sess.ClientReferenceID
	if id == "" {
		id = sess.Metadata["plan_checkout_id"]
	}
	if id == "" {
		return billing.Errorf(billing.EINVALID, "the subscription checkout names no plan checkout (client_reference_id)")
	}
	pay := billing.PlanPayment{CheckoutID: id, Provider: billing.ProviderStripe, AmountCents: billing.Cents(sess.AmountTotal), EventAt: at}
	if sess.Customer != nil {
		pay.CustomerRef = sess.Customer.ID
	}
	if sess.Subscription != nil {
		pay.SubscriptionRef = sess.Subscription.ID
	}
	co, err := s.core.FindPlanCheckoutByID(ctx, id)
	if err != nil {
		return err
	}
	before, err := s.core.PlanStatus(ctx, co.OrgID)
	if err != nil {
		return err
	}
	res, err := s.core.CompletePlanCheckout(ctx, pay)
	if err != nil || res.Already {
		return err
	}
	old := before.Subscription
	if sp, ok := s.cfg.Provider.(*StripePlans); ok && old != nil && old.Provider == billing.ProviderStripe &&
		old.SubscriptionRef != "" && old.SubscriptionRef != pay.SubscriptionRef && old.Status != "canceled" {
		if err := sp.CancelOld(ctx, old.SubscriptionRef); err != nil {
			s.cfg.Log.Error("end the replaced subscription", "org", co.OrgID, "subscription", old.SubscriptionRef, "err", err)
		}
	}
	return nil
}

// ignoreUnknown acknowledges news of a subscription this server never sold (nil), so Stripe
// stops retrying it.
func ignoreUnknown(err error) error {
	if billing.ErrorCode(err) == billing.ENOTFOUND {
		return nil
	}
	return err
}

// planStripeError explains a failed Stripe call about a plan.
func planStripeError(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 {
		return fmt.Errorf("%w (stripe: %v)", billing.Errorf(billing.ECONFLICT, "Stripe refused to %s: %s", what, se.Msg), err)
	}
	return fmt.Errorf("%w (stripe: %v)", billing.Errorf(billing.EUNAVAILABLE, "could not reach Stripe to %s; nothing was charged or changed. Try again in a minute", what), err)
}
