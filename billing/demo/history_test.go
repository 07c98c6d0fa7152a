package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// The demo org has a year of History: an invoice for every purchase and plan charge, issued
// when it was paid, a refund with the credit note correcting its invoice, a statement for
// every closed cycle, and a purchase still refundable; every figure agrees with the ledger.
func TestSeed_AYearOfHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, db := billingtest.NewService(t)
	now := time.Now()
	res, err := demo.Seed(ctx, db, now, 14)
	if err != nil {
		t.Fatal(err)
	}
	billingtest.AssertLedger(t, db, res.OrgID)
	billingtest.AssertDocuments(t, db, res.OrgID)

	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.Get(&n, q, res.OrgID); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n, want := count(`SELECT count(*) FROM purchases WHERE org_id = $1 AND status = 'paid'`), 10; n != want {
		t.Errorf("%d paid purchases, want %d", n, want)
	}
	if n := count(`SELECT count(*) FROM purchases p WHERE org_id = $1 AND NOT EXISTS (
		SELECT 1 FROM documents d WHERE d.org_id = p.org_id AND d.source = 'purchase' AND d.source_ref = p.id AND d.issued_at = p.paid_at)`); n != 0 {
		t.Errorf("%d purchases without an invoice issued when paid", n)
	}
	if n := count(`SELECT count(*) FROM plan_charges c WHERE org_id = $1 AND NOT EXISTS (
		SELECT 1 FROM documents d WHERE d.org_id = c.org_id AND d.source = 'plan_charge' AND d.source_ref = 'plan_charge_' || c.id)`); n != 0 {
		t.Errorf("%d plan charges without an invoice", n)
	}
	if n := count(`SELECT count(*) FROM plan_charges WHERE org_id = $1 AND kind = 'renewal'`); n < 11 {
		t.Errorf("%d plan renewals in a year, want at least 11", n)
	}
	if n := count(`SELECT count(*) FROM documents c JOIN refunds r ON c.source_ref = 'refund_' || r.id
		JOIN documents i ON i.id = c.corrects_id AND i.source_ref = r.purchase_id
		WHERE c.org_id = $1 AND c.kind = 'credit_note' AND c.total_cents = r.amount_cents`); n != 1 {
		t.Errorf("%d refunds with a credit note correcting their invoice, want 1", n)
	}
	if n := count(`SELECT count(*) FROM documents WHERE org_id = $1 AND kind = 'statement'`); n < 11 {
		t.Errorf("%d statements, want one per closed cycle of the year (at least 11)", n)
	}
	var first time.Time
	if err := db.Get(&first, `SELECT min(issued_at) FROM documents WHERE org_id = $1`, res.OrgID); err != nil {
		t.Fatal(err)
	}
	if age := now.Sub(first); age < 360*24*time.Hour {
		t.Errorf("the oldest document is %s old, want a year of History", age.Round(time.Hour))
	}
	// The newest purchase can still be refunded from History.
	pay := payments.New(svc, identity.New(svc), payments.Config{})
	lines, err := pay.Purchases(ctx, res.OrgID)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) == 0 || !lines[0].Quote.Eligible {
		t.Errorf("the newest purchase is not refundable: %+v", lines)
	}
	// Each statement's closing balance is the ledger's at its cycle's end.
	docs := documents.New(db, documents.Config{})
	page, err := docs.List(ctx, res.OrgID, documents.Filter{Type: documents.TypeStatement, Limit: documents.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Documents {
		var ledger int64
		if err := db.Get(&ledger, `SELECT COALESCE(sum(amount_mc), 0) FROM ledger_entries WHERE org_id = $1
			AND (created_at < $2 OR (kind = 'expiry' AND created_at = $2))`, res.OrgID, *d.PeriodEnd); err != nil {
			t.Fatal(err)
		}
		if int64(d.Body.Statement.Closing) != ledger {
			t.Errorf("%s closes at %d, the ledger at %d", d.Number, d.Body.Statement.Closing, ledger)
		}
	}
}
