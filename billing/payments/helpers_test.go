package payments_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

var ctx = context.Background()

// stripeAPI is the stripe-mock the package's tests share.
var stripeAPI string

func TestMain(m *testing.M) {
	url, stop, err := billingtest.StartStripeMock()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stripeAPI = url
	code := m.Run()
	stop()
	os.Exit(code)
}

const webhookSecret = "whsec_test_secret"

// fixture is an organization on the Free plan (1,000 credits) with an admin and a member, on its
// own database, with a payments service.
type fixture struct {
	*billingtest.Fixture
	core   *billing.Service
	ids    *identity.Service
	pay    *payments.Service
	db     *sqlx.DB
	clock  *billingtest.Clock
	org    string
	admin  string
	member string
	docs   *documents.Service
	cfg    payments.Config // pay's configuration
}

// newFixture uses the demo provider unless stripeProvider is true, in which case the Stripe
// provider talks to stripe-mock.
func newFixture(t *testing.T, stripeProvider bool) *fixture {
	t.Helper()
	bf := billingtest.NewFixture(t, "free")
	member, err := bf.Identity.CreateUser(ctx, identity.NewUser{Email: "member@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := bf.Identity.AddMember(ctx, bf.Org, member.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	// Purchases and refunds are invoiced, as in the server.
	docs := documents.New(bf.DB, documents.Config{}, documents.WithClock(bf.Clock.Now))
	cfg := payments.Config{BaseURL: "http://localhost:18081", WebhookSecret: webhookSecret,
		Issuer: documents.PaymentInvoicer{Docs: docs}}
	if stripeProvider {
		cfg.Provider = payments.NewStripe("sk_test_123", stripeAPI)
	}
	t.Cleanup(func() {
		billingtest.AssertLedger(t, bf.DB, bf.Org)
		billingtest.AssertDocuments(t, bf.DB, bf.Org)
	})
	return &fixture{Fixture: bf, core: bf.Svc, ids: bf.Identity, pay: payments.New(bf.Svc, bf.Identity, cfg), db: bf.DB,
		clock: bf.Clock, org: bf.Org, admin: bf.Admin, member: member.ID, docs: docs, cfg: cfg}
}

// buy starts a purchase of n credits as the admin.
func (f *fixture) buy(t *testing.T, n int64) *payments.Purchase {
	t.Helper()
	p, err := f.pay.StartPurchase(ctx, f.org, f.admin, n)
	if err != nil {
		t.Fatalf("StartPurchase(%d): %v", n, err)
	}
	return p
}

var eventSeq atomic.Int64

// paid confirms p's payment as its provider would, and returns whether it granted.
func (f *fixture) paid(t *testing.T, p *payments.Purchase) bool {
	t.Helper()
	granted, err := f.pay.Fulfil(ctx, payments.Confirmation{
		EventID: fmt.Sprintf("evt_paid_%d", eventSeq.Add(1)), EventType: "test", Provider: p.Provider,
		PurchaseID: p.ID, PaymentID: "pi_test", Outcome: payments.Paid})
	if err != nil {
		t.Fatalf("Fulfil: %v", err)
	}
	return granted
}

// use records n credits of usage (n emails).
func (f *fixture) use(t *testing.T, n int64) {
	t.Helper()
	_, err := f.core.RecordUsage(ctx, f.org, f.admin, []billing.UsageEvent{{
		ID: fmt.Sprintf("evt_use_%d", eventSeq.Add(1)), FlowID: "flow_1", ExecutionID: "exec_1",
		Type: billing.TypeEmail, Quantity: n}})
	if err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
}

func (f *fixture) balance(t *testing.T) billing.Millicredits {
	t.Helper()
	cs, err := f.core.CreditSummary(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	return cs.Balance
}

// count returns a number from the database.
func (f *fixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Get(&n, query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// grants is how many purchase grants the org has.
func (f *fixture) grants(t *testing.T) int64 {
	return f.count(t, `SELECT count(*) FROM grants WHERE org_id = $1 AND kind = 'purchase'`, f.org)
}

// stripeEvent is a Checkout Session webhook event for purchase, as Stripe sends it. Its
// amount_total is deliberately wrong: the grant must come from the purchase row.
func stripeEvent(t *testing.T, id string, typ stripe.EventType, purchase string, status stripe.CheckoutSessionPaymentStatus) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "api_version": stripe.APIVersion, "type": typ, "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{
			"id": "cs_test_fixture", "object": "checkout.session", "client_reference_id": purchase,
			"metadata": map[string]string{"purchase_id": purchase}, "payment_status": status,
			"payment_intent": "pi_test_fixture", "amount_total": 99_999_999, "mode": "payment",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sign returns the Stripe-Signature header of payload, signed with secret at ts.
func sign(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: ts}).Header
}
