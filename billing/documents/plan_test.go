package documents_test

import (
	"strings"
	"testing"
	"time"

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

// A cycle that the usage of its first request rolls over (not the rollover sweep) renews the
// demo subscription at the plan's price and invoices the renewal in that transaction.
func TestPlanInvoicer_RenewalRolledOverByUsageIsChargedAndInvoiced(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	svc, err := billing.New(ctx, f.db, billing.WithClock(f.clock.Now), billing.WithPlanInvoicer(documents.PlanInvoicer{Docs: f.docs}))
	if err != nil {
		t.Fatal(err)
	}
	co, _, err := svc.StartPlanCheckout(ctx, f.org, "pro", f.admin, billing.ProviderDemo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompletePlanCheckout(ctx, billing.PlanPayment{CheckoutID: co.ID, Provider: billing.ProviderDemo, AmountCents: co.AmountCents}); err != nil {
		t.Fatal(err)
	}
	// The next cycle starts with a usage batch: ingestion locks the account and rolls it over.
	f.clock.Set(t0.AddDate(0, 1, 0).Add(time.Hour))
	e := billing.UsageEvent{ID: "evt_renewal", FlowID: "flow_1", ExecutionID: "exec_1", UserID: f.admin, Type: billing.TypeEmail, Quantity: 1}
	if _, err := svc.RecordUsage(ctx, f.org, f.admin, []billing.UsageEvent{e}); err != nil {
		t.Fatal(err)
	}
	charges, err := svc.PlanCharges(ctx, f.org, 10)
	if err != nil {
		t.Fatal(err)
	}
	var renewal *billing.PlanCharge
	for i := range charges {
		if charges[i].Kind == "renewal" {
			renewal = &charges[i]
		}
	}
	if renewal == nil || renewal.AmountCents != 24900 || renewal.PlanCode != "pro" {
		t.Fatalf("renewal after a rollover by usage = %+v, want Pro at $249.00", renewal)
	}
	st, err := svc.PlanStatus(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	if st.Plan.Code != "pro" || (st.Subscription != nil && st.Subscription.Status != "active") {
		t.Errorf("after the renewal: plan %s, subscription %+v; want Pro, active", st.Plan.Code, st.Subscription)
	}
	page, err := f.docs.List(ctx, f.org, documents.Filter{Type: documents.TypePlanCharge})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Documents) != 2 || page.Documents[0].Total != 24900 {
		t.Fatalf("plan invoices = %d, newest %+v; want the upgrade and the $249.00 renewal", len(page.Documents), page.Documents)
	}
	billingtest.AssertLedger(t, f.db, f.org)
	billingtest.AssertDocuments(t, f.db, f.org)
}
