package handlers_test

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
func creditsSite(t *testing.T) *webtest.Site {
	t.Helper()
	return webtest.SiteOf(t, webtest.New(t, webtest.Options{BaseURL: "http://localhost", Payments: &payments.Config{WebhookSecret: testWebhookSecret}}))
}

func purchases(s *webtest.Site, org string) int {
	s.T().Helper()
	var n int
	if err := s.DB.Get(&n, `SELECT count(*) FROM purchases WHERE org_id = $1`, org); err != nil {
		s.T().Fatal(err)
	}
	return n
}

func TestAddCredits_MemberIsForbiddenOnGetAndPost(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	_, org := s.SignedUp("ada@example.com", "Engines")
	b := s.Browser()
	b.Login(s.Member(org, "mel@example.com", identity.RoleMember), "correct horse")
	webtest.WantStatus(t, b.Get("/settings/billing/credits"), http.StatusForbidden)
	p := b.Post("/settings/billing", "/settings/billing/credits", url.Values{"credits": {"5000"}})
	webtest.WantStatus(t, p, http.StatusForbidden)
	if n := purchases(s, org); n != 0 {
		t.Fatalf("a member's post created %d purchases", n)
	}
	for _, path := range []string{"/settings/billing/credits/purchases/pur_x/refund", "/settings/billing/credits/demo/pur_x/pay"} {
		webtest.WantStatus(t, b.Post("/settings/billing", path, nil), http.StatusForbidden)
	}
	webtest.WantStatus(t, b.Get("/settings/billing/credits/purchases/pur_x/refund"), http.StatusForbidden)
}

func TestAddCredits_PageShowsPacksPricesAndDemoMode(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, _ := s.SignedUp("ada@example.com", "Engines")
	p := b.Get("/settings/billing/credits")
	webtest.WantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Text(`[data-testid="demo-banner"]`), "Demo mode — no card is charged") {
		t.Errorf("no demo banner")
	}
	for _, c := range []struct{ pack, price, after string }{
		{"1,000", "$10.00", "2,000"}, {"5,000", "$50.00", "6,000"}, {"10,000", "$100.00", "11,000"}, {"50,000", "$500.00", "51,000"},
	} {
		sel := fmt.Sprintf(`[data-testid="pack-%s"]`, c.pack)
		if got := p.Text(sel + ` [data-testid="pack-price"]`); got != c.price {
			t.Errorf("pack %s price = %q, want %s", c.pack, got, c.price)
		}
		if got := p.Text(sel + ` .pack-after`); !strings.Contains(got, c.after) {
			t.Errorf("pack %s balance after = %q, want %s", c.pack, got, c.after)
		}
		if n := p.Doc.Find(sel + ` input[name="credits"]`).Length(); n != 1 {
			t.Errorf("pack %s posts %d credits fields, want one", c.pack, n)
		}
	}
	if !p.Has(`[data-testid="what-next"]`) || !p.Has(`[data-testid="no-purchases"]`) {
		t.Errorf("want what happens next and the empty purchases list")
	}
	q := b.Get("/settings/billing/credits/quote?credits=2500", "HX-Request", "true")
	if got := q.Text(`[data-testid="custom-price"]`); got != "$25.00" {
		t.Errorf("custom quote = %q, want $25.00", got)
	}
}

func TestAddCredits_WrongAmountIsInlineAndCreatesNothing(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.SignedUp("ada@example.com", "Engines")
	for _, amount := range []string{"99", "1000001", "12.5", "lots", ""} {
		p := b.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {amount}})
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if got := p.Text(`[data-testid="form-error"]`); !strings.Contains(got, "100") {
			t.Errorf("%q: error = %q", amount, got)
		}
		if v, _ := p.Doc.Find(`#custom-credits`).Attr("value"); v != amount {
			t.Errorf("%q: the form lost the amount: %q", amount, v)
		}
	}
	p := b.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"5"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if strings.Contains(p.Body, "<html") || !p.Has(`form[data-testid="custom-form"] [data-testid="form-error"]`) {
		t.Errorf("htmx error should be the form alone:\n%s", p.Body)
	}
	if n := purchases(s, org); n != 0 {
		t.Fatalf("%d purchases created from wrong amounts", n)
	}
}

func TestAddCredits_DemoPurchaseFromPackToBalanceThenRefund(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.SignedUp("ada@example.com", "Engines")
	p := b.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"5,000"}})
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/settings/billing/credits/demo/pur_") {
		t.Fatalf("buy: %d to %q, want the demo checkout", p.StatusCode, p.Header.Get("Location"))
	}
	checkout := p.Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	c := b.Get(checkout)
	webtest.WantStatus(t, c, http.StatusOK)
	if got := c.Text(`[data-testid="demo-label"]`); got != "Demo mode — no card is charged" {
		t.Errorf("demo label = %q", got)
	}
	if got := c.Text(`[data-testid="checkout-total"]`); got != "$50.00" {
		t.Errorf("total = %q", got)
	}
	webtest.WantRedirect(t, b.Post(checkout, checkout+"/pay", nil), "/settings/billing/credits/purchases/"+id)
	st := b.Get("/settings/billing/credits/purchases/" + id)
	if got := st.Text(`[data-testid="new-balance"]`); got != "6,000 credits" {
		t.Fatalf("new balance = %q, want 6,000 credits", got)
	}
	if st.Has(`[hx-trigger]#purchase-status`) {
		t.Errorf("a done purchase must not poll")
	}
	ov := b.Get("/settings/billing")
	if got := ov.Text(`[data-testid="recent-credits"] [data-testid="activity-row"]`); !strings.Contains(got, "Purchased") || !strings.Contains(got, "+5,000") {
		t.Errorf("overview credits added = %q, want the purchase", got)
	}
	// Refund, with the amounts shown before confirming.
	list := b.Get("/settings/billing/credits")
	if got := list.Text(`[data-testid="purchase-row"]`); !strings.Contains(got, "5,000 credits · $50.00") {
		t.Errorf("purchase row = %q, want the refund amount", got)
	}
	if got := list.Text(`[data-testid="refund-link"]`); got != "Refund unused credits" {
		t.Errorf("refund link = %q", got)
	}
	refund := "/settings/billing/credits/purchases/" + id + "/refund"
	conf := b.Get(refund)
	if conf.Text(`[data-testid="refund-credits"]`) != "5,000 credits" || conf.Text(`[data-testid="refund-amount"]`) != "$50.00" {
		t.Errorf("confirm step: %q / %q", conf.Text(`[data-testid="refund-credits"]`), conf.Text(`[data-testid="refund-amount"]`))
	}
	webtest.WantRedirect(t, b.Post(refund, refund, nil), "/settings/billing/credits")
	after := b.Get("/settings/billing/credits")
	if got := after.Text(`[data-testid="alert-success"]`); !strings.Contains(got, "Refunded 5,000 unused credits") {
		t.Errorf("flash = %q", got)
	}
	if got := after.Text(`[data-testid="purchase-status"]`); got != "Refunded" {
		t.Errorf("status = %q, want Refunded", got)
	}
	again := b.Post(refund, refund, nil)
	webtest.WantStatus(t, again, http.StatusConflict)
	if got := again.Text(`[data-testid="alert-error"]`); !strings.Contains(got, "refunded already") {
		t.Errorf("second refund = %q", got)
	}
	ov = b.Get("/settings/billing")
	if got := ov.Text(`[data-testid="recent-credits"] [data-testid="activity-row"]`); !strings.Contains(got, "Refund") {
		t.Errorf("overview credits added = %q, want the refund first", got)
	}
	billingtest.AssertLedger(t, s.DB, org)
}

func TestAddCredits_CancelledCheckoutSaysSo(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	b, org := s.SignedUp("ada@example.com", "Engines")
	checkout := b.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"1000"}}).Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	status := "/settings/billing/credits/purchases/" + id
	webtest.WantRedirect(t, b.Get(status+"/cancel"), status)
	p := b.Get(status)
	if got := p.Text(`[data-testid="purchase-cancelled"]`); got != "Checkout cancelled" {
		t.Fatalf("cancelled page = %q", got)
	}
	webtest.WantStatus(t, b.Post(checkout, checkout+"/pay", nil), http.StatusConflict)
	cs, _ := s.Billing.CreditSummary(ctx, org)
	if cs.Purchased != 0 {
		t.Fatalf("a cancelled checkout granted %s", cs.Purchased)
	}
}

func TestAddCredits_AnotherOrgsPurchaseIsNotFound(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	a, _ := s.SignedUp("ada@example.com", "Engines")
	checkout := a.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {"1000"}}).Header.Get("Location")
	id := strings.TrimPrefix(checkout, "/settings/billing/credits/demo/")
	b, _ := s.SignedUp("bob@example.com", "Looms")
	webtest.WantStatus(t, b.Get(checkout), http.StatusNotFound)
	webtest.WantStatus(t, b.Get("/settings/billing/credits/purchases/"+id), http.StatusNotFound)
	webtest.WantStatus(t, b.Post("/settings/billing/credits", checkout+"/pay", nil), http.StatusNotFound)
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
