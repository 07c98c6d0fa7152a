//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

const faultsWebhookSecret = "whsec_faults_secret"

// delivery is one Stripe event as Stripe signs and sends it.
type delivery struct {
	id   string
	body []byte
}

// stripeEventBody is a Stripe event of type typ about object, created at.
func stripeEventBody(t *testing.T, id, typ string, created time.Time, object map[string]any) delivery {
	t.Helper()
	b, err := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(),
		"api_version": "2023-10-16", "data": map[string]any{"object": object}})
	if err != nil {
		t.Fatal(err)
	}
	return delivery{id: id, body: b}
}

// deliver posts d to the server's webhook, signed with secret now, and returns the status (0:
// no answer).
func deliver(client *http.Client, base string, d delivery, secret string) int {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: d.body, Secret: secret, Timestamp: time.Now()})
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/stripe", bytes.NewReader(signed.Payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// deliverAnswered delivers d until it gets an answer (for two minutes at most), as Stripe sends
// again a delivery it got no answer to; it returns the status and how many sends got none.
func deliverAnswered(client *http.Client, base string, d delivery, secret string) (status, unanswered int) {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if status = deliver(client, base, d, secret); status != 0 || time.Now().After(deadline) {
			return status, unanswered
		}
		unanswered++
	}
}

// stripeWorld is what the test arranged at Stripe's end: purchases of credits in two orgs, and
// an upgrade paid by a subscription checkout in the first, each with the events Stripe sends.
type stripeWorld struct {
	paid      map[string]billing.Millicredits // purchase → credits, for those Stripe says are paid
	expired   []string                        // purchases whose checkout only expired
	orgs      []string
	upgrade   *billing.PlanCheckout
	checkout  []delivery // every event of the checkouts (purchases and the subscription)
	renewals  []delivery // the subscription's renewal invoice
	purchases int
}

// arrangeStripe starts purchases and an upgrade through the Stripe providers (stripe-mock), on
// the server's database, and writes the events Stripe would send about them.
func arrangeStripe(t *testing.T, e *env, stripeAPI string, rnd *rand.Rand) *stripeWorld {
	t.Helper()
	ctx := context.Background()
	db, err := billing.OpenDB(ctx, e.dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	core, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(core)
	pay := payments.New(core, ids, payments.Config{Provider: payments.NewStripe("sk_test_123", stripeAPI),
		BaseURL: e.srv.url(), WebhookSecret: faultsWebhookSecret})
	plans := payments.NewPlans(core, payments.PlanConfig{BaseURL: e.srv.url(), WebhookSecret: faultsWebhookSecret,
		Provider: payments.NewStripePlans("sk_test_123", stripeAPI, map[string]string{"starter": "price_starter", "pro": "price_pro"})})
	admin, err := ids.FindUserByEmail(ctx, "stripe@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other, orgB, err := ids.SignUp(ctx, identity.NewUser{Email: "stripe-b@example.com", Password: "correct horse battery"}, "Second Org")
	if err != nil {
		t.Fatal(err)
	}
	w := &stripeWorld{paid: map[string]billing.Millicredits{}, orgs: []string{e.org, orgB}}
	now := time.Now()
	session := func(purchase, status string) map[string]any {
		return map[string]any{"id": "cs_" + purchase, "object": "checkout.session", "mode": "payment",
			"client_reference_id": purchase, "metadata": map[string]string{"purchase_id": purchase},
			"payment_status": status, "payment_intent": "pi_" + purchase, "amount_total": 99_999_999}
	}
	for i := range 16 {
		org, user := e.org, admin.ID
		if i%2 == 1 {
			org, user = orgB, other.ID
		}
		credits := int64(100 * (1 + rnd.IntN(50)))
		p, err := pay.StartPurchase(ctx, org, user, credits)
		if err != nil {
			t.Fatalf("purchase through stripe-mock: %v", err)
		}
		w.purchases++
		ev := func(kind, typ, status string) delivery {
			return stripeEventBody(t, fmt.Sprintf("evt_%s_%s", kind, p.ID), typ, now, session(p.ID, status))
		}
		switch i % 4 {
		case 0: // paid at once
			w.checkout = append(w.checkout, ev("done", "checkout.session.completed", "paid"))
		case 1: // a bank debit: completed unpaid, then the payment succeeds
			w.checkout = append(w.checkout, ev("done", "checkout.session.completed", "unpaid"),
				ev("async", "checkout.session.async_payment_succeeded", "paid"))
		case 2: // paid, and an expiry of the same checkout delivered too (in either order)
			w.checkout = append(w.checkout, ev("done", "checkout.session.completed", "paid"),
				ev("exp", "checkout.session.expired", "unpaid"))
		case 3: // never paid
			w.checkout = append(w.checkout, ev("exp", "checkout.session.expired", "unpaid"))
			w.expired = append(w.expired, p.ID)
			continue
		}
		w.paid[p.ID] = p.Credits
	}

	// The first org upgrades to Starter through a subscription checkout.
	if _, err := plans.StartUpgrade(ctx, e.org, admin.ID, "starter"); err != nil {
		t.Fatalf("upgrade through stripe-mock: %v", err)
	}
	var coID string
	if err := db.GetContext(ctx, &coID, `SELECT id FROM plan_checkouts WHERE org_id = $1`, e.org); err != nil {
		t.Fatal(err)
	}
	if w.upgrade, err = core.FindPlanCheckout(ctx, e.org, coID); err != nil {
		t.Fatal(err)
	}
	sub := map[string]any{"id": "sub_faults", "object": "subscription", "status": "active"}
	w.checkout = append(w.checkout,
		stripeEventBody(t, "evt_sub_checkout", "checkout.session.completed", now, map[string]any{
			"id": w.upgrade.SessionRef, "object": "checkout.session", "mode": "subscription", "payment_status": "paid",
			"client_reference_id": w.upgrade.ID, "amount_total": int64(w.upgrade.AmountCents),
			"customer": "cus_faults", "subscription": "sub_faults"}),
		stripeEventBody(t, "evt_sub_first_invoice", "invoice.paid", now, map[string]any{"id": "in_first", "object": "invoice",
			"subscription": "sub_faults", "billing_reason": "subscription_create", "amount_paid": int64(w.upgrade.AmountCents)}),
		stripeEventBody(t, "evt_sub_active", "customer.subscription.updated", now.Add(time.Second), sub))
	w.renewals = append(w.renewals, stripeEventBody(t, "evt_sub_renewal", "invoice.paid", now.Add(2*time.Second),
		map[string]any{"id": "in_renewal", "object": "invoice", "subscription": "sub_faults",
			"billing_reason": "subscription_cycle", "amount_paid": 2900}))
	return w
}

// sendAll delivers every event of ds times times over, shuffled, by 8 senders at once, and
// returns the final statuses counted and how many deliveries had no answer and were sent again
// (as Stripe retries a delivery it got no answer to).
func sendAll(t *testing.T, base string, ds []delivery, times int, rnd *rand.Rand) (map[int]int, int) {
	t.Helper()
	var all []delivery
	for range times {
		all = append(all, ds...)
	}
	rnd.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var mu sync.Mutex
	statuses, retried := map[int]int{}, 0
	work := make(chan delivery)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 15 * time.Second}
			for d := range work {
				st, again := deliverAnswered(client, base, d, faultsWebhookSecret)
				mu.Lock()
				statuses[st]++
				retried += again
				mu.Unlock()
			}
		}()
	}
	for _, d := range all {
		work <- d
	}
	close(work)
	wg.Wait()
	return statuses, retried
}

// TestReplay_StripeWebhooksTakeEffectOnce delivers signed Stripe webhooks — purchases of
// credits (paid, paid later, paid and expired, expired) and a plan's subscription checkout,
// first invoice, update and renewal — to the real binary, each five times over, shuffled and
// sent concurrently, then all of them once more with the renewal: every purchase Stripe says is
// paid is granted once with its own credits, the others are not, the upgrade and the renewal
// are charged once, bad signatures change nothing, and `lux check` passes.
func TestReplay_StripeWebhooksTakeEffectOnce(t *testing.T) {
	stripeAPI := billingtest.StripeMock(t)
	e := newEnv(t, "stripe@example.com", "STRIPE_SECRET_KEY=sk_test_123", "STRIPE_API_BASE="+stripeAPI,
		"STRIPE_WEBHOOK_SECRET="+faultsWebhookSecret, "STRIPE_PLAN_PRICES=starter=price_starter,pro=price_pro")
	rnd := rand.New(rand.NewPCG(e.seed, 2))
	w := arrangeStripe(t, e, stripeAPI, rnd)

	// A forged delivery of every paid event (another secret): refused, and nothing moves.
	client := &http.Client{Timeout: 15 * time.Second}
	for _, d := range w.checkout {
		if st, _ := deliverAnswered(client, e.srv.url(), d, "whsec_forged"); st != http.StatusBadRequest {
			t.Fatalf("a forged %s: %d, want 400", d.id, st)
		}
	}
	db, err := billing.OpenDB(context.Background(), e.dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Get(&n, q, args...); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM grants WHERE kind = 'purchase'`) + count(`SELECT count(*) FROM payment_events`); n != 0 {
		t.Fatalf("forged deliveries left %d grants or processed events", n)
	}

	first, retried1 := sendAll(t, e.srv.url(), w.checkout, 5, rnd)
	second, retried2 := sendAll(t, e.srv.url(), append(append([]delivery{}, w.checkout...), w.renewals...), 5, rnd)
	deliveries := 0
	for _, m := range []map[int]int{first, second} {
		for st, n := range m {
			deliveries += n
			if st != http.StatusOK {
				t.Errorf("%d deliveries answered %d, want 200", n, st)
			}
		}
	}

	// Exactly once: one grant per paid purchase, of its credits; none for the others.
	doubles, lost := 0, 0
	for id, credits := range w.paid {
		var grants []int64
		if err := db.Select(&grants, `SELECT amount_mc FROM grants WHERE kind = 'purchase' AND source_ref = $1`, id); err != nil {
			t.Fatal(err)
		}
		switch {
		case len(grants) == 0:
			lost++
		case len(grants) > 1:
			doubles += len(grants) - 1
		case billing.Millicredits(grants[0]) != credits:
			t.Errorf("purchase %s granted %d mc, want %d", id, grants[0], credits)
		}
		if st := count(`SELECT count(*) FROM purchases WHERE id = $1 AND status = 'paid'`, id); st != 1 {
			t.Errorf("purchase %s is not paid", id)
		}
	}
	for _, id := range w.expired {
		if n := count(`SELECT count(*) FROM purchases WHERE id = $1 AND status = 'cancelled' AND grant_id IS NULL`, id); n != 1 {
			t.Errorf("purchase %s, whose checkout expired, is not cancelled without a grant", id)
		}
	}
	if n := count(`SELECT count(*) FROM grants WHERE kind = 'purchase'`); n != len(w.paid) {
		t.Errorf("%d purchase grants, want %d", n, len(w.paid))
	}
	// The upgrade: Starter, charged once, its allotment topped up once; the renewal once.
	upgrades := count(`SELECT count(*) FROM plan_charges WHERE org_id = $1 AND kind = 'upgrade' AND provider_ref = $2`, e.org, w.upgrade.ID)
	renewals := count(`SELECT count(*) FROM plan_charges WHERE org_id = $1 AND kind = 'renewal' AND provider_ref = 'in_renewal'`, e.org)
	if upgrades != 1 || renewals != 1 || count(`SELECT count(*) FROM plan_charges`) != 2 {
		t.Errorf("plan charges: %d upgrade, %d renewal, %d in all; want 1, 1, 2", upgrades, renewals, count(`SELECT count(*) FROM plan_charges`))
	}
	doubles += max(upgrades-1, 0) + max(renewals-1, 0)
	if n := count(`SELECT count(*) FROM orgs WHERE id = $1 AND plan_code = 'starter'`, e.org); n != 1 {
		t.Errorf("the org is not on Starter after its paid upgrade")
	}
	if n := count(`SELECT count(*) FROM subscriptions WHERE org_id = $1 AND status = 'active' AND subscription_ref = 'sub_faults'`, e.org); n != 1 {
		t.Errorf("the subscription is not active")
	}
	if n := count(`SELECT count(*) FROM plan_changes WHERE status = 'pending'`); n != 0 {
		t.Errorf("%d plan changes left pending", n)
	}
	violations := 0
	if code, out := runLuxCheck(t, e.dsn); code != 0 {
		violations++
		t.Errorf("lux check: exit %d\n%s", code, out)
	}
	events := len(w.checkout) + len(w.renewals)
	t.Logf("FIGURES stripe-replay: purchases=%d paid=%d expired=%d events=%d deliveries=%d retried-unanswered=%d forged=%d lost=%d double-charges=%d invariant-violations=%d",
		w.purchases, len(w.paid), len(w.expired), events, deliveries, retried1+retried2, len(w.checkout), lost, doubles, violations)
	if lost+doubles > 0 {
		t.Errorf("%d paid purchases not granted, %d effects twice", lost, doubles)
	}
}
