package documents_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
)

// keepPDF writes a rendered document to $LUX_DOCUMENTS_OUT when set, to look at.
func keepPDF(t *testing.T, d *documents.Document) { keepPDFAs(t, d, d.Kind+".pdf") }

// keepPDFAs writes a rendered document to $LUX_DOCUMENTS_OUT/name when the variable is set.
func keepPDFAs(t *testing.T, d *documents.Document, name string) {
	t.Helper()
	dir := os.Getenv("LUX_DOCUMENTS_OUT")
	if dir == "" {
		return
	}
	b, err := documents.PDF(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInvoice_PDFShowsTheStoredFigures(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.docs.SaveProfile(ctx, f.org, f.admin, documents.Profile{
		Name: "Initech Robotics GmbH", Address: "Hauptstraße 5\n10115 Berlin", Country: "de", TaxID: "de123456789", Email: "finance@initech.example",
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(36 * time.Hour)
	inv := f.buy(t, "cs_test_1", 5000)
	if inv.Number != "LUX-2026-000001" {
		t.Errorf("first invoice number = %s, want LUX-2026-000001", inv.Number)
	}
	stored, err := f.docs.FindByNumber(ctx, f.org, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, stored)
	for _, want := range []string{
		"INVOICE", inv.Number, "Initech Robotics GmbH", "Hauptstraße 5", "10115 Berlin", "Germany",
		"Tax ID: DE123456789", "5,000 credits", "$50.00", "Subtotal", "Tax (0%)", "Total (USD)",
		"Paid 2 Mar 2026", "Card (Stripe)", "pi_cs_test_1", "2 March 2026", documents.DefaultSeller.Name,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("invoice PDF lacks %q:\n%s", want, text)
		}
	}
	// The totals are the database's, and equal the ledger's purchase.
	var total, credits int64
	if err := f.db.QueryRow(`SELECT total_cents, credits_mc FROM documents WHERE number = $1`, inv.Number).Scan(&total, &credits); err != nil {
		t.Fatal(err)
	}
	var granted int64
	if err := f.db.QueryRow(`SELECT amount_mc FROM grants WHERE org_id = $1 AND source_ref = 'cs_test_1'`, f.org).Scan(&granted); err != nil {
		t.Fatal(err)
	}
	if total != 5000 || credits != granted {
		t.Errorf("invoice total %d cents, %d mc; ledger granted %d mc", total, credits, granted)
	}
	// Rendering again gives the same bytes; issuing again gives the same invoice.
	a, _ := documents.PDF(stored)
	again, _ := f.docs.FindByNumber(ctx, f.org, inv.Number)
	b, _ := documents.PDF(again)
	if string(a) != string(b) {
		t.Error("rendering the same document twice gave different PDFs")
	}
	var dup *documents.Document
	f.inTx(t, func(tx *sqlx.Tx) (err error) {
		dup, err = f.docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{OrgID: f.org, Ref: "cs_test_1", Credits: billing.Credits(5000), Amount: 5000})
		return err
	})
	if dup.Number != inv.Number {
		t.Errorf("issuing the same purchase again gave %s, want %s", dup.Number, inv.Number)
	}
	// A later profile change does not touch the issued invoice.
	if _, err := f.docs.SaveProfile(ctx, f.org, f.admin, documents.Profile{Name: "Renamed Ltd"}); err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, again); strings.Contains(text, "Renamed Ltd") {
		t.Error("a profile change reached an invoice issued before it")
	}
	if next := f.buy(t, "cs_test_2", 1000); !strings.Contains(pdfText(t, next), "Renamed Ltd") {
		t.Error("an invoice issued after a profile change lacks the new name")
	}
	// Documents are immutable.
	if _, err := f.db.Exec(`UPDATE documents SET total_cents = 1 WHERE number = $1`, inv.Number); err == nil {
		t.Error("an issued document could be changed")
	}
	keepPDF(t, stored)
	billingtest.AssertLedger(t, f.db, f.org)
	billingtest.AssertDocuments(t, f.db, f.org)
}

func TestCreditNote_NamesTheInvoiceItCorrects(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.buy(t, "cs_refund_me", 10000)
	f.clock.Advance(48 * time.Hour)
	var cn *documents.Document
	f.inTx(t, func(tx *sqlx.Tx) (err error) {
		cn, err = f.docs.IssueCreditNote(ctx, tx, documents.Refund{
			OrgID: f.org, Ref: "re_1", InvoiceRef: "cs_refund_me", Credits: billing.Credits(7500),
			Amount: 7500, Currency: "usd", Method: "Refund to card (Stripe)", PaymentRef: "re_1", Reason: "Requested by the customer",
		})
		return err
	})
	if cn.Number != "LUX-CN-2026-000001" {
		t.Errorf("credit note number = %s", cn.Number)
	}
	text := pdfText(t, cn)
	for _, want := range []string{"CREDIT NOTE", cn.Number, "Corrects invoice", inv.Number, "7,500 unused credits", "$75.00", "Total credited", "Refunded", "Requested by the customer"} {
		if !strings.Contains(text, want) {
			t.Errorf("credit note PDF lacks %q:\n%s", want, text)
		}
	}
	page, err := f.docs.List(ctx, f.org, documents.Filter{Type: documents.TypePurchase})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Documents) != 1 || page.Documents[0].Refunded != 7500 {
		t.Errorf("the invoice lists %+v, want refunded 7500", page.Documents)
	}
	// A credit note for a purchase without an invoice is refused.
	tx, _ := f.db.BeginTxx(ctx, nil)
	defer tx.Rollback()
	if _, err := f.docs.IssueCreditNote(ctx, tx, documents.Refund{OrgID: f.org, Ref: "re_2", InvoiceRef: "nope", Amount: 1}); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("credit note without invoice: %v", err)
	}
	keepPDF(t, cn)
}
