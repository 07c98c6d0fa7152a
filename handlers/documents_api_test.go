package handlers_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
)

// issueInvoices issues n purchase invoices for t's org, an hour apart.
func (e *apiEnv) issueInvoices(t tenant, n int) []string {
	e.t.Helper()
	docs := documents.New(e.DB, documents.Config{}, documents.WithClock(e.Clock.Now))
	var numbers []string
	for i := range n {
		tx, err := e.DB.BeginTxx(ctx, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		d, err := docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{OrgID: t.org, Ref: fmt.Sprintf("cs_%s_%d", t.org, i), Credits: billing.Credits(1000), UnitCents: 1, Amount: 1000, Method: "Card (Stripe)"})
		if err != nil {
			e.t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			e.t.Fatal(err)
		}
		numbers = append(numbers, d.Number)
		e.Clock.Advance(3600e9)
	}
	return numbers
}

func TestDocumentsAPI_ListsEveryDocumentOnceAndDownloadsPDFs(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a, b := e.signUp("ada"), e.signUp("bob")
	issued := e.issueInvoices(a, 12)
	e.issueInvoices(b, 2)

	seen := map[string]bool{}
	path := "/api/v1/documents?limit=5&type=purchase"
	for pages := 0; path != ""; pages++ {
		r := e.call(http.MethodGet, path, a.key, "")
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		for _, d := range r.JSON["documents"].([]any) {
			doc := d.(map[string]any)
			n := doc["number"].(string)
			if seen[n] {
				t.Fatalf("%s listed twice", n)
			}
			seen[n] = true
			if doc["totalCents"].(interface{ String() string }).String() != "1000" || doc["credits"].(interface{ String() string }).String() != "1000" || doc["pdfUrl"] != "/api/v1/documents/"+n+".pdf" {
				t.Errorf("document %v", doc)
			}
		}
		path = ""
		if next, ok := r.JSON["nextCursor"].(string); ok {
			path = "/api/v1/documents?limit=5&type=purchase&cursor=" + next
		}
	}
	if len(seen) != len(issued) {
		t.Fatalf("listed %d documents, issued %d", len(seen), len(issued))
	}

	// The PDF downloads with the org's key; another org's key gets 404 with a JSON error.
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/documents/"+issued[0]+".pdf", nil)
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(body), "%PDF-") {
		t.Errorf("PDF: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	for _, p := range []string{"/api/v1/documents/" + issued[0] + ".pdf", "/api/v1/documents/" + issued[0], "/api/v1/documents/LUX-1999-000001.pdf"} {
		r := e.call(http.MethodGet, p, b.key, "")
		if code, _ := errorOf(t, r); r.Status != http.StatusNotFound || code != billing.ENOTFOUND {
			t.Errorf("another org's %s: %d %s", p, r.Status, r.Body)
		}
	}
	r := e.call(http.MethodGet, "/api/v1/documents", b.key, "")
	if n := len(r.JSON["documents"].([]any)); n != 2 {
		t.Errorf("bob lists %d documents, want his 2", n)
	}
	// Filters that cannot be used say what to fix.
	for _, q := range []string{"type=receipt", "from=2026-02-30", "limit=0", "limit=101", "cursor=zzz", "from=0001-01-01"} {
		r := e.call(http.MethodGet, "/api/v1/documents?"+q, a.key, "")
		if code, msg := errorOf(t, r); r.Status != http.StatusBadRequest || code != billing.EINVALID {
			t.Errorf("%s: %d %s %s", q, r.Status, code, msg)
		}
	}
	if r := e.call(http.MethodGet, "/api/v1/documents", "", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("without a key: %d", r.Status)
	}
}
