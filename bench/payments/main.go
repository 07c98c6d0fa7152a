// Command payments measures fulfilment: how long a Stripe webhook takes from its delivery to the
// credits being in the balance. It creates a throwaway database on LUX_BENCH_SERVER_URL, starts
// stripe-mock (LUX_STRIPE_MOCK, else .bin/stripe-mock) for the checkouts, serves the real web
// server on a loopback port, creates the purchases through Stripe Checkout, then delivers one
// signed checkout.session.completed per purchase to POST /webhooks/stripe — from 1 client, then
// from 8 — and times each delivery until its 200 (the grant has committed by then; the balance is
// checked against the purchases at the end). It prints a markdown section and writes it into
// docs/BENCHMARKS.md under "## Fulfilment". Everything it started or created is removed.
//
//	LUX_BENCH_SERVER_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable go run ./bench/payments
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/luxstudio/lux-billing/bench/benchkit"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/migrations"
	"github.com/luxstudio/lux-billing/web"
)

const (
	heading = "## Fulfilment (Stripe webhook → balance)"
	secret  = "whsec_bench"
)

func main() {
	n := flag.Int("webhooks", 1000, "webhooks per run")
	orgs := flag.Int("orgs", 20, "organizations the purchases are spread over")
	out := flag.String("out", "docs/BENCHMARKS.md", "markdown file whose section is replaced; empty: print only")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	section, err := run(ctx, *n, *orgs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/payments:", err)
		os.Exit(1)
	}
	fmt.Print(section)
	if *out != "" {
		if err := benchkit.WriteSection(*out, heading, section); err != nil {
			fmt.Fprintln(os.Stderr, "bench/payments:", err)
			os.Exit(1)
		}
	}
}

func logf(format string, args ...any) { benchkit.Logf(format, args...) }

// env is what a run needs: the service, the server and the organizations with their admins.
type env struct {
	core   *billing.Service
	pay    *payments.Service
	url    string
	orgs   []string
	admins []string
}

func run(ctx context.Context, n, orgCount int) (string, error) {
	if os.Getenv("LUX_BENCH_SERVER_URL") == "" {
		return "", errors.New("set LUX_BENCH_SERVER_URL to a local PostgreSQL URL whose database is postgres")
	}
	dsn, drop, err := benchkit.FreshDatabase(ctx, benchkit.ServerURL(), "lux_bench_pay")
	if err != nil {
		return "", err
	}
	defer drop(false)
	db, err := billing.OpenDB(ctx, dsn, false)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return "", err
	}
	stripeURL, stopMock, err := billingtest.StartStripeMock()
	if err != nil {
		return "", err
	}
	defer stopMock()

	e := &env{}
	if e.core, err = billing.New(ctx, db); err != nil {
		return "", err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := handlers.NewDomain(e.core)
	e.pay = payments.New(e.core, d.Identity, payments.Config{Provider: payments.NewStripe("sk_test_bench", stripeURL), WebhookSecret: secret, Log: quiet})
	d.Payments = e.pay
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: web.New(web.Config{SessionSecret: []byte("bench-secret-bench-secret-bench-secret")}, d, quiet).Handler()}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	e.url = "http://" + l.Addr().String() + "/webhooks/stripe"
	for i := range orgCount {
		user, err := d.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("admin%d@bench.local", i), Password: "bench-password"})
		if err != nil {
			return "", err
		}
		org, err := d.Identity.CreateOrg(ctx, billing.NewOrg{Name: fmt.Sprintf("Bench %d", i), PlanCode: "free"}, user.ID)
		if err != nil {
			return "", err
		}
		e.orgs, e.admins = append(e.orgs, org), append(e.admins, user.ID)
	}

	var rows []string
	for _, clients := range []int{1, 8} {
		logf("creating %d purchases through stripe-mock…", n)
		ids, err := e.purchases(ctx, n)
		if err != nil {
			return "", err
		}
		logf("delivering %d webhooks from %d client(s)…", n, clients)
		lat, wall, err := e.deliver(ctx, ids, clients)
		if err != nil {
			return "", err
		}
		rows = append(rows, fmt.Sprintf("| %d | %d | %s | %s | %s | %.0f/s |", clients, n,
			ms(pct(lat, 50)), ms(pct(lat, 99)), ms(lat[len(lat)-1]), float64(n)/wall.Seconds()))
	}
	if err := e.check(ctx); err != nil {
		return "", err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "%s\n\n", heading)
	fmt.Fprintf(&s, "Measured %s on %s (%d CPUs; load average %s when it ended), PostgreSQL on loopback; `make bench` (`go run ./bench/payments`).\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), benchkit.LoadAvg())
	s.WriteString("Each purchase is created through Stripe Checkout (stripe-mock), then one signed `checkout.session.completed` is POSTed to `/webhooks/stripe` of the real server on a loopback port. A delivery is timed from sending to its `200`: the signature is verified, the event recorded, the purchase locked, the grant made and the purchase marked paid in one transaction that has committed by then, so the balance already shows the credits. Purchases are spread over " + fmt.Sprint(len(e.orgs)) + " organizations; at the end every purchase is paid and granted exactly once, and every org's balance is its allotment plus its purchases.\n\n")
	s.WriteString("| clients | webhooks | p50 | p99 | max | throughput |\n|---:|---:|---:|---:|---:|---:|\n")
	s.WriteString(strings.Join(rows, "\n") + "\n")
	return s.String(), nil
}

// purchases creates n pending purchases of 1,000 credits through Stripe Checkout, round robin
// over the organizations.
func (e *env) purchases(ctx context.Context, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range n {
		p, err := e.pay.StartPurchase(ctx, e.orgs[i%len(e.orgs)], e.admins[i%len(e.orgs)], 1000)
		if err != nil {
			return nil, err
		}
		ids[i] = p.ID
	}
	return ids, nil
}

// deliver posts one signed completion per purchase from clients goroutines and returns the
// sorted latencies and the wall time.
func (e *env) deliver(ctx context.Context, ids []string, clients int) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, len(ids))
	next := make(chan int)
	errc := make(chan error, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d, err := e.post(ctx, ids[i])
				if err != nil {
					errc <- err
					return
				}
				lat[i] = d
			}
		}()
	}
	var err error
feed:
	for i := range ids {
		select {
		case next <- i:
		case err = <-errc:
			break feed
		}
	}
	close(next)
	wg.Wait()
	wall := time.Since(start)
	if err == nil && len(errc) > 0 {
		err = <-errc
	}
	slices.Sort(lat)
	return lat, wall, err
}

// post delivers purchase's paid completion and returns how long it took to be answered.
func (e *env) post(ctx context.Context, purchase string) (time.Duration, error) {
	body, _ := json.Marshal(map[string]any{
		"id": "evt_" + purchase, "object": "event", "type": "checkout.session.completed", "created": time.Now().Unix(),
		"data": map[string]any{"object": map[string]any{"id": "cs_bench", "object": "checkout.session",
			"client_reference_id": purchase, "payment_status": "paid", "payment_intent": "pi_bench"}},
	})
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret}).Header
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Stripe-Signature", sig)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	d := time.Since(start)
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("webhook for %s: status %d", purchase, res.StatusCode)
	}
	return d, nil
}

// check confirms every purchase was granted once and each org's balance is its allotment plus
// its purchases.
func (e *env) check(ctx context.Context) error {
	for _, org := range e.orgs {
		var paid, granted int64
		db := e.core.DB()
		if err := db.GetContext(ctx, &paid, `SELECT COALESCE(sum(credits_mc), 0) FROM purchases WHERE org_id = $1 AND status = 'paid'`, org); err != nil {
			return err
		}
		if err := db.GetContext(ctx, &granted, `SELECT COALESCE(sum(amount_mc), 0) FROM grants WHERE org_id = $1 AND kind = 'purchase'`, org); err != nil {
			return err
		}
		cs, err := e.core.CreditSummary(ctx, org)
		if err != nil {
			return err
		}
		if paid != granted || cs.Balance != billing.Credits(1000)+billing.Millicredits(paid) {
			return fmt.Errorf("org %s: paid %d, granted %d, balance %s", org, paid, granted, cs.Balance)
		}
	}
	return nil
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, (len(sorted)*p+99)/100-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
