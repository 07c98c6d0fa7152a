package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

const planWebhookSecret = "whsec_plans_secret"

// planFixture is a Free org whose plans are paid through Stripe (stripe-mock).
type planFixture struct {
	core  *billing.Service
	plans *payments.Plans
	clock *billingtest.Clock
	org   string
	admin string
	t     *testing.T
}

func newPlanFixture(t *testing.T) *planFixture {
	t.Helper()
	ctx := context.Background()
	clock := billingtest.NewClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	core, db := billingtest.NewService(t, billing.WithClock(clock.Now))
	ids := identity.New(core)
	admin, err := ids.CreateUser(ctx, identity.NewUser{Email: "admin@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	org, err := ids.CreateOrg(ctx, billing.NewOrg{Name: "Test Org", PlanCode: "free"}, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	provider := payments.NewStripePlans("sk_test_123", billingtest.StripeMock(t), map[string]string{"starter": "price_starter", "pro": "price_pro"})
	plans := payments.NewPlans(core, payments.PlanConfig{Provider: provider, BaseURL: "http://localhost:18084", WebhookSecret: planWebhookSecret})
	t.Cleanup(func() { billingtest.AssertLedger(t, db, org) })
	return &planFixture{core: core, plans: plans, clock: clock, org: org, admin: admin.ID, t: t}
}

// deliver signs an event as Stripe would and hands it to the webhook.
func (f *planFixture) deliver(id, typ string, created time.Time, object map[string]any) error {
	f.t.Helper()
	body, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "created": created.Unix(), "api_version": "2023-10-16",
		"data": map[string]any{"object": object},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: planWebhookSecret, Timestamp: time.Now()})
	return f.plans.HandlePlanWebhook(context.Background(), signed.Payload, signed.Header)
}

func (f *planFixture) status() *billing.PlanStatus {
	f.t.Helper()
	st, err := f.core.PlanStatus(context.Background(), f.org)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *planFixture) charges() []billing.PlanCharge {
	f.t.Helper()
	cs, err := f.core.PlanCharges(context.Background(), f.org, 50)
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

// An upgrade paid through Stripe Checkout in subscription mode is fulfilled once however
// often and in whatever order Stripe delivers its events; renewals are recorded once per
// invoice; a failed renewal moves the org to Free at its next cycle unless paid meanwhile.
func TestStripePlans_SubscriptionCheckoutWebhooksReplayedAndReordered(t *testing.T) {
	ctx := context.Background()
	f := newPlanFixture(t)
	f.clock.Advance(10 * 24 * time.Hour)

	payURL, err := f.plans.StartUpgrade(ctx, f.org, f.admin, "starter")
	if err != nil || payURL == "" {
		t.Fatalf("StartUpgrade: %q, %v", payURL, err)
	}
	var checkoutID string
	if err := f.core.DB().Get(&checkoutID, `SELECT id FROM plan_checkouts WHERE org_id = $1 AND session_ref LIKE 'cs_%'`, f.org); err != nil {
		t.Fatalf("the checkout does not hold Stripe's session: %v", err)
	}
	co, err := f.core.FindPlanCheckout(ctx, f.org, checkoutID)
	if err != nil {
		t.Fatal(err)
	}
	session := map[string]any{
		"id": co.SessionRef, "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
		"client_reference_id": co.ID, "amount_total": int64(co.AmountCents), "customer": "cus_plan_1", "subscription": "sub_plan_1",
	}
	at := f.clock.Now()
	// Subscription news sent after the checkout arrives first: nothing is known of sub_plan_1
	// yet, so it is acknowledged and ignored.
	if err := f.deliver("evt_sub_0", "customer.subscription.updated", at.Add(time.Second), map[string]any{"id": "sub_plan_1", "object": "subscription", "status": "active"}); err != nil {
		t.Fatalf("early subscription.updated: %v", err)
	}
	for i := range 3 { // delivered three times
		if err := f.deliver("evt_cs_1", "checkout.session.completed", at, session); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	st := f.status()
	if st.Plan.Code != "starter" || st.Granted != billing.Credits(10000) || st.Subscription == nil || st.Subscription.SubscriptionRef != "sub_plan_1" {
		t.Fatalf("after the checkout: %+v, subscription %+v", st, st.Subscription)
	}
	if cs := f.charges(); len(cs) != 1 || cs[0].AmountCents != co.AmountCents || cs[0].Provider != "stripe" {
		t.Fatalf("charges %+v, want one of %d", cs, co.AmountCents)
	}
	// The first invoice belongs to the checkout: not a second charge.
	if err := f.deliver("evt_in_0", "invoice.paid", at, map[string]any{"id": "in_first", "object": "invoice", "subscription": "sub_plan_1", "billing_reason": "subscription_create", "amount_paid": 2000}); err != nil {
		t.Fatal(err)
	}

	// past_due at +2 min and active at +3 min, delivered in reverse: the stale past_due is ignored.
	if err := f.deliver("evt_sub_2", "customer.subscription.updated", at.Add(3*time.Minute), map[string]any{"id": "sub_plan_1", "object": "subscription", "status": "active"}); err != nil {
		t.Fatal(err)
	}
	if err := f.deliver("evt_sub_1", "customer.subscription.updated", at.Add(2*time.Minute), map[string]any{"id": "sub_plan_1", "object": "subscription", "status": "past_due"}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(); st.Pending != nil {
		t.Fatalf("a stale past_due scheduled %+v", st.Pending)
	}
	// A newer past_due: Free from the next cycle; its renewal invoice paid after all takes it back.
	if err := f.deliver("evt_sub_3", "customer.subscription.updated", at.Add(4*time.Minute), map[string]any{"id": "sub_plan_1", "object": "subscription", "status": "past_due"}); err != nil {
		t.Fatal(err)
	}
	if st := f.status(); st.Pending == nil || st.Pending.ToPlan != "free" || st.Pending.Reason != billing.ChangeRenewalFailed {
		t.Fatalf("past_due did not schedule Free: %+v", st.Pending)
	}
	renewal := map[string]any{"id": "in_cycle_2", "object": "invoice", "subscription": "sub_plan_1", "billing_reason": "subscription_cycle", "amount_paid": 2900}
	for range 2 {
		if err := f.deliver("evt_in_2", "invoice.paid", at.Add(5*time.Minute), renewal); err != nil {
			t.Fatal(err)
		}
	}
	if st := f.status(); st.Pending != nil {
		t.Fatalf("a paid renewal left %+v pending", st.Pending)
	}
	if cs := f.charges(); len(cs) != 2 || cs[0].Kind != "renewal" || cs[0].AmountCents != 2900 {
		t.Fatalf("charges after the renewal: %+v", cs)
	}

	// Downgrade to Free and its cancellation go to Stripe (cancel_at_period_end, then the price).
	if _, err := f.plans.ScheduleDowngrade(ctx, f.org, f.admin, "free"); err != nil {
		t.Fatalf("downgrade at Stripe: %v", err)
	}
	if err := f.plans.CancelDowngrade(ctx, f.org, f.admin); err != nil {
		t.Fatalf("cancel the downgrade at Stripe: %v", err)
	}
	if _, err := f.plans.ScheduleDowngrade(ctx, f.org, f.admin, "free"); err != nil {
		t.Fatal(err)
	}
	// The subscription ends at the period's end: the org is Free from its next cycle.
	if err := f.deliver("evt_sub_4", "customer.subscription.deleted", at.Add(6*time.Minute), map[string]any{"id": "sub_plan_1", "object": "subscription", "status": "canceled"}); err != nil {
		t.Fatal(err)
	}
	end := f.status().CycleEnd
	f.clock.Set(end.Add(time.Hour))
	if st := f.status(); st.Plan.Code != "free" || st.Granted != billing.Credits(1000) {
		t.Fatalf("next cycle: %s with %s", st.Plan.Code, st.Granted)
	}

	// Signatures are checked on the raw body.
	if err := f.plans.HandlePlanWebhook(ctx, []byte(`{"id":"evt_x","type":"invoice.paid"}`), "t=1,v1=bad"); billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("a bad signature: %v", err)
	}
}
