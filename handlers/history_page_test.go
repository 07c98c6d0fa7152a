package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// invoice issues a paid purchase invoice for org, as payments' fulfilment does.
func invoice(t *testing.T, s *webtest.Site, org, ref string, credits int64) *documents.Document {
	t.Helper()
	docs := s.Documents
	var d *documents.Document
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func(tx *sqlx.Tx) { _ = tx.Rollback() }(tx)
	if d, err = docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{OrgID: org, Ref: ref, Credits: billing.Credits(credits), UnitCents: 1, Amount: billing.Cents(credits), Method: "Card (Stripe)"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHistory_MembersSeeAndDownloadTheirOrgsDocumentsOnly(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Initech")
	d := invoice(t, s, org, "cs_1", 5000)

	p := admin.Get("/settings/billing/history")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="history-number"]`); got != d.Number {
		t.Errorf("history lists %q, want %s", got, d.Number)
	}
	href, _ := p.Doc.Find(`[data-testid="history-pdf"]`).Attr("href")
	pdf := admin.Get(href)
	webtest.WantStatus(t, pdf, http.StatusOK)
	if ct := pdf.Header.Get("Content-Type"); ct != "application/pdf" || !strings.HasPrefix(pdf.Body, "%PDF-") {
		t.Errorf("download: %s, body starts %q", ct, pdf.Body[:min(8, len(pdf.Body))])
	}
	if cd := pdf.Header.Get("Content-Disposition"); cd != `attachment; filename="`+d.Number+`.pdf"` {
		t.Errorf("Content-Disposition = %q", cd)
	}

	// A member of the org sees it too; the draft statement downloads.
	s.Member(org, "mel@example.com", identity.RoleMember)
	mel := s.Browser()
	mel.Login("mel@example.com", "correct horse")
	webtest.WantStatus(t, mel.Get(href), http.StatusOK)
	webtest.WantStatus(t, mel.Get("/settings/billing/history/draft.pdf"), http.StatusOK)
	if mel.Get("/settings/billing/history").Has(`[data-testid="profile-form"]`) {
		t.Error("a member is offered the billing details form")
	}

	// Someone of another org: not found, for the download URL and for the number in any form.
	other, _ := s.SignedUp("eve@example.com", "Evil Corp")
	for _, path := range []string{href, "/settings/billing/history/" + d.Number + ".pdf", "/settings/billing/history/" + strings.ToLower(d.Number) + ".pdf", "/settings/billing/history/" + d.Number} {
		webtest.WantStatus(t, other.Get(path), http.StatusNotFound)
	}
	if other.Get("/settings/billing/history").Has(`[data-testid="history-row"]`) {
		t.Error("another org's history lists documents")
	}
	// Signed out: the login page, never the PDF.
	if p := s.Browser().Get(href); p.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: status %d", p.StatusCode)
	}
}

func TestHistory_FiltersAndEmptyStates(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Initech")
	p := admin.Get("/settings/billing/history")
	if got := p.Text(`[data-testid="history-empty"]`); !strings.Contains(got, "No documents yet") || !strings.Contains(got, "statement") {
		t.Errorf("empty history says %q", got)
	}
	invoice(t, s, org, "cs_1", 1000)
	p = admin.Get("/settings/billing/history?type=statement")
	if got := p.Text(`[data-testid="history-empty"]`); !strings.Contains(got, "No documents match these filters") {
		t.Errorf("filtered empty history says %q", got)
	}
	// htmx asks for the list only.
	p = admin.Get("/settings/billing/history?type=purchase", "HX-Request", "true", "HX-Target", "history-view")
	if p.Has(`[data-testid="billing-details"]`) || !p.Has(`[data-testid="history-row"]`) {
		t.Errorf("htmx answer is not the list alone:\n%s", p.Body)
	}
	for _, q := range []string{"type=receipts", "from=2026-13-01", "from=0001-01-01", "from=2026-03-02&to=2026-03-01", "cursor=abc"} {
		p := admin.Get("/settings/billing/history?" + q)
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if p.Text(`[data-testid="history-error"]`) == "" {
			t.Errorf("%s: no message saying what to fix", q)
		}
	}
}

func TestHistory_AdminsEditBillingDetailsForLaterDocuments(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Initech")
	before := invoice(t, s, org, "cs_before", 1000)

	p := admin.Post("/settings/billing/history", "/settings/billing/history/profile", url.Values{"name": {""}, "country": {"ZZ"}, "email": {"nope"}})
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if n := p.Doc.Find(`.field-error`).Length(); n != 3 {
		t.Errorf("%d field messages, want 3 (name, country, email)", n)
	}
	p = admin.Post("/settings/billing/history", "/settings/billing/history/profile", url.Values{
		"name": {"Initech GmbH"}, "address": {"Hauptstraße 5\n10115 Berlin"}, "country": {"DE"}, "taxId": {"DE123456789"},
	})
	webtest.WantRedirect(t, p, "/settings/billing/history#billing-details")
	after := invoice(t, s, org, "cs_after", 1000)
	docs := s.Documents
	for _, c := range []struct {
		d    *documents.Document
		name string
	}{{before, "Initech"}, {after, "Initech GmbH"}} {
		stored, err := docs.FindByNumber(ctx, org, c.d.Number)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Body.BillTo.Name != c.name {
			t.Errorf("%s is billed to %q, want %q", c.d.Number, stored.Body.BillTo.Name, c.name)
		}
	}
	// Members may not change them.
	s.Member(org, "mel@example.com", identity.RoleMember)
	mel := s.Browser()
	mel.Login("mel@example.com", "correct horse")
	p = mel.Post("/settings/billing/history", "/settings/billing/history/profile", url.Values{"name": {"Mel's Corp"}})
	webtest.WantStatus(t, p, http.StatusForbidden)
}
