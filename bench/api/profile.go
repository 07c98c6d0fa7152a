package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/web"
)

// profileResult is where the time of the single-event path goes.
type profileResult struct {
	Clients    int
	Batch      int
	Requests   int
	P50, P99   time.Duration
	RoundTrips []roundTrip     // counted in the driver
	Statements []statementStat // nil when pg_stat_statements is not loaded
	Why        string          // why there are no statement figures
	GoShares   []goShare       // inclusive: time under some functions
	Leaf       []goShare       // exclusive: time in each group of packages
	GCShare    float64         // GC background workers, of the whole process's CPU
	GoTotal    time.Duration   // server-side Go CPU in the profile
	TopCum     []string        // functions of ours with the most inclusive CPU, as pprof prints them
	Allocs     []string        // the functions that allocate the most bytes, as pprof prints them
	AllocPerRq float64         // bytes allocated per request in the whole process
	Dir        string
	Authorize  bool // the load was authorize requests, not usage
}

// roundTrip is a statement as the server's driver sees it: sent, answered.
type roundTrip struct {
	Query      string
	PerRequest float64
	MeanMS     float64
}

type statementStat struct {
	Query      string
	PerRequest float64
	MeanMS     float64
	PlanMS     float64 // planning time per call (a statement with a kept plan is planned once per connection); 0 unless pg_stat_statements.track_planning is on
	TotalMS    float64
	Rows       int64
}

type goShare struct {
	Name  string
	Share float64 // of server-side Go CPU, inclusive (buckets overlap)
}

// profile serves the same server in this process, with its request goroutines labelled, and
// loads the profiled cell while a CPU profile runs; pg_stat_statements, when the PostgreSQL server
// preloads it, counts the statements and their time.
func profile(ctx context.Context, o options, dbURL string, env *benchEnv, probeDB *sql.DB) (*profileResult, error) {
	if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
		return nil, err
	}
	profileCell := cell{Batch: max(o.profileBatch, 1), Clients: max(o.profileCli, 1)}
	pr := &profileResult{Dir: o.profileDir, Clients: profileCell.Clients, Batch: profileCell.Batch, Authorize: o.profileAuth}
	counter := &sqlCounter{}
	raw, err := openCounted(billing.WithBinaryParameters(dbURL), counter) // as billing.OpenDB
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	raw.SetMaxOpenConns(32)
	raw.SetMaxIdleConns(32)
	svc, err := billing.New(ctx, sqlx.NewDb(raw, "postgres"), billing.WithLanes(o.lanes))
	if err != nil {
		return nil, err
	}
	srv := web.New(web.Config{SessionSecret: []byte(strings.Repeat("p", 32))}, handlers.NewDomain(svc), slog.New(slog.NewTextHandler(io.Discard, nil)))
	h := srv.Handler()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pprof.Do(r.Context(), pprof.Labels("side", "server"), func(c context.Context) { h.ServeHTTP(w, r.WithContext(c)) })
	})}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	load := &loader{client: client, base: "http://" + ln.Addr().String(), keys: env.keys, runs: 1000}
	if _, err := load.run(ctx, profileCell, time.Second, 2_000, nil); err != nil { // warm-up
		return nil, err
	}

	pgss := true
	if _, err := probeDB.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`); err != nil {
		pgss, pr.Why = false, err.Error()
	} else if _, err := probeDB.ExecContext(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
		pgss, pr.Why = false, err.Error()
	}

	counter.reset()
	path := filepath.Join(o.profileDir, "server-cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	allocsBefore := filepath.Join(o.profileDir, "allocs-before.pprof")
	if err := writeProfile("allocs", allocsBefore); err != nil {
		return nil, err
	}
	var res *apiResult
	if o.profileAuth {
		var ar *authResult
		if ar, err = load.authorize(ctx, profileCell.Clients, o.profileFor, o.maxRequests); err == nil {
			res = &apiResult{cell: profileCell, Requests: ar.Requests, P50: ar.P50, P99: ar.P99, Elapsed: o.profileFor}
		}
	} else {
		res, err = load.run(ctx, profileCell, o.profileFor, o.maxRequests, nil)
	}
	pprof.StopCPUProfile()
	f.Close()
	if err != nil {
		return nil, err
	}
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	allocsPath := filepath.Join(o.profileDir, "allocs.pprof")
	if err := writeProfile("allocs", allocsPath); err != nil {
		return nil, err
	}
	pr.Requests, pr.P50, pr.P99 = res.Requests, res.P50, res.P99
	pr.AllocPerRq = float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(res.Requests)
	if out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-sample_index=alloc_space", "-nodecount=12",
		"-diff_base="+allocsBefore, allocsPath).CombinedOutput(); err == nil {
		pr.Allocs = pprofRows(string(out), 12)
	}
	if out, err := pprofTopCum(ctx, path); err == nil {
		pr.TopCum = out
	}
	for _, st := range counter.snapshot() {
		per := float64(st.Calls) / float64(res.Requests)
		if per < 0.05 {
			continue // background work, not the request path
		}
		pr.RoundTrips = append(pr.RoundTrips, roundTrip{Query: shortQuery(st.Query), PerRequest: per, MeanMS: ms(st.Total) / float64(st.Calls)})
	}
	logf("profiled %d single-event requests: %s", res.Requests, res.summary())

	if pgss {
		rows, err := probeDB.QueryContext(ctx, `
			SELECT s.query, s.calls, s.total_exec_time, s.mean_exec_time, s.total_plan_time / s.calls, s.rows
			FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
			WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%'
			ORDER BY s.calls DESC, s.total_exec_time DESC`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var st statementStat
			var calls int64
			if err := rows.Scan(&st.Query, &calls, &st.TotalMS, &st.MeanMS, &st.PlanMS, &st.Rows); err != nil {
				rows.Close()
				return nil, err
			}
			st.PerRequest = float64(calls) / float64(res.Requests)
			if st.PerRequest < 0.05 {
				continue // background work (the rate-card listener, the rollover sweep)
			}
			st.Query = shortQuery(st.Query)
			pr.Statements = append(pr.Statements, st)
		}
		rows.Close()
	}

	if pr.GoTotal, err = pprofTotal(ctx, path, "", true); err != nil {
		logf("go tool pprof: %v (Go CPU shares left out)", err)
		return pr, nil
	}
	for _, b := range []struct{ name, focus string }{
		{"under database/sql + lib/pq (driver, protocol, its socket I/O)", `lib/pq|^database/sql\.`},
		{"under socket reads and writes (syscalls)", `^syscall\.|^internal/poll\.`},
		{"under JSON decoding and encoding", `^encoding/json\.`},
		{"under SHA-256 (API key and body hashes)", `sha256`},
		{"under memory allocation (mallocgc)", `^runtime\.mallocgc`},
	} {
		d, err := pprofTotal(ctx, path, b.focus, true)
		if err != nil {
			return nil, err
		}
		pr.GoShares = append(pr.GoShares, goShare{Name: b.name, Share: float64(d) / float64(pr.GoTotal)})
	}
	if pr.Leaf, err = pprofLeaves(ctx, path); err != nil {
		return nil, err
	}
	all, err := pprofTotal(ctx, path, "", false)
	if err != nil {
		return nil, err
	}
	gc, err := pprofTotal(ctx, path, `^runtime\.gcBgMarkWorker`, false)
	if err != nil {
		return nil, err
	}
	pr.GCShare = float64(gc) / float64(all)
	return pr, nil
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup(name).WriteTo(f, 0)
}

var pprofAnyRow = regexp.MustCompile(`^\s*-?[0-9.]+[a-zA-Zµ]*\s+-?[0-9.]+%\s`)

// pprofRows keeps the table rows of pprof -top output (any unit), at most n.
func pprofRows(out string, n int) []string {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		if pprofAnyRow.MatchString(line) && len(rows) < n {
			rows = append(rows, strings.TrimSpace(line))
		}
	}
	return rows
}

// pprofTopCum is our functions (billing, handlers, web) with the most inclusive CPU in the
// request goroutines.
func pprofTopCum(ctx context.Context, path string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=40", "-tagfocus=side=server",
		"-show=luxstudio|lib/pq|encoding/json|database/sql", path).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	return pprofRows(string(out), 16), nil
}

var pprofShowing = regexp.MustCompile(`Showing nodes accounting for ([0-9.]+)(ms|s|us|µs|min|h)\b`)

// pprofTotal is the CPU time of samples whose stacks hold a function matching focus (all when
// focus is empty), counting only the server's request goroutines (label side=server) when
// server is true.
func pprofTotal(ctx context.Context, path, focus string, server bool) (time.Duration, error) {
	out, err := pprofTop(ctx, path, focus, server)
	if err != nil {
		return 0, err
	}
	m := pprofShowing.FindSubmatch(out)
	if m == nil {
		if strings.Contains(string(out), "no samples") || strings.Contains(string(out), "Showing nodes accounting for 0") {
			return 0, nil
		}
		return 0, errors.New("unexpected output: " + string(out))
	}
	return pprofDuration(string(m[1]), string(m[2])), nil
}

func pprofTop(ctx context.Context, path, focus string, server bool) ([]byte, error) {
	args := []string{"tool", "pprof", "-top", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0"}
	if server {
		args = append(args, "-tagfocus=side=server")
	}
	if focus != "" {
		args = append(args, "-focus="+focus)
	}
	out, err := exec.CommandContext(ctx, "go", append(args, path)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	return out, nil
}

func pprofDuration(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	u, ok := map[string]time.Duration{"us": time.Microsecond, "µs": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "min": time.Minute, "h": time.Hour}[unit]
	if !ok {
		u = time.Second
	}
	return time.Duration(f * float64(u))
}

var pprofRow = regexp.MustCompile(`^\s*([0-9.]+)(ms|s|us|µs|min|h)?\s+[0-9.]+%\s+[0-9.]+%\s+[0-9.]+(?:ms|s|us|µs|min|h)?\s+[0-9.]+%\s+(\S.*)$`)

// leafBuckets group functions by package, first match wins.
var leafBuckets = []struct{ name, prefix string }{
	{"system calls (socket I/O, futex)", "internal/runtime/syscall"},
	{"system calls (socket I/O, futex)", "syscall"},
	{"system calls (socket I/O, futex)", "internal/poll"},
	{"Go runtime (allocation, GC assists, scheduler, maps)", "runtime"},
	{"Go runtime (allocation, GC assists, scheduler, maps)", "internal/runtime"},
	{"Go runtime (allocation, GC assists, scheduler, maps)", "internal/"},
	{"lib/pq + database/sql + sqlx", "github.com/lib/pq"},
	{"lib/pq + database/sql + sqlx", "database/sql"},
	{"lib/pq + database/sql + sqlx", "github.com/jmoiron/sqlx"},
	{"encoding/json", "encoding/json"},
	{"crypto (SHA-256)", "crypto/"},
	{"net/http + Echo + Prometheus", "net/"},
	{"net/http + Echo + Prometheus", "github.com/labstack"},
	{"net/http + Echo + Prometheus", "github.com/prometheus"},
	{"our code (billing, handlers, web)", "github.com/luxstudio"},
	{"rest of the standard library (fmt, strconv, time, reflect, sort…)", ""},
}

// pprofLeaves attributes the server goroutines' CPU to the package of the function that was
// running (flat time), in leafBuckets.
func pprofLeaves(ctx context.Context, path string) ([]goShare, error) {
	out, err := pprofTop(ctx, path, "", true)
	if err != nil {
		return nil, err
	}
	sums := map[string]time.Duration{}
	var total time.Duration
	for _, line := range strings.Split(string(out), "\n") {
		m := pprofRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		d := pprofDuration(m[1], m[2])
		fn := m[3]
		pkg := fn
		if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
			if j := strings.IndexByte(pkg[i:], '.'); j >= 0 {
				pkg = pkg[:i+j]
			}
		} else if j := strings.IndexByte(pkg, '.'); j >= 0 {
			pkg = pkg[:j]
		}
		for _, b := range leafBuckets {
			if strings.HasPrefix(pkg, b.prefix) {
				sums[b.name] += d
				break
			}
		}
		total += d
	}
	var out2 []goShare
	seen := map[string]bool{}
	for _, b := range leafBuckets {
		if seen[b.name] || total == 0 {
			continue
		}
		seen[b.name] = true
		out2 = append(out2, goShare{Name: b.name, Share: float64(sums[b.name]) / float64(total)})
	}
	return out2, nil
}

var spaces = regexp.MustCompile(`\s+`)

// shortQuery is a statement on one line, shortened for a table cell.
func shortQuery(q string) string {
	var lines []string
	for _, l := range strings.Split(q, "\n") {
		if t := strings.TrimSpace(l); !strings.HasPrefix(t, "--") {
			lines = append(lines, t)
		}
	}
	s := spaces.ReplaceAllString(strings.Join(lines, " "), " ")
	s = strings.ReplaceAll(s, "|", "\\|")
	if len(s) > 90 {
		s = s[:90] + "…"
	}
	return "`" + strings.TrimSpace(s) + "`"
}

func (p *profileResult) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if p.Authorize {
		w("### Where an authorize request's time goes\n\n")
		w("`go run ./bench/api -profile DIR -profile-authorize` serves the same server inside the benchmark process with a CPU\n")
		w("profile on (request goroutines labelled) and loads it with authorize requests (with an estimate) from %d clients over many\n", p.Clients)
	} else {
		w("### Where a single event's time goes\n\n")
		w("`go run ./bench/api -profile DIR` serves the same server inside the benchmark process with a CPU\n")
		w("profile on (request goroutines labelled) and loads it with %d-event requests from %d clients over many\n", p.Batch, p.Clients)
	}
	w("organizations: %s requests, p50 %.2f ms, p99 %.2f ms.\n\n", commas(float64(p.Requests)), ms(p.P50), ms(p.P99))
	if len(p.RoundTrips) > 0 {
		var n, total float64
		for _, r := range p.RoundTrips {
			n += r.PerRequest
			total += r.PerRequest * r.MeanMS
		}
		w("Statements per request, counted in the server's database driver (each is one round trip to\n")
		w("PostgreSQL; the time runs from sending it to its answer, so it includes planning, execution, the\n")
		w("WAL flush of a COMMIT and any wait for a lock or a CPU): **%.1f round trips per request, %.2f ms**.\n\n", n, total)
		w("| statement | per request | mean ms |\n|---|---:|---:|\n")
		for _, r := range p.RoundTrips {
			w("| %s | %.2f | %.3f |\n", r.Query, r.PerRequest, r.MeanMS)
		}
		w("\n")
	}
	if p.Statements != nil {
		var calls, exec, plan float64
		for _, s := range p.Statements {
			calls += s.PerRequest
			exec += s.TotalMS
			plan += s.PlanMS * s.PerRequest
		}
		w("Statements per request, from `pg_stat_statements` (execution time inside PostgreSQL; each\n")
		w("statement is also one network round trip): **%.1f statements per request**, %.3f ms of execution\n", calls, exec/float64(p.Requests))
		if plan > 0 {
			w("and %.3f ms of planning per request (statements prepared once per connection and ingest_usage's keep their\n", plan)
			w("plan; PostgreSQL still plans a prepared statement again for each call while it finds a custom plan cheaper).\n")
		} else {
			w("per request, and no planning recorded (prepared statements reuse their plans; planning is only\n")
			w("recorded with `pg_stat_statements.track_planning = on`).\n")
		}
		w("A COMMIT's wait for its WAL flush is not part of its execution time here.\n\n")
		w("| statement | per request | mean exec ms | plan ms per call | rows |\n|---|---:|---:|---:|---:|\n")
		for _, s := range p.Statements {
			w("| %s | %.2f | %.3f | %.3f | %s |\n", s.Query, s.PerRequest, s.MeanMS, s.PlanMS, commas(float64(s.Rows)))
		}
		w("\n")
	} else {
		w("Statement counts need `pg_stat_statements` in `shared_preload_libraries` (not the case here: %s).\n\n", firstLine(p.Why))
	}
	if len(p.Leaf) > 0 {
		w("Server-side Go CPU: %s for %s requests, %.2f ms per request (request goroutines only; GC\n", p.GoTotal.Round(time.Millisecond), commas(float64(p.Requests)), ms(p.GoTotal)/float64(p.Requests))
		w("background workers, shared with the load generator in this mode, took %.0f%% of the process's CPU).\n\n", 100*p.GCShare)
		w("| running in (flat) | share | | below (inclusive) | share |\n|---|---:|---|---|---:|\n")
		for i := 0; i < max(len(p.Leaf), len(p.GoShares)); i++ {
			l, g := "| | ", "| | |"
			if i < len(p.Leaf) {
				l = fmt.Sprintf("| %s | %.0f%% ", p.Leaf[i].Name, 100*p.Leaf[i].Share)
			}
			if i < len(p.GoShares) {
				g = fmt.Sprintf("| | %s | %.0f%% |", p.GoShares[i].Name, 100*p.GoShares[i].Share)
			}
			w("%s%s\n", l, g)
		}
		w("\n")
	}
	if len(p.TopCum) > 0 {
		w("Inclusive CPU of the request path (`go tool pprof -top -cum`, request goroutines; flat, flat%%, sum%%, cum, cum%%):\n\n```\n")
		for _, r := range p.TopCum {
			w("%s\n", r)
		}
		w("```\n\n")
	}
	if len(p.Allocs) > 0 {
		w("Allocation: %s bytes per request in the whole process (server and load generator); the top allocators\n", commas(p.AllocPerRq))
		w("during the load (`-sample_index=alloc_space`, sampled):\n\n```\n")
		for _, r := range p.Allocs {
			w("%s\n", r)
		}
		w("```\n\n")
	}
	return b.String()
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
