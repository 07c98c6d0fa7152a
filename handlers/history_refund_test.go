package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// buyDemo buys n credits for org as the signed-in admin b through the demo checkout, and
// returns the purchase id.
func buyDemo(t *testing.T, b *webtest.Browser, n string) string {
	t.Helper()
	p := b.Post("/settings/billing/credits", "/settings/billing/credits", url.Values{"credits": {n}})
	checkout := p.Header.Get("Location")
	id, ok := strings.CutPrefix(checkout, "/settings/billing/credits/demo/")
	if !ok {
		t.Fatalf("buy %s: %d to %q", n, p.StatusCode, checkout)
	}
	webtest.WantRedirect(t, b.Post(checkout, checkout+"/pay", nil), "/settings/billing/credits/purchases/"+id)
	return id
}

func TestHistory_AdminRefundsAPurchaseAndTheCreditNoteIsListed(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	admin, org := s.SignedUp("ada@example.com", "Engines")
	old := buyDemo(t, admin, "1,000")
	// The first purchase was paid 31 days ago: past the refund window.
	if _, err := s.DB.Exec(`UPDATE purchases SET paid_at = paid_at - interval '31 days' WHERE id = $1`, old); err != nil {
		t.Fatal(err)
	}
	id := buyDemo(t, admin, "5,000")

	h := admin.Get("/settings/billing/history")
	webtest.WantStatus(t, h, http.StatusOK)
	if n := h.Doc.Find(`[data-testid="history-row"][data-kind="invoice"]`).Length(); n != 2 {
		t.Fatalf("%d invoices listed, want both purchases'", n)
	}
	// Only the purchase still refundable offers a Refund, on its invoice.
	links := h.Doc.Find(`[data-testid="history-refund"]`)
	href, _ := links.Attr("href")
	if links.Length() != 1 || href != "/settings/billing/history/refund/"+id {
		t.Fatalf("refund actions = %d, first %q; want one, for %s (not %s)", links.Length(), href, id, old)
	}

	// Confirm step, as htmx asks for it (the list only) and as a plain link (the page).
	frag := admin.Get(href, "HX-Request", "true", "HX-Target", "history-view")
	webtest.WantStatus(t, frag, http.StatusOK)
	if frag.Has(`[data-testid="billing-details"]`) || !frag.Has(`[data-testid="history-table"]`) {
		t.Error("the htmx confirm step is not the list alone")
	}
	if got := frag.Text(`[data-testid="history-refund-amount"]`); got != "$50.00" {
		t.Errorf("refund amount = %q, want $50.00", got)
	}
	if got := frag.Text(`#history-refund-title`); !strings.Contains(got, "LUX-2026-00000") {
		t.Errorf("confirm title = %q, want the invoice number", got)
	}
	page := admin.Get(href)
	if !page.Has(`[data-testid="history-refund-confirm"]`) || !page.Has(`[data-testid="billing-details"]`) {
		t.Error("the plain confirm step is not the whole page")
	}

	// Refund through htmx: the list comes back with the message and the credit note on top.
	done := admin.Post(href, href, nil, "HX-Request", "true", "HX-Target", "history-view")
	webtest.WantStatus(t, done, http.StatusOK)
	notice := done.Text(`[data-testid="history-notice"]`)
	if !strings.Contains(notice, "Refunded 5,000 unused credits: $50.00") || !strings.Contains(notice, "Credit note LUX-CN-") {
		t.Errorf("notice = %q", notice)
	}
	top := done.Doc.Find(`[data-testid="history-row"]`).First()
	if kind, _ := top.Attr("data-kind"); kind != "credit_note" || !strings.Contains(notice, top.AttrOr("data-number", "?")) {
		t.Errorf("newest row is a %s %s, want the credit note named in %q", kind, top.AttrOr("data-number", ""), notice)
	}
	if done.Has(`[data-testid="history-refund"]`) {
		t.Error("a refunded purchase still offers a refund")
	}
	if got := done.Text(`[data-testid="history-row"][data-kind="invoice"] [data-testid="history-status"]`); got != "Refunded" {
		t.Errorf("the refunded invoice's status = %q", got)
	}

	// Again: refused inline (409), nothing more issued.
	again := admin.Post("/settings/billing/history", href, nil, "HX-Request", "true", "HX-Target", "history-view")
	webtest.WantStatus(t, again, http.StatusConflict)
	if got := again.Text(`[data-testid="history-refund-confirm"] [data-testid="alert-error"]`); !strings.Contains(got, "refunded already") {
		t.Errorf("second refund = %q", got)
	}
	var notes int
	if err := s.DB.Get(&notes, `SELECT count(*) FROM documents WHERE org_id = $1 AND kind = 'credit_note'`, org); err != nil || notes != 1 {
		t.Fatalf("%d credit notes, want 1 (%v)", notes, err)
	}
	// The old purchase explains why it cannot be refunded.
	late := admin.Get("/settings/billing/history/refund/" + old)
	webtest.WantStatus(t, late, http.StatusOK)
	if got := late.Text(`[data-testid="history-refund-confirm"] [data-testid="alert-info"]`); !strings.Contains(got, "within 30 days") {
		t.Errorf("past the window: %q", got)
	}
	if late.Has(`[data-testid="history-refund-submit"]`) {
		t.Error("a purchase past the window offers the refund button")
	}
	billingtest.AssertLedger(t, s.DB, org)
	billingtest.AssertDocuments(t, s.DB, org)
}

func TestHistory_RefundWithoutJavaScriptRedirectsWithTheMessage(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	admin, org := s.SignedUp("ada@example.com", "Engines")
	id := buyDemo(t, admin, "2,000")
	href := "/settings/billing/history/refund/" + id
	webtest.WantRedirect(t, admin.Post(href, href, nil), "/settings/billing/history")
	h := admin.Get("/settings/billing/history")
	if got := h.Text(`[data-testid="alert-success"]`); !strings.Contains(got, "Refunded 2,000 unused credits") {
		t.Errorf("flash = %q", got)
	}
	if n := h.Doc.Find(`[data-testid="history-row"][data-kind="credit_note"]`).Length(); n != 1 {
		t.Errorf("%d credit notes listed, want 1", n)
	}
	billingtest.AssertDocuments(t, s.DB, org)
}

func TestHistory_RefundIsForAdminsOfThePurchasesOrgOnly(t *testing.T) {
	t.Parallel()
	s := creditsSite(t)
	admin, org := s.SignedUp("ada@example.com", "Engines")
	id := buyDemo(t, admin, "2,000")
	href := "/settings/billing/history/refund/" + id

	s.Member(org, "mel@example.com", identity.RoleMember)
	mel := s.Browser()
	mel.Login("mel@example.com", "correct horse")
	if mel.Get("/settings/billing/history").Has(`[data-testid="history-refund"]`) {
		t.Error("a member is offered the refund")
	}
	webtest.WantStatus(t, mel.Get(href), http.StatusForbidden)
	webtest.WantStatus(t, mel.Post("/settings/billing/history", href, nil), http.StatusForbidden)

	eve, _ := s.SignedUp("eve@example.com", "Evil Corp")
	webtest.WantStatus(t, eve.Get(href), http.StatusNotFound)
	webtest.WantStatus(t, eve.Post("/settings/billing/history", href, nil), http.StatusNotFound)
	webtest.WantStatus(t, admin.Get("/settings/billing/history/refund/pur_nosuch"), http.StatusNotFound)

	var refunds int
	if err := s.DB.Get(&refunds, `SELECT count(*) FROM refunds`); err != nil || refunds != 0 {
		t.Fatalf("%d refunds after refused attempts, want none (%v)", refunds, err)
	}
}
