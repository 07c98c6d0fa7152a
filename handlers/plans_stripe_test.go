package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/web/webtest"
)

const stripeWebhookSecret = "whsec_web_plans"

// An admin upgrades through Stripe Checkout in subscription mode (stripe-mock): the page sends
// the browser to Stripe, and the signed webhook — delivered twice — moves the org to Starter.
func TestPlansPage_UpgradeThroughStripeCheckoutAndWebhook(t *testing.T) {
	srv := webtest.New(t, webtest.Options{BaseURL: "http://localhost"})
	provider := payments.NewStripePlans("sk_test_123", billingtest.StripeMock(t), map[string]string{"starter": "price_starter", "pro": "price_pro"})
	srv.PlanChanges = payments.NewPlans(srv.Billing, payments.PlanConfig{Provider: provider, BaseURL: "http://localhost", WebhookSecret: stripeWebhookSecret})
	// The one Stripe endpoint verifies with the payments' secret, then offers plan events to plans.
	srv.Payments = payments.New(srv.Billing, srv.Identity, payments.Config{WebhookSecret: stripeWebhookSecret})
	srv = srv.Serve(t, "http://localhost")
	s := webtest.SiteOf(t, srv)
	db := srv.DB
	b, org := s.SignedUp("ada@example.com", "Analytical Engines")

	if p := b.Get("/settings/billing/plans"); p.Has(`[data-testid="plans-demo-note"]`) {
		t.Fatal("the demo note shows with Stripe configured")
	}
	p := b.Post("/settings/billing/plans", "/settings/billing/plans", url.Values{"plan": {"starter"}})
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "https://") {
		t.Fatalf("upgrade: %d to %q, want Stripe Checkout", p.StatusCode, p.Header.Get("Location"))
	}
	var co billing.PlanCheckout
	if err := db.Get(&co, `SELECT id, org_id, plan_code, amount_cents, currency, cycle_start, provider, session_ref, status, created_by, created_at, paid_at FROM plan_checkouts WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	// Back from Stripe before the webhook: the page says it waits.
	if p := b.Get("/settings/billing/plans?checkout=" + co.ID); !p.Has(`[data-testid="alert-info"]`) {
		t.Fatalf("no waiting notice:\n%s", p.Text("main"))
	}
	event, _ := json.Marshal(map[string]any{
		"id": "evt_web_1", "object": "event", "type": "checkout.session.completed", "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{
			"id": co.SessionRef, "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
			"client_reference_id": co.ID, "amount_total": int64(co.AmountCents), "customer": "cus_web", "subscription": "sub_web",
		}},
	})
	for range 2 {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: stripeWebhookSecret, Timestamp: time.Now()})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/stripe", bytes.NewReader(signed.Payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("webhook: %v %v", res, err)
		}
		res.Body.Close()
	}
	p = b.Get("/settings/billing/plans?checkout=" + co.ID)
	if got := p.Text(`[data-testid="summary-allotment"]`); got != "10,000 credits" || !p.Has(`[data-testid="alert-success"]`) {
		t.Fatalf("after the webhook: allotment %q\n%s", got, p.Text("main"))
	}
	if cs, _ := srv.Billing.PlanCharges(ctx, org, 10); len(cs) != 1 {
		t.Fatalf("%d plan charges, want 1", len(cs))
	}
	// Unsigned: refused, nothing changes.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/stripe", bytes.NewReader(event))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("unsigned webhook: %v %v", res, err)
	}
	res.Body.Close()
	billingtest.AssertLedger(t, db, org)
}
