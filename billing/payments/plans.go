package payments

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
)

// PlanProvider collects plan prices: Stripe Checkout in subscription mode, or the demo page.
type PlanProvider interface {
	// Name is billing.ProviderStripe or billing.ProviderDemo.
	Name() string
	// CreatePlanCheckout starts the payment of an upgrade; the admin is sent to the returned URL.
	CreatePlanCheckout(ctx context.Context, r PlanCheckoutRequest) (PlanSession, error)
	// ScheduleDowngrade makes the subscription renew on plan (or end, for a plan without price)
	// at its next renewal; CancelDowngrade keeps it as it is.
	ScheduleDowngrade(ctx context.Context, sub *billing.Subscription, plan string) error
	CancelDowngrade(ctx context.Context, sub *billing.Subscription) error
}

// PlanCheckoutRequest is an upgrade to pay for.
type PlanCheckoutRequest struct {
	CheckoutID  string
	OrgID       string
	Plan        billing.Plan
	Quote       *billing.PlanChangeQuote
	Amount      billing.Cents // due now: the pro-rata price
	SuccessURL  string
	CancelURL   string
	Subscribed  *billing.Subscription // the org's subscription, if any
	CustomerRef string
}

// PlanSession is a started plan payment: the provider's session and the page to pay on.
type PlanSession struct {
	ID  string
	URL string
}

// PlanConfig configures the plan payments.
type PlanConfig struct {
	// Provider collects plan prices; nil means the demo provider.
	Provider PlanProvider
	// BaseURL is the public URL of the server, for the provider's return URLs.
	BaseURL string
	// CreditPrice is the price of one purchased credit (LUX_CREDIT_PRICE_CENTS), to show what
	// buying on top of a plan costs; 0 means 1 cent.
	CreditPrice billing.Cents
	// SalesEmail is where "Contact sales" writes; "" means sales@lux.local.
	SalesEmail string
	// WebhookSecret verifies Stripe webhooks (STRIPE_WEBHOOK_SECRET).
	WebhookSecret string
	Log           *slog.Logger
}

// Plans changes organizations' plans with payment: upgrades are paid through the provider
// and fulfilled by the core (billing.CompletePlanCheckout) exactly once; downgrades are
// scheduled in the core and, for a Stripe subscription, at Stripe.
type Plans struct {
	core *billing.Service
	cfg  PlanConfig
}

// NewPlans returns the plan payments over the core.
func NewPlans(core *billing.Service, cfg PlanConfig) *Plans {
	if cfg.Provider == nil {
		cfg.Provider = DemoPlans{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.CreditPrice <= 0 {
		cfg.CreditPrice = 1
	}
	if cfg.SalesEmail == "" {
		cfg.SalesEmail = "sales@lux.local"
	}
	return &Plans{core: core, cfg: cfg}
}

// CreditPrice is the price of one purchased credit.
func (s *Plans) CreditPrice() billing.Cents { return s.cfg.CreditPrice }

// SalesEmail is where "Contact sales" writes.
func (s *Plans) SalesEmail() string { return s.cfg.SalesEmail }

// DemoMode reports whether plans are paid through the demo provider (no card is charged).
func (s *Plans) DemoMode() bool { return s.cfg.Provider.Name() == billing.ProviderDemo }

// StartUpgrade opens a checkout for upgrading org to plan and returns where the admin pays.
func (s *Plans) StartUpgrade(ctx context.Context, orgID, userID, plan string) (string, error) {
	co, qt, err := s.core.StartPlanCheckout(ctx, orgID, plan, userID, s.cfg.Provider.Name())
	if err != nil {
		return "", err
	}
	st, err := s.core.PlanStatus(ctx, orgID)
	if err != nil {
		return "", err
	}
	back := s.cfg.BaseURL + "/settings/billing/plans"
	sess, err := s.cfg.Provider.CreatePlanCheckout(ctx, PlanCheckoutRequest{
		CheckoutID: co.ID, OrgID: orgID, Plan: qt.To, Quote: qt, Amount: co.AmountCents,
		SuccessURL: back + "?checkout=" + url.QueryEscape(co.ID), CancelURL: back,
		Subscribed: st.Subscription,
	})
	if err != nil {
		return "", err
	}
	if err := s.core.SetPlanCheckoutSession(ctx, co.ID, sess.ID); err != nil {
		return "", err
	}
	return sess.URL, nil
}

// PayDemo is the demo page's Pay button: the checkout is fulfilled through the same core
// function as Stripe's webhook. Outside demo mode, or for a checkout that is not open, it is
// refused (ECONFLICT).
func (s *Plans) PayDemo(ctx context.Context, orgID, checkoutID string) (*billing.PlanUpgrade, error) {
	co, err := s.core.FindPlanCheckout(ctx, orgID, checkoutID)
	if err != nil {
		return nil, err
	}
	if co.Provider != billing.ProviderDemo || !s.DemoMode() {
		return nil, billing.Errorf(billing.ECONFLICT, "this checkout is not paid in demo mode")
	}
	if co.Status != "open" {
		return nil, billing.Errorf(billing.ECONFLICT, "this checkout is %s; choose the plan again on the plans page", co.Status)
	}
	return s.core.CompletePlanCheckout(ctx, billing.PlanPayment{
		CheckoutID: co.ID, Provider: billing.ProviderDemo, AmountCents: co.AmountCents,
		CustomerRef: "demo_cus_" + orgID, SubscriptionRef: "demo_sub_" + orgID,
	})
}

// ScheduleDowngrade moves org to plan from its next cycle, in the core and at the provider.
func (s *Plans) ScheduleDowngrade(ctx context.Context, orgID, userID, plan string) (*billing.PlanChange, error) {
	c, err := s.core.ScheduleDowngrade(ctx, orgID, plan, userID)
	if err != nil {
		return nil, err
	}
	if sub := s.subscription(ctx, orgID); sub != nil {
		if err := s.cfg.Provider.ScheduleDowngrade(ctx, sub, plan); err != nil {
			_ = s.core.CancelPlanChange(ctx, orgID, userID)
			return nil, err
		}
	}
	return c, nil
}

// CancelDowngrade keeps org's plan: the pending downgrade is cancelled in the core and at the
// provider.
func (s *Plans) CancelDowngrade(ctx context.Context, orgID, userID string) error {
	if err := s.core.CancelPlanChange(ctx, orgID, userID); err != nil {
		return err
	}
	if sub := s.subscription(ctx, orgID); sub != nil {
		return s.cfg.Provider.CancelDowngrade(ctx, sub)
	}
	return nil
}

// subscription is org's live subscription at this provider, or nil.
func (s *Plans) subscription(ctx context.Context, orgID string) *billing.Subscription {
	st, err := s.core.PlanStatus(ctx, orgID)
	if err != nil || st.Subscription == nil || st.Subscription.Provider != s.cfg.Provider.Name() || st.Subscription.Status == "canceled" {
		return nil
	}
	return st.Subscription
}

// DemoPlans is the demo provider of plans: its checkout is a local page ("Demo mode — no card
// is charged") whose Pay button fulfils the upgrade through the core, as Stripe's webhook does.
type DemoPlans struct{}

// Name implements PlanProvider.
func (DemoPlans) Name() string { return billing.ProviderDemo }

// DemoPlanCheckoutPath is the demo provider's payment page for a plan checkout.
func DemoPlanCheckoutPath(checkoutID string) string {
	return "/settings/billing/plans/checkout/" + url.PathEscape(checkoutID)
}

// CreatePlanCheckout implements PlanProvider: the payment page is DemoPlanCheckoutPath.
func (DemoPlans) CreatePlanCheckout(_ context.Context, r PlanCheckoutRequest) (PlanSession, error) {
	return PlanSession{ID: r.CheckoutID, URL: DemoPlanCheckoutPath(r.CheckoutID)}, nil
}

// ScheduleDowngrade implements PlanProvider: the demo renewals follow the core's plan.
func (DemoPlans) ScheduleDowngrade(context.Context, *billing.Subscription, string) error { return nil }

// CancelDowngrade implements PlanProvider.
func (DemoPlans) CancelDowngrade(context.Context, *billing.Subscription) error { return nil }

// HandlePlanWebhook verifies a Stripe webhook on its raw body (Stripe-Signature, the webhook
// secret, Stripe's default tolerance) and hands a plan event to HandleStripeEvent; other events
// are acknowledged (nil). A bad signature is EINVALID; no secret is EUNAVAILABLE (Stripe
// retries).
func (s *Plans) HandlePlanWebhook(ctx context.Context, payload []byte, signature string) error {
	if s.cfg.WebhookSecret == "" {
		return billing.Errorf(billing.EUNAVAILABLE, "Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET is not set)")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.cfg.WebhookSecret,
		webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
	if err != nil {
		return billing.Errorf(billing.EINVALID, "the webhook's signature does not verify (%v)", err)
	}
	_, err = s.HandleStripeEvent(ctx, ev)
	return err
}
