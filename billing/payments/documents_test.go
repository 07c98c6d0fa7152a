package payments_test

import (
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// docsOf lists the org's documents of type typ, newest first.
func (f *fixture) docsOf(t *testing.T, typ string) []*documents.Document {
	t.Helper()
	page, err := f.docs.List(ctx, f.org, documents.Filter{Type: typ, Limit: documents.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return page.Documents
}

// pdfText is pdftotext's reading of d as rendered.
func pdfText(t *testing.T, d *documents.Document) string {
	t.Helper()
	b, err := documents.PDF(d)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = strings.NewReader(string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install poppler-utils): %v", err)
	}
	return string(out)
}

func TestInvoice_OnePerPurchaseUnderConcurrentAndReplayedWebhooks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 5000)
	completed := stripeEvent(t, "evt_inv_completed", stripe.EventTypeCheckoutSessionCompleted, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	succeeded := stripeEvent(t, "evt_inv_async_ok", stripe.EventTypeCheckoutSessionAsyncPaymentSucceeded, p.ID, stripe.CheckoutSessionPaymentStatusPaid)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	start := make(chan struct{})
	for i := range 16 {
		body := completed
		if i%2 == 1 {
			body = succeeded
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- f.pay.HandleStripeWebhook(ctx, body, sign(body, webhookSecret, time.Now()))
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("delivery: %v", err)
		}
	}
	// A late replay, a day on, changes nothing either.
	f.clock.Advance(24 * time.Hour)
	if err := f.pay.HandleStripeWebhook(ctx, completed, sign(completed, webhookSecret, time.Now())); err != nil {
		t.Fatal(err)
	}
	invs := f.docsOf(t, documents.TypePurchase)
	if len(invs) != 1 {
		t.Fatalf("%d invoices for one purchase, want exactly 1", len(invs))
	}
	inv := invs[0]
	paid := mustPurchase(t, f, p.ID)
	if inv.SourceRef != p.ID || inv.Total != p.Price || inv.Credits != p.Credits || inv.Number != "LUX-2026-000001" ||
		!inv.IssuedAt.Equal(*paid.PaidAt) || inv.PaymentMethod != "Card (Stripe)" || inv.Body.PaymentRef != "pi_test_fixture" {
		t.Fatalf("invoice = %+v (paid at %s)", inv, paid.PaidAt)
	}
	text := pdfText(t, inv)
	for _, want := range []string{"INVOICE", inv.Number, "Test Org", "5,000 credits", "$50.00", "Total (USD)", "Card (Stripe)", "pi_test_fixture"} {
		if !strings.Contains(text, want) {
			t.Errorf("invoice PDF lacks %q:\n%s", want, text)
		}
	}
}

func TestCreditNote_RefundCorrectsItsInvoiceInItsTransaction(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	p := f.buy(t, 5000)
	f.paid(t, p)
	f.use(t, 1000+1200) // the allotment, then 1,200 of the purchase
	f.clock.Advance(3 * 24 * time.Hour)
	r, err := f.pay.Refund(ctx, f.org, p.ID, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	invs, notes := f.docsOf(t, documents.TypePurchase), f.docsOf(t, documents.TypeCreditNote)
	if len(invs) != 1 || len(notes) != 1 {
		t.Fatalf("%d invoices and %d credit notes, want 1 and 1", len(invs), len(notes))
	}
	inv, cn := invs[0], notes[0]
	if cn.CorrectsID == nil || *cn.CorrectsID != inv.ID || cn.Body.CorrectsNumber != inv.Number ||
		cn.Total != r.Amount || cn.Credits != r.Credits || cn.Number != "LUX-CN-2026-000001" ||
		!cn.IssuedAt.Equal(r.At) || cn.SourceRef != fmt.Sprintf("refund_%d", r.ID) {
		t.Fatalf("credit note = %+v for refund %+v of invoice %s", cn, r, inv.Number)
	}
	if inv.Refunded != r.Amount {
		t.Errorf("invoice shows %d cents refunded, want %d", inv.Refunded, r.Amount)
	}
	text := pdfText(t, cn)
	for _, want := range []string{"CREDIT NOTE", cn.Number, inv.Number, "3,800 unused credits", "$38.00", "Demo refund (no money moved)"} {
		if !strings.Contains(text, want) {
			t.Errorf("credit note PDF lacks %q:\n%s", want, text)
		}
	}
	// A refused second refund issues nothing.
	if _, err := f.pay.Refund(ctx, f.org, p.ID, f.admin); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("second refund: %v", err)
	}
	if n := len(f.docsOf(t, documents.TypeCreditNote)); n != 1 {
		t.Fatalf("%d credit notes after a refused refund, want 1", n)
	}
}

// A purchase paid before its invoice could be issued (no issuer then) is invoiced when it is
// refunded, in the refund's transaction and before its credit note: the invoice is dated at
// the refund and states when it was paid.
func TestCreditNote_PurchaseWithoutInvoiceIsInvoicedFirst(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	before := f.cfg
	before.Issuer = nil
	early := payments.New(f.core, f.ids, before)
	p, err := early.StartPurchase(ctx, f.org, f.admin, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.PayDemo(ctx, f.org, p.ID); err != nil {
		t.Fatal(err)
	}
	paidAt := *mustPurchase(t, f, p.ID).PaidAt
	if n := len(f.docsOf(t, documents.TypeAll)); n != 0 {
		t.Fatalf("%d documents before the refund, want none", n)
	}
	f.clock.Advance(10 * 24 * time.Hour)
	r, err := f.pay.Refund(ctx, f.org, p.ID, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	invs, notes := f.docsOf(t, documents.TypePurchase), f.docsOf(t, documents.TypeCreditNote)
	if len(invs) != 1 || len(notes) != 1 {
		t.Fatalf("%d invoices and %d credit notes, want 1 and 1", len(invs), len(notes))
	}
	inv, cn := invs[0], notes[0]
	if inv.SourceRef != p.ID || inv.Total != p.Price || !inv.IssuedAt.Equal(r.At) ||
		inv.Body.PaidAt == nil || !inv.Body.PaidAt.Equal(paidAt) || inv.ID >= cn.ID {
		t.Fatalf("late invoice = %+v (paid %s, refunded %s)", inv, paidAt, r.At)
	}
	if *cn.CorrectsID != inv.ID || cn.Total != r.Amount || cn.Total != 2000 {
		t.Fatalf("credit note = %+v, want all $20.00 against %s", cn, inv.Number)
	}
	text := pdfText(t, inv)
	for _, want := range []string{inv.Number, "Paid " + paidAt.Format("2 Jan 2006"), inv.IssuedAt.Format("2 January 2006"), "2,000 credits"} {
		if !strings.Contains(text, want) {
			t.Errorf("late invoice PDF lacks %q:\n%s", want, text)
		}
	}
}

// A refund the provider refuses rolls back its credit note and the credit note's number; the
// next credit note takes that number.
func TestCreditNote_RefusedRefundIssuesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	p := f.buy(t, 3000)
	f.paid(t, p)
	refusing := f.cfg
	refusing.Provider = payments.NewStripe("sk_test_123", "http://127.0.0.1:1") // nothing listens
	if _, err := payments.New(f.core, f.ids, refusing).Refund(ctx, f.org, p.ID, f.admin); err == nil {
		t.Fatal("a refund the provider could not make succeeded")
	}
	if n := len(f.docsOf(t, documents.TypeCreditNote)); n != 0 {
		t.Fatalf("%d credit notes after a refused refund, want none", n)
	}
	r, err := f.pay.Refund(ctx, f.org, p.ID, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	notes := f.docsOf(t, documents.TypeCreditNote)
	if len(notes) != 1 || notes[0].Number != "LUX-CN-2026-000001" || notes[0].Total != r.Amount {
		t.Fatalf("credit notes = %+v, want LUX-CN-2026-000001 for the refund", notes)
	}
}
