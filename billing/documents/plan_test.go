package documents_test

import (
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
)

func TestPlanInvoicer_UpgradeIsInvoicedInItsTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The core calls the invoicer inside the transaction that records the charge.
	svc, err := billing.New(ctx, f.db, billing.WithClock(f.clock.Now), billing.WithPlanInvoicer(documents.PlanInvoicer{Docs: f.docs}))
	if err != nil {
		t.Fatal(err)
	}
	co, _, err := svc.StartPlanCheckout(ctx, f.org, "pro", f.admin, billing.ProviderDemo)
	if err != nil {
		t.Fatal(err)
	}
	up, err := svc.CompletePlanCheckout(ctx, billing.PlanPayment{CheckoutID: co.ID, Provider: billing.ProviderDemo, AmountCents: co.AmountCents})
	if err != nil {
		t.Fatal(err)
	}
	page, err := f.docs.List(ctx, f.org, documents.Filter{Type: documents.TypePlanCharge})
	if err != nil || len(page.Documents) != 1 {
		t.Fatalf("plan invoices: %v %v", page, err)
	}
	d := page.Documents[0]
	if d.Total != co.AmountCents || d.Kind != documents.KindInvoice || up.ChargeID == 0 {
		t.Errorf("plan invoice %s total %d, charge %d cents", d.Number, d.Total, co.AmountCents)
	}
	text := pdfText(t, d)
	for _, want := range []string{"INVOICE", d.Number, "Pro plan", "Demo payment (no card charged)", documents.Money(co.AmountCents, "usd")} {
		if !strings.Contains(text, want) {
			t.Errorf("plan invoice PDF lacks %q:\n%s", want, text)
		}
	}
	billingtest.AssertLedger(t, f.db, f.org)
	billingtest.AssertDocuments(t, f.db, f.org)
}
