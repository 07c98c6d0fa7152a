// Command history measures the billing history at 10,000 documents: it creates a fresh
// database on the PostgreSQL server at LUX_BENCH_SERVER_URL, creates an organization through
// the billing service, issues 10,000 documents through the documents service (invoices for
// purchases and plan charges, credit notes for a tenth of them, timing each issue), then serves
// the app in process and times the History page (signed in, first page, a page deep in the
// history, filtered by type and by dates), GET /api/v1/documents and one PDF download. It
// prints a markdown section and writes it into docs/BENCHMARKS.md under its heading. The
// database is dropped at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/bench/benchkit"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/migrations"
	"github.com/luxstudio/lux-billing/web"
)

const heading = "## History at 10,000 documents"

func main() {
	n := flag.Int("documents", 10_000, "documents to issue")
	iterations := flag.Int("iterations", 200, "timed requests per measurement")
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown file whose section is replaced (relative to the module root); empty: print only")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := run(ctx, *n, *iterations, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench/history:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { benchkit.Logf(format, args...) }

func run(ctx context.Context, n, iterations int, out string) error {
	dsn, drop, err := benchkit.FreshDatabase(ctx, benchkit.ServerURL(), "lux_bench_history")
	if err != nil {
		return err
	}
	defer drop(false)
	db, err := billing.OpenDB(ctx, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	start := time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)
	clock := start
	svc, err := billing.New(ctx, db, billing.WithClock(func() time.Time { return clock }))
	if err != nil {
		return err
	}
	d := handlers.NewDomain(svc)
	user, err := d.Identity.CreateUser(ctx, identity.NewUser{Email: "bench@lux.local", Name: "Bench Admin", Password: "bench-password"})
	if err != nil {
		return err
	}
	org, err := d.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Bench History", PlanCode: "pro"}, user.ID)
	if err != nil {
		return err
	}
	key, _, err := d.Identity.CreateAPIKey(ctx, org, user.ID, "bench")
	if err != nil {
		return err
	}
	docs := documents.New(db, documents.Config{}, documents.WithClock(func() time.Time { return clock }))
	d.Documents = docs
	issued, err := issue(ctx, db, docs, org, n, &clock)
	if err != nil {
		return err
	}
	logf("issued %d documents", n)

	srv := httptest.NewServer(web.New(web.Config{SessionSecret: []byte(strings.Repeat("h", 32))}, d, slog.New(slog.NewTextHandler(io.Discard, nil))).Handler())
	defer srv.Close()
	c, err := login(srv.URL, "bench@lux.local", "bench-password")
	if err != nil {
		return err
	}
	// A cursor half-way down the history.
	page, err := docs.List(ctx, org, documents.Filter{Limit: n / 2})
	if err != nil {
		return err
	}
	mid := page.Next
	cells := []struct{ label, path, auth string }{
		{"History page, first 25", "/settings/billing/history", ""},
		{"History page, 25 after 5,000 (keyset cursor)", "/settings/billing/history?cursor=" + mid, ""},
		{"History page, credit notes only", "/settings/billing/history?type=credit_note", ""},
		{"History page, one month of dates", "/settings/billing/history?from=2026-03-01&to=2026-03-31", ""},
		{"History list through htmx (filter change)", "/settings/billing/history?type=purchase", "htmx"},
		{"GET /api/v1/documents?limit=100", "/api/v1/documents?limit=100", key},
		{"GET /api/v1/documents/{number}.pdf", "/api/v1/documents/" + issued.last + ".pdf", key},
	}
	var rows []string
	for _, cell := range cells {
		lat, err := measure(ctx, c, srv.URL+cell.path, cell.auth, iterations)
		if err != nil {
			return fmt.Errorf("%s: %w", cell.label, err)
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %.2f | **%.2f** | %.2f |", cell.label, iterations, ms(lat, 0.50), ms(lat, 0.95), ms(lat, 0.99)))
		logf("%s: p95 %.2f ms", cell.label, ms(lat, 0.95))
	}
	md := section(n, iterations, issued, rows)
	fmt.Print(md)
	if out == "" {
		return nil
	}
	if err := benchkit.WriteSection(out, heading, md); err != nil {
		return err
	}
	logf("wrote %s", out)
	return nil
}

type issueStats struct {
	invoices, creditNotes int
	latencies             []time.Duration
	last                  string
}

// issue issues n documents a few hours apart over a year: invoices for purchases and plan
// charges, and a credit note for every tenth purchase, each in its own transaction as payments
// would.
func issue(ctx context.Context, db *sqlx.DB, docs *documents.Service, org string, n int, clock *time.Time) (*issueStats, error) {
	st := &issueStats{}
	step := 365 * 24 * time.Hour / time.Duration(n)
	for i := 0; st.invoices+st.creditNotes < n; i++ {
		*clock = clock.Add(step)
		t0 := time.Now()
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return nil, err
		}
		var d *documents.Document
		ref := fmt.Sprintf("bench_%06d", i)
		switch {
		case i%10 == 9:
			d, err = docs.IssueCreditNote(ctx, tx, documents.Refund{OrgID: org, Ref: "re_" + ref, InvoiceRef: fmt.Sprintf("bench_%06d", i-1), Credits: billing.Credits(400), Amount: 400, Method: "Refund to card (Stripe)"})
			st.creditNotes++
		case i%10 == 5:
			d, err = docs.IssuePlanInvoice(ctx, tx, documents.PlanCharge{OrgID: org, Ref: ref, PlanName: "Pro", PeriodStart: *clock, PeriodEnd: clock.AddDate(0, 1, 0), Amount: 24900, Method: "Card (Stripe)"})
			st.invoices++
		default:
			d, err = docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{OrgID: org, Ref: ref, Credits: billing.Credits(1000), UnitCents: 1, Amount: 1000, Method: "Card (Stripe)"})
			st.invoices++
		}
		if err != nil {
			_ = tx.Rollback()
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
		st.latencies = append(st.latencies, time.Since(t0))
		st.last = d.Number
	}
	return st, nil
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login signs in through the form, as a browser does, and returns the client with the cookie.
func login(base, email, password string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(base + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		return nil, errors.New("no CSRF token on /login")
	}
	res, err = c.PostForm(base+"/login", url.Values{"email": {email}, "password": {password}, "_csrf": {string(m[1])}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	return c, nil
}

// measure requests url iterations times after a warm-up and returns the sorted latencies.
func measure(ctx context.Context, c *http.Client, u, auth string, iterations int) ([]time.Duration, error) {
	return benchkit.Timed(ctx, 5, iterations, func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		switch auth {
		case "":
		case "htmx":
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Target", "history-view")
		default:
			req.Header.Set("Authorization", "Bearer "+auth)
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	})
}

func ms(sorted []time.Duration, q float64) float64 { return benchkit.MS(benchkit.Quantile(sorted, q)) }

func section(n, iterations int, st *issueStats, rows []string) string {
	benchkit.Sorted(st.latencies)
	load := benchkit.LoadAvg()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", heading)
	fmt.Fprintf(&b, "Measured by `make bench` (`go run ./bench/history`) on %s UTC; %d cores, Go %s, load average %s when it started.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04"), runtime.NumCPU(), strings.TrimPrefix(runtime.Version(), "go"), load)
	fmt.Fprintf(&b, "**Method.** A fresh database; one organization with %s documents issued through the documents service over a year "+
		"(%s invoices for purchases and plan charges, %s credit notes), each issue in its own transaction as payments does. "+
		"The server runs in process (`web.New`, real PostgreSQL, HTTP over loopback); the History page is requested by a signed-in admin "+
		"(session cookie), the API with the org's key. Each row: %d sequential requests after 5 unmeasured ones; latency as the client sees it.\n\n",
		billing.Thousands(int64(n)), billing.Thousands(int64(st.invoices)), billing.Thousands(int64(st.creditNotes)), iterations)
	fmt.Fprintf(&b, "| request | requests | p50 ms | p95 ms | p99 ms |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	fmt.Fprintf(&b, "\nIssuing a document (number drawn from the locked counter row, bill-to read, row inserted, commit): p50 %.2f ms, p95 %.2f ms over %s issues.\n",
		ms(st.latencies, 0.5), ms(st.latencies, 0.95), billing.Thousands(int64(len(st.latencies))))
	b.WriteString("\nPages read one keyset range of `documents_history_idx` (org, issued_at DESC, id DESC), so a page deep in the history costs what the first does; " +
		"the type filter reads the same index and skips other kinds.\n")
	return b.String()
}
