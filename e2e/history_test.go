package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// fetchPDF downloads href with the tab's session, as the Download PDF link does, and returns
// the status, content type, disposition and the first bytes of the body.
func (tb *tab) fetchPDF(href string) string {
	tb.t.Helper()
	js := fmt.Sprintf(`fetch(%q).then(async r => r.status + " " + r.headers.get("content-type") + " " +
		r.headers.get("content-disposition") + " " + new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)))`, href)
	s, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("fetch %s: %v", href, err)
	}
	return s
}

func TestBrowser_DemoAdminFiltersHistoryAndDownloadsPDF(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	seeded, err := demo.Seed(context.Background(), a.DB, time.Now(), 70)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login(demo.AdminEmail, demo.Password)
	tb.do(chromedp.Click(testID("nav-history")))
	tb.wait(testID("history-table"))
	all := tb.count(`[data-testid="history-row"]`)
	var statements int // the first page of them
	if err := a.DB.Get(&statements, `SELECT least(count(*), 25) FROM documents WHERE org_id = $1 AND kind = 'statement'`, seeded.OrgID); err != nil {
		t.Fatal(err)
	}
	if all != 25 || statements < 11 || tb.count(`[data-testid="history-row"][data-kind="statement"]`) == 0 {
		t.Fatalf("demo history: %d rows on the first page, %d statements, want a full page and a year of statements", all, statements)
	}
	// Choosing a type applies at once (htmx) and keeps the filter in the address bar.
	tb.do(chromedp.SetValue(testID("history-type"), documents.TypeStatement),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="history-type"]').dispatchEvent(new Event("change", {bubbles: true}))`))
	tb.do(chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="history-row"]').length === ` + fmt.Sprint(statements) + ` && location.search.includes("type=statement")`))
	if n := tb.count(`[data-testid="history-row"]:not([data-kind="statement"])`); n != 0 {
		t.Errorf("%d other documents under the statement filter", n)
	}
	// Download the newest statement: a PDF named after its number.
	number, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="history-row"]').dataset.number`))
	if err != nil {
		t.Fatal(err)
	}
	href, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="history-pdf"]').getAttribute("href")`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tb.fetchPDF(href), "200 application/pdf attachment; filename=\""+number+".pdf\" %PDF-"; got != want {
		t.Errorf("download = %q, want %q", got, want)
	}
	// A date range with nothing in it explains itself; the plain form works without htmx too.
	tb.open("/settings/billing/history?type=invoice&from=2001-01-01&to=2001-01-31")
	if got := tb.text(testID("history-empty")); !strings.Contains(got, "No documents match these filters") {
		t.Errorf("empty filter result = %q", got)
	}
	// Another org's number is not found, from the page URL too.
	if status := tb.open("/settings/billing/history/LUX-2099-000001.pdf"); status != http.StatusNotFound {
		t.Errorf("unknown number: status %d", status)
	}
	// The member sees the same history and the details read-only.
	mt := newTab(t, a.URL)
	mt.login(demo.MemberEmail, demo.Password)
	mt.open("/settings/billing/history")
	if n := mt.count(`[data-testid="history-row"]`); n != all {
		t.Errorf("member sees %d documents, admin %d", n, all)
	}
	if n := mt.count(`[data-testid="profile-form"]`); n != 0 {
		t.Error("a member is offered the billing details form")
	}
	if n := mt.count(`[data-testid="history-refund"]`); n != 0 {
		t.Error("a member is offered a refund")
	}

	// The admin refunds the newest purchase from its invoice: a confirmation, then the list
	// comes back in place with the message and the credit note on top.
	tb.open("/settings/billing/history?type=purchase")
	tb.do(chromedp.Click(testID("history-refund")))
	amount := tb.text(testID("history-refund-amount"))
	tb.do(chromedp.Click(testID("history-refund-submit")))
	notice := tb.text(testID("history-notice"))
	if !strings.Contains(notice, "Refunded") || !strings.Contains(notice, amount) || !strings.Contains(notice, "Credit note LUX-CN-") {
		t.Errorf("after the refund: %q (confirmed %s)", notice, amount)
	}
	top, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(r => r.dataset.kind + " " + r.dataset.number)(document.querySelector('[data-testid="history-row"]'))`))
	if err != nil {
		t.Fatal(err)
	}
	kind, cn, _ := strings.Cut(top, " ")
	if kind != documents.KindCreditNote || !strings.Contains(notice, cn) {
		t.Errorf("newest row %q, want the credit note of %q", top, notice)
	}
	billingtest.AssertLedger(t, a.DB, seeded.OrgID)
	billingtest.AssertDocuments(t, a.DB, seeded.OrgID)
}

// captureDocuments writes PNGs of the first page of the demo's newest invoice, credit note and
// statement, and of the draft statement, as a finance person would see them.
func captureDocuments(t *testing.T, a *webtest.Server, orgID, dir string) {
	t.Helper()
	docs := a.Documents
	for _, kind := range []string{documents.TypePurchase, documents.TypeCreditNote, documents.TypeStatement} {
		page, err := docs.List(context.Background(), orgID, documents.Filter{Type: kind, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Documents) == 0 {
			t.Errorf("the demo org has no %s to picture", kind)
			continue
		}
		renderPNG(t, page.Documents[0], filepath.Join(dir, "document-"+kind))
	}
	draft, err := docs.DraftStatement(context.Background(), orgID)
	if err != nil {
		t.Fatal(err)
	}
	renderPNG(t, draft, filepath.Join(dir, "document-statement-draft"))
}

// renderPNG renders d's first page at 80 dpi to prefix.png with pdftoppm.
func renderPNG(t *testing.T, d *documents.Document, prefix string) {
	t.Helper()
	b, err := documents.PDF(d)
	if err != nil {
		t.Fatal(err)
	}
	pdf := prefix + ".pdf"
	if err := os.WriteFile(pdf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm (apt-get install poppler-utils): %v %s", err, out)
	}
	_ = os.Remove(pdf)
}
