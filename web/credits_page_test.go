package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/web/webtest"
)

const testWebhookSecret = "whsec_web_test"

// creditsSite is a site whose payments use the demo provider and verify webhooks with
// testWebhookSecret.
func creditsSite(t *testing.T) *site {
	t.Helper()
	return siteOf(t, webtest.New(t, webtest.Options{BaseURL: "http://localhost", Payments: &payments.Config{WebhookSecret: testWebhookSecret}}))
}

func (s *site) purchases(org string) int {
	s.t.Helper()
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM purchases WHERE org_id = $1`, org); err != nil {
		s.t.Fatal(err)
	}
	return n
}

func TestAddCredits_MemberIsForbiddenOnGetAndPost(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	_, org := s.signedUp("ada@example.com", "Engines")
	b := s.browser()
	b.login(s.member(org, "mel@example.com", identity.RoleMember), "correct horse")
	wantStatus(t, b.get("/settings/billing/credits"), http.StatusForbidden)
	p := b.post("/settings/billing", "/settings/billing/credits", url.Values{"credits": {"5000"}})
	wantStatus(t, p, http.StatusForbidden)
	if n := s.purchases(org); n != 0 {
		t.Fatalf("a member's post created %d purchases", n)
	}
	for _, path := range []string{"/settings/billing/credits/purchases/pur_x/refund", "/settings/billing/credits/demo/pur_x/pay"} {
		wantStatus(t, b.post("/settings/billing", path, nil), http.StatusForbidden)
	}
	wantStatus(t, b.get("/settings/billing/credits/purchases/pur_x/refund"), http.StatusForbidden)
}

func TestAddCredits_PageShowsPacksPricesAndDemoMode(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, _ := s.signedUp("ada@example.com", "Engines")
	p := b.get("/settings/billing/credits")
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.text(`[data-testid="demo-banner"]`), "Demo mode — no card is charged") {
		t.Errorf("no demo banner")
	}
	for _, c := range []struct{ pack, price, after string }{
		{"1,000", "$10.00", "2,000"}, {"5,000", "$50.00", "6,000"}, {"10,000", "$100.00", "11,000"}, {"50,000", "$500.00", "51,000"},
	} {
		sel := fmt.Sprintf(`[data-testid="pack-%s"]`, c.pack)
		if got := p.text(sel + ` [data-testid="pack-price"]`); got != c.price {
			t.Errorf("pack %s price = %q, want %s", c.pack, got, c.price)
		}
		if got := p.text(sel + ` .pack-after`); !strings.Contains(got, c.after) {
			t.Errorf("pack %s balance after = %q, want %s", c.pack, got, c.after)
		}
		if n := p.Doc.Find(sel + ` input[name="credits"]`).Length(); n != 1 {
			t.Errorf("pack %s posts %d credits fields, want one", c.pack, n)
		}
	}
	if !p.has(`[data-testid="what-next"]`) || !p.has(`[data-testid="no-purchases"]`) {
		t.Errorf("want what happens next and the empty purchases list")
	}
	q := b.get("/settings/billing/credits/quote?credits=2500", "HX-Request", "true")
	if got := q.text(`[data-testid="custom-price"]`); got != "$25.00" {
		t.Errorf("custom quote = %q, want $25.00", got)
	}
}

func TestAddCredits_WrongAmountIsInlineAndCreatesNothing(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.signedUp("ada@example.com", "Engines")
	for _, amount := range []string{"99", "1000001", "12.5", "lots", ""} {
		p := b.post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {amount}})
		wantStatus(t, p, http.StatusBadRequest)
		if got := p.text(`[data-testid="form-error"]`); !strings.Contains(got, "100") {
			t.Errorf("%q: error = %q", amount, got)
		}
		if v, _ := p.Doc.Find(`#custom-credits`).Attr("value"); v != amount {
			t.Errorf("%q: the form lost the amount: %q", amount, v)
		}
	}
	p := b.post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"5"}}, "HX-Request", "true")
	wantStatus(t, p, http.StatusBadRequest)
	if strings.Contains(p.Body, "<html") || !p.has(`form[data-testid="custom-form"] [data-testid="form-error"]`) {
		t.Errorf("htmx error should be the form alone:\n%s", p.Body)
	}
	if n := s.purchases(org); n != 0 {
		t.Fatalf("%d purchases created from wrong amounts", n)
	}
}

func TestAddCredits_DemoPurchaseFromPackToBalanceThenRefund(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.signedUp("ada@example.com", "Engines")
	p := b.post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"5,000"}})
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/settings/billing/credits/demo/pur_") {
		t.Fatalf("buy: %d to %q, want the demo checkout", p.StatusCode, p.Header.Get("Location"))
	}
	checkout := p.Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	c := b.get(checkout)
	wantStatus(t, c, http.StatusOK)
	if got := c.text(`[data-testid="demo-label"]`); got != "Demo mode — no card is charged" {
		t.Errorf("demo label = %q", got)
	}
	if got := c.text(`[data-testid="checkout-total"]`); got != "$50.00" {
		t.Errorf("total = %q", got)
	}
	wantRedirect(t, b.post(checkout, checkout+"/pay", nil), "/settings/billing/credits/purchases/"+id)
	st := b.get("/settings/billing/credits/purchases/" + id)
	if got := st.text(`[data-testid="new-balance"]`); got != "6,000 credits" {
		t.Fatalf("new balance = %q, want 6,000 credits", got)
	}
	if st.has(`[hx-trigger]#purchase-status`) {
		t.Errorf("a done purchase must not poll")
	}
	ov := b.get("/settings/billing")
	if got := ov.text(`[data-testid="recent-credits"] [data-testid="activity-row"]`); !strings.Contains(got, "Purchased") || !strings.Contains(got, "+5,000") {
		t.Errorf("overview credits added = %q, want the purchase", got)
	}
	// Refund, with the amounts shown before confirming.
	list := b.get("/settings/billing/credits")
	if got := list.text(`[data-testid="purchase-row"]`); !strings.Contains(got, "5,000 credits · $50.00") {
		t.Errorf("purchase row = %q, want the refund amount", got)
	}
	if got := list.text(`[data-testid="refund-link"]`); got != "Refund unused credits" {
		t.Errorf("refund link = %q", got)
	}
	refund := "/settings/billing/credits/purchases/" + id + "/refund"
	conf := b.get(refund)
	if conf.text(`[data-testid="refund-credits"]`) != "5,000 credits" || conf.text(`[data-testid="refund-amount"]`) != "$50.00" {
		t.Errorf("confirm step: %q / %q", conf.text(`[data-testid="refund-credits"]`), conf.text(`[data-testid="refund-amount"]`))
	}
	wantRedirect(t, b.post(refund, refund, nil), "/settings/billing/credits")
	after := b.get("/settings/billing/credits")
	if got := after.text(`[data-testid="alert-success"]`); !strings.Contains(got, "Refunded 5,000 unused credits") {
		t.Errorf("flash = %q", got)
	}
	if got := after.text(`[data-testid="purchase-status"]`); got != "Refunded" {
		t.Errorf("status = %q, want Refunded", got)
	}
	again := b.post(refund, refund, nil)
	wantStatus(t, again, http.StatusConflict)
	if got := again.text(`[data-testid="alert-error"]`); !strings.Contains(got, "refunded already") {
		t.Errorf("second refund = %q", got)
	}
	ov = b.get("/settings/billing")
	if got := ov.text(`[data-testid="recent-credits"] [data-testid="activity-row"]`); !strings.Contains(got, "Refund") {
		t.Errorf("overview credits added = %q, want the refund first", got)
	}
	billingtest.AssertLedger(t, s.DB, org)
}

func TestAddCredits_CancelledCheckoutSaysSo(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.signedUp("ada@example.com", "Engines")
	checkout := b.post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"1000"}}).Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	status := "/settings/billing/credits/purchases/" + id
	wantRedirect(t, b.get(status+"/cancel"), status)
	p := b.get(status)
	if got := p.text(`[data-testid="purchase-cancelled"]`); got != "Checkout cancelled" {
		t.Fatalf("cancelled page = %q", got)
	}
	wantStatus(t, b.post(checkout, checkout+"/pay", nil), http.StatusConflict)
	cs, _ := s.Billing.Credits(bg, org)
	if cs.Purchased != 0 {
		t.Fatalf("a cancelled checkout granted %s", cs.Purchased)
	}
}

func TestAddCredits_AnotherOrgsPurchaseIsNotFound(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	a, _ := s.signedUp("ada@example.com", "Engines")
	checkout := a.post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"1000"}}).Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	b, _ := s.signedUp("bob@example.com", "Looms")
	wantStatus(t, b.get(checkout), http.StatusNotFound)
	wantStatus(t, b.get("/settings/billing/credits/purchases/"+id), http.StatusNotFound)
	wantStatus(t, b.post("/settings/billing/credits", checkout+"/pay", nil), http.StatusNotFound)
}

func TestStripeWebhook_SignatureDecidesAndUnhandledTypesAreAcknowledged(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	post := func(body []byte, sig string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/webhooks/stripe", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("Stripe-Signature", sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	sign := func(body []byte, secret string, at time.Time) string {
		return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
	}
	body, _ := json.Marshal(map[string]any{"id": "evt_1", "object": "event", "type": "checkout.session.completed",
		"data": map[string]any{"object": map[string]any{"id": "cs_1", "object": "checkout.session", "client_reference_id": "pur_unknown", "payment_status": "paid"}}})
	for name, sig := range map[string]string{
		"bad signature":    sign(body, "whsec_other", time.Now()),
		"stale":            sign(body, testWebhookSecret, time.Now().Add(-time.Hour)),
		"no signature":     "",
		"unknown purchase": sign(body, testWebhookSecret, time.Now()),
	} {
		status, out := post(body, sig)
		if status != http.StatusBadRequest || !strings.Contains(out, `"code":"invalid"`) {
			t.Errorf("%s: %d %s, want 400 JSON", name, status, out)
		}
	}
	other, _ := json.Marshal(map[string]any{"id": "evt_2", "object": "event", "type": "invoice.paid", "data": map[string]any{"object": map[string]any{"id": "in_1"}}})
	if status, out := post(other, sign(other, testWebhookSecret, time.Now())); status != http.StatusOK {
		t.Errorf("unhandled type: %d %s, want 200", status, out)
	}
}
