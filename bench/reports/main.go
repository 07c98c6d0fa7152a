// Command reports measures the usage reports at scale: it creates a fresh database on the
// PostgreSQL server at LUX_BENCH_SERVER_URL (a URL whose path is the postgres database),
// migrates it, creates an organization with members and flows through the billing service,
// loads 10 million usage events with COPY and builds the rollups and the ledger entry that
// ingestion would have written, then times the overview data, the 90-day usage report for each
// grouping and the 90-day CSV export. It prints a markdown table and writes it into
// docs/BENCHMARKS.md under "## Reports at 10 million events". The database is dropped at the end.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/luxstudio/lux-billing/bench/benchkit"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/migrations"
)

// heading starts this benchmark's section of docs/BENCHMARKS.md.
const heading = "## Reports at 10 million events"

type options struct {
	events     int
	iterations int
	out        string
	timeout    time.Duration
	keep       bool
	flows      int
	members    int
}

func main() {
	var o options
	flag.IntVar(&o.events, "events", 10_000_000, "usage events to load")
	flag.IntVar(&o.iterations, "iterations", 300, "timed runs of each measurement")
	flag.StringVar(&o.out, "out", "docs/BENCHMARKS.md", "markdown file whose \""+heading+"\" section is replaced (relative to the module root); empty: print only")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	flag.IntVar(&o.flows, "flows", 100, "flows of the organization")
	flag.IntVar(&o.members, "members", 25, "members of the organization")
	flag.BoolVar(&o.keep, "keep", false, "keep the benchmark database (for EXPLAIN); drop it by hand")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/reports:", err)
		os.Exit(1)
	}
}

// logf reports progress on stderr; stdout carries only the markdown.
func logf(format string, args ...any) { benchkit.Logf(format, args...) }

func run(ctx context.Context, o options) error {
	dsn, drop, err := benchkit.FreshDatabase(ctx, benchkit.ServerURL(), "lux_bench_reports")
	if err != nil {
		return err
	}
	defer drop(o.keep)
	db, err := billing.OpenDB(ctx, dsn, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := migrations.Up(ctx, db.DB); err != nil {
		return err
	}
	logf("database %s migrated", benchkit.DatabaseName(dsn))

	start := time.Now()
	env, err := load(ctx, db, o)
	if err != nil {
		return err
	}
	loadTime := time.Since(start)
	logf("loaded in %s", loadTime.Round(time.Second))

	results, err := measure(ctx, env, o.iterations)
	if err != nil {
		return err
	}
	md := markdown(env, results, loadTime, o)
	fmt.Print(md)
	if o.out != "" {
		if err := benchkit.WriteSection(o.out, heading, md); err != nil {
			return err
		}
		logf("wrote %s", o.out)
	}
	return nil
}

// result is one measurement's timings.
type result struct {
	name  string
	note  string
	times []time.Duration
}

func (r *result) quantile(q float64) time.Duration {
	return benchkit.Quantile(benchkit.Sorted(append([]time.Duration(nil), r.times...)), q)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

// measure times each operation iterations times after a short warm-up, round-robin so that
// every operation sees the same cache conditions.
func measure(ctx context.Context, env *benchEnv, iterations int) ([]*result, error) {
	svc, org := env.svc, env.org
	to := reports.DateOf(env.now, env.loc)
	q90 := reports.Query{From: to.AddDays(-89), To: to, Interval: reports.IntervalDay}
	type op struct {
		r  *result
		fn func() error
	}
	report := func(g reports.GroupBy) func() error {
		return func() error {
			q := q90
			q.GroupBy = g
			_, err := reports.New(svc).UsageReport(ctx, org, q)
			return err
		}
	}
	q400 := reports.Query{From: to.AddDays(-364), To: to, Interval: reports.IntervalWeek, GroupBy: reports.GroupByFlow}
	csvQuery := q90
	csvQuery.GroupBy = reports.GroupByFlow
	ops := []op{
		{&result{name: "Overview data: `Credits` + `Forecast`"}, func() error {
			if _, err := svc.CreditSummary(ctx, org); err != nil {
				return err
			}
			_, err := reports.New(svc).Forecast(ctx, org)
			return err
		}},
		{&result{name: "Usage report, 90 days by day, grouped by type"}, report(reports.GroupByType)},
		{&result{name: "Usage report, 90 days by day, grouped by flow"}, report(reports.GroupByFlow)},
		{&result{name: "Usage report, 90 days by day, grouped by member"}, report(reports.GroupByUser)},
		{&result{name: "CSV export, 90 days by day and flow"}, func() error {
			return reports.New(svc).WriteReportCSV(ctx, io.Discard, org, csvQuery)
		}},
		{&result{name: "Usage report, 365 days by week, grouped by flow", note: "extra"}, func() error {
			_, err := reports.New(svc).UsageReport(ctx, org, q400)
			return err
		}},
		{&result{name: "Drill-down: first page (50) of the busiest flow's executions", note: "extra"}, func() error {
			_, err := reports.New(svc).FlowExecutions(ctx, org, env.busiestFlow, "", 0)
			return err
		}},
		{&result{name: "Drill-down: one execution's events", note: "extra"}, func() error {
			_, err := reports.New(svc).ExecutionEvents(ctx, org, env.someExecution, 0)
			return err
		}},
	}
	// The page after a deep cursor, to show the keyset does not slow down with depth.
	page, err := reports.New(svc).FlowExecutions(ctx, org, env.busiestFlow, "", reports.MaxExecutionPage)
	if err != nil {
		return nil, err
	}
	for range 20 {
		if page.Next == "" {
			break
		}
		if page, err = reports.New(svc).FlowExecutions(ctx, org, env.busiestFlow, page.Next, reports.MaxExecutionPage); err != nil {
			return nil, err
		}
	}
	deep := page.Next
	if deep != "" {
		ops = append(ops, op{&result{name: "Drill-down: a page 4,000 executions deep", note: "extra"}, func() error {
			_, err := reports.New(svc).FlowExecutions(ctx, org, env.busiestFlow, deep, 0)
			return err
		}})
	}
	logf("warming up")
	for range 5 {
		for _, o := range ops {
			if err := o.fn(); err != nil {
				return nil, fmt.Errorf("%s: %w", o.r.name, err)
			}
		}
	}
	logf("timing %d iterations of %d measurements", iterations, len(ops))
	env.loadBefore = benchkit.LoadAvg()
	for range iterations {
		for _, o := range ops {
			t := time.Now()
			if err := o.fn(); err != nil {
				return nil, fmt.Errorf("%s: %w", o.r.name, err)
			}
			o.r.times = append(o.r.times, time.Since(t))
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	env.loadAfter = benchkit.LoadAvg()
	out := make([]*result, len(ops))
	for i, o := range ops {
		out[i] = o.r
	}
	return append(out, env.extra...), nil
}

func markdown(env *benchEnv, results []*result, loadTime time.Duration, o options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", heading)
	fmt.Fprintf(&b, "`make bench` → `go run ./bench/reports` (%s, %d CPUs, PostgreSQL %s, run %s). One organization\n",
		runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), env.pgVersion, env.now.UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "with **%s usage events** over 365 days, %d flows and %d members (zone %s), loaded with COPY;\n",
		thousands(env.events), env.flows, env.users, env.loc)
	fmt.Fprintf(&b, "its rollups then hold %s `usage_daily` rows (%s in the last 90 days), %s `usage_flow_daily` rows, %s `usage_flow_weekly` rows\n",
		thousands(env.dailyRows), thousands(env.daily90), thousands(env.flowRows), thousands(env.weekRows))
	fmt.Fprintf(&b, "and %s `execution_usage` rows.\n", thousands(env.execRows))
	fmt.Fprintf(&b, "Load and rollup build took %s. Each figure is the server time of the domain call (what a\n", loadTime.Round(time.Second))
	fmt.Fprintf(&b, "handler adds is JSON encoding), %d timed runs after a warm-up. The machine's load average was\n", o.iterations)
	fmt.Fprintf(&b, "%s before the timings and %s after (other work shares these cores).\n\n", env.loadBefore, env.loadAfter)
	b.WriteString("| measurement | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|\n")
	for _, r := range results {
		if len(r.times) == 1 {
			fmt.Fprintf(&b, "| %s | %s | — | — |\n", r.name, ms(r.times[0]))
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.name, ms(r.quantile(0.5)), ms(r.quantile(0.95)), ms(r.quantile(1)))
	}
	b.WriteString("\n")
	b.WriteString(env.notes)
	return b.String()
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
