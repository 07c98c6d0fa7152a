package payments_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

func TestStripeCheckout_SessionCarriesThePurchase(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 5000)
	if p.Status != payments.StatusPending || p.Provider != payments.ProviderStripe {
		t.Fatalf("purchase = %+v, want pending through Stripe", p)
	}
	if p.SessionID == "" || p.CheckoutURL == "" {
		t.Fatalf("no checkout session or URL: %+v", p)
	}
	if p.Credits != billing.Credits(5000) || p.Price != 5000 {
		t.Fatalf("5,000 credits at 1 cent: got %s credits for %d cents", p.Credits, p.Price)
	}
	if n := f.count(t, `SELECT count(*) FROM purchases WHERE id = $1 AND status = 'pending'`, p.ID); n != 1 {
		t.Fatalf("the purchase row must exist, pending, before the redirect")
	}
}

func TestStripeWebhook_ConcurrentRepliesGrantOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 5000)
	before := f.balance(t)
	completed := stripeEvent(t, "evt_completed", stripe.EventTypeCheckoutSessionCompleted, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	succeeded := stripeEvent(t, "evt_async_ok", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	// Ten deliveries of the completion and five of the async success, all at once.
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for i := range 15 {
		body := completed
		if i%3 == 2 {
			body = succeeded
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.pay.HandleStripeWebhook(ctx, body, sign(body, webhookSecret, time.Now()))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("delivery: %v", err)
		}
	}
	if n := f.grants(t); n != 1 {
		t.Fatalf("%d purchase grants, want exactly 1", n)
	}
	if got := f.balance(t) - before; got != billing.Credits(5000) {
		t.Fatalf("balance rose by %s, want the purchase's 5,000 (never the event's amount)", got)
	}
	got, err := f.pay.FindPurchase(ctx, f.org, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != payments.StatusPaid || got.PaidAt == nil || got.PaymentID != "pi_test_fixture" {
		t.Fatalf("purchase after payment = %+v", got)
	}
	if n := f.count(t, `SELECT count(*) FROM payment_events WHERE purchase_id = $1`, p.ID); n != 2 {
		t.Fatalf("%d processed events, want the 2 distinct ids", n)
	}
}

func TestStripeWebhook_AsyncPaymentOutOfOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 1000)
	deliver := func(id string, typ stripe.EventType, status stripe.CheckoutSessionPaymentStatus) {
		t.Helper()
		body := stripeEvent(t, id, typ, p.ID, status)
		if err := f.pay.HandleStripeWebhook(ctx, body, sign(body, webhookSecret, time.Now())); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
	}
	// The success arrives before the completion that announced it; then a stray failure.
	deliver("evt_2", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, stripe.CheckoutSessionPaymentStatusPaid)
	deliver("evt_1", stripe.EventTypeCheckoutSessionCompleted, stripe.CheckoutSessionPaymentStatusUnpaid)
	deliver("evt_3", stripe.EventTypeCheckoutSessionAsyncPaymentFailed, stripe.CheckoutSessionPaymentStatusUnpaid)
	if n := f.grants(t); n != 1 {
		t.Fatalf("%d grants, want 1", n)
	}
	got, _ := f.pay.FindPurchase(ctx, f.org, p.ID)
	if got.Status != payments.StatusPaid {
		t.Fatalf("status = %s, want paid to stay paid", got.Status)
	}
}

func TestStripeWebhook_RefusedDeliveriesGrantNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 5000)
	paid := stripeEvent(t, "evt_ok", stripe.EventTypeCheckoutSessionCompleted, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	cases := []struct {
		name      string
		body      []byte
		signature string
	}{
		{"bad signature", paid, sign(paid, "whsec_someone_else", time.Now())},
		{"stale timestamp", paid, sign(paid, webhookSecret, time.Now().Add(-10*time.Minute))},
		{"no signature", paid, ""},
		{"body changed after signing", append([]byte(nil), paid[:len(paid)-1]...), sign(paid, webhookSecret, time.Now())},
		{"unknown purchase", stripeEvent(t, "evt_unknown", stripe.EventTypeCheckoutSessionCompleted, "pur_nosuchpurchase", stripe.CheckoutSessionPaymentStatusPaid), ""},
		{"no purchase named", stripeEvent(t, "evt_none", stripe.EventTypeCheckoutSessionCompleted, "", stripe.CheckoutSessionPaymentStatusPaid), ""},
		{"malformed body", []byte(`{"id":"evt_x","type":"checkout.session.completed","data":{"object":"nope"}}`), ""},
	}
	for _, c := range cases {
		sig := c.signature
		if sig == "" {
			sig = sign(c.body, webhookSecret, time.Now())
		}
		if c.name == "no signature" {
			sig = ""
		}
		err := f.pay.HandleStripeWebhook(ctx, c.body, sig)
		if billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", c.name, err)
		}
	}
	// An unpaid completion (an asynchronous payment on its way) and an event type we do not
	// handle are acknowledged, and grant nothing.
	unpaid := stripeEvent(t, "evt_unpaid", stripe.EventTypeCheckoutSessionCompleted, p.ID, stripe.CheckoutSessionPaymentStatusUnpaid)
	other := stripeEvent(t, "evt_other", stripe.EventTypeCustomerCreated, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	for _, body := range [][]byte{unpaid, other} {
		if err := f.pay.HandleStripeWebhook(ctx, body, sign(body, webhookSecret, time.Now())); err != nil {
			t.Errorf("acknowledged event: %v", err)
		}
	}
	if n := f.grants(t); n != 0 {
		t.Fatalf("%d grants, want none", n)
	}
	got, _ := f.pay.FindPurchase(ctx, f.org, p.ID)
	if got.Status != payments.StatusPending {
		t.Fatalf("status = %s, want pending", got.Status)
	}
	if n := f.count(t, `SELECT count(*) FROM payment_events WHERE id IN ('evt_ok', 'evt_unknown')`); n != 0 {
		t.Fatalf("refused events must not be recorded as processed")
	}
}

func TestStripeWebhook_NoSecretConfiguredIsUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	f.pay = payments.New(f.core, f.ids, payments.Config{})
	body := stripeEvent(t, "evt_1", stripe.EventTypeCheckoutSessionCompleted, "pur_x", stripe.CheckoutSessionPaymentStatusPaid)
	// Signed with an empty secret: without a configured secret nothing can be trusted.
	if err := f.pay.HandleStripeWebhook(ctx, body, sign(body, "", time.Now())); billing.ErrorCode(err) != billing.EUNAVAILABLE {
		t.Fatalf("err = %v, want EUNAVAILABLE", err)
	}
}

func TestStripeWebhook_ExpiredCheckoutIsCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 1000)
	body := stripeEvent(t, fmt.Sprintf("evt_exp_%s", p.ID), stripe.EventTypeCheckoutSessionExpired, p.ID, stripe.CheckoutSessionPaymentStatusUnpaid)
	if err := f.pay.HandleStripeWebhook(ctx, body, sign(body, webhookSecret, time.Now())); err != nil {
		t.Fatal(err)
	}
	got, _ := f.pay.FindPurchase(ctx, f.org, p.ID)
	if got.Status != payments.StatusCancelled {
		t.Fatalf("status = %s, want cancelled", got.Status)
	}
}
