// Command api benchmarks usage ingestion through the JSON API beside its raw SQL floor: it
// builds the lux binary, serves it as a separate process on a fresh database, loads POST
// /api/v1/usage over loopback with single events and 100-event batches from 1, 8 and 32 clients,
// over many organizations and over one hot organization, and right after each cell runs the
// minimal transaction of the same shape (insert the events, debit one balance row, commit) with
// pgbench -M prepared for as long, so that every cell has its ratio to the floor from the same
// run. Then it times POST /api/v1/authorize, and last runs the 8-client cells again with the load
// spread over two `lux serve` replicas on the same database (-replicas). It prints a markdown
// table and writes it into
// docs/BENCHMARKS.md under "## API ingestion". Every cell is bounded in time and requests;
// everything it started or created (the server, the database, the temporary directory) is
// removed at the end.
//
//	LUX_BENCH_SERVER_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable go run ./bench/api
//
// Flags tune the run; -profile adds statement counts (pg_stat_statements, when the server
// preloads it) and a Go CPU profile of the request path (see docs/BENCHMARKS.md).
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/luxstudio/lux-billing/bench/benchkit"
)

type options struct {
	duration     time.Duration // per cell
	maxRequests  int           // per cell
	orgs         int
	out          string // markdown file to update; "" prints only
	rawGo        bool   // run the raw floor from Go even where pgbench exists
	profileDir   string
	profileFor   time.Duration
	profileOnly  bool
	profileCli   int
	profileBatch int
	profileAuth  bool          // profile POST /api/v1/authorize instead of usage
	timeout      time.Duration // whole run
	replicas     int           // lux serve processes of the replica cells; < 2: none
	lanes        int           // LUX_INGEST_LANES of the servers; 0: their default
}

// serverEnv is the settings every benchmarked server gets beyond the defaults.
func (o options) serverEnv() []string {
	if o.lanes > 0 {
		return []string{fmt.Sprintf("LUX_INGEST_LANES=%d", o.lanes)}
	}
	return nil
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "measured time per cell (the raw floor runs as long)")
	flag.IntVar(&o.maxRequests, "max-requests", 100_000, "requests per cell at most")
	flag.IntVar(&o.lanes, "lanes", 0, "usage transactions in flight at once per server (LUX_INGEST_LANES); 0: the server's default")
	flag.IntVar(&o.orgs, "orgs", 8, "organizations for the many-orgs cells")
	flag.StringVar(&o.out, "out", "docs/BENCHMARKS.md", "markdown file whose \"## API ingestion\" section is replaced (relative to the module root); empty: print only")
	flag.BoolVar(&o.rawGo, "raw-go", false, "run the raw SQL floor from Go (lib/pq) even when pgbench is installed")
	flag.StringVar(&o.profileDir, "profile", "", "directory for profiles: a Go CPU profile of an in-process server on the single-event path, and pg_stat_statements figures when available")
	flag.DurationVar(&o.profileFor, "profile-duration", 10*time.Second, "how long the profiled load runs")
	flag.IntVar(&o.profileCli, "profile-clients", 8, "clients of the profiled load (single events, many orgs)")
	flag.IntVar(&o.profileBatch, "profile-batch", 1, "events per request of the profiled load")
	flag.BoolVar(&o.profileAuth, "profile-authorize", false, "with -profile: profile POST /api/v1/authorize (with an estimate) instead of usage")
	flag.BoolVar(&o.profileOnly, "profile-only", false, "with -profile: skip the measured cells and print only the profile")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.IntVar(&o.replicas, "replicas", 2, "lux serve replicas on the one database for the replica cells (single events and batches of 100, 8 clients, many orgs and one); 0 or 1: skip them")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	err := run(ctx, o)
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/api:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { benchkit.Logf(format, args...) }

func run(ctx context.Context, o options) error {
	if os.Getenv("LUX_BENCH_SERVER_URL") == "" {
		return errors.New("set LUX_BENCH_SERVER_URL to a PostgreSQL URL whose database is postgres, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	root, err := benchkit.ModuleRoot()
	if err != nil {
		return err
	}
	dbURL, drop, err := benchkit.FreshDatabase(ctx, benchkit.ServerURL(), "lux_bench")
	if err != nil {
		return err
	}
	defer drop(false)
	name := benchkit.DatabaseName(dbURL)
	logf("database %s created", name)

	admin, err := sql.Open("postgres", benchkit.ServerURL())
	if err != nil {
		return err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(1)

	tmp, err := os.MkdirTemp("", "lux-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	logf("building lux…")
	bin := filepath.Join(tmp, "lux")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}

	srv, err := startServer(ctx, bin, dbURL, tmp, "server", o.serverEnv()...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	logf("lux serve is up at %s (pid %d)", srv.base, srv.Cmd.Process.Pid)

	env, err := setUp(ctx, dbURL, o.orgs)
	if err != nil {
		return err
	}
	logf("%d organizations with API keys created", len(env.keys))

	m, err := describeMachine(ctx, admin, root)
	if err != nil {
		return err
	}
	rep := &report{machine: m, opts: o, started: time.Now()}

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(2)
	probe := newCPUProbe(ctx, db, name, srv.Cmd.Process.Pid)

	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 128, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	load := &loader{client: client, base: srv.base, keys: env.keys}

	// Warm up connections, caches and the server's pools; not measured.
	logf("warming up…")
	if _, err := load.run(ctx, cell{Batch: 1, Clients: 32}, 2*time.Second, 2_000, nil); err != nil {
		return err
	}
	// Each cell is followed at once by its raw floor on the same database, so that both see
	// the same machine.
	raw, err := newRawBench(ctx, dbURL, o.orgs, tmp, o.rawGo)
	if err != nil {
		return err
	}
	defer raw.close()
	rep.rawTool = raw.tool()
	todo := cells()
	if o.profileOnly && o.profileDir != "" {
		todo = nil
	}
	// measure runs a cell on servers, then its raw floor.
	measure := func(c cell, servers []*server, probe *cpuProbe) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		samplers := make([]*rssSampler, len(servers))
		for i, s := range servers {
			samplers[i] = sampleRSS(s.Cmd.Process.Pid)
		}
		res, err := load.run(ctx, c, o.duration, o.maxRequests, probe)
		peaks := make([]int64, len(samplers))
		for i, s := range samplers {
			peaks[i] = s.done()
		}
		if err != nil {
			return err
		}
		for i, s := range servers {
			if s.Exited() {
				return fmt.Errorf("lux serve exited during the run; its log:\n%s", s.logTail())
			}
			res.RSS = max(res.RSS, peaks[i])
			if len(servers) > 1 {
				res.RSSEach = append(res.RSSEach, peaks[i])
			}
		}
		logf("%s", res.summary())
		if res.Raw, err = raw.run(ctx, c, o.duration); err != nil {
			logf("raw floor of cell %+v: %v (left out)", c, err)
		} else {
			logf("%s  → ratio %.2f", res.Raw.summary(), res.Ratio())
		}
		rep.api = append(rep.api, res)
		return nil
	}
	for _, c := range todo {
		if err := measure(c, []*server{srv}, probe); err != nil {
			return err
		}
	}
	if len(todo) > 0 {
		for _, clients := range []int{1, 32} {
			a, err := load.authorize(ctx, clients, o.duration, o.maxRequests)
			if err != nil {
				return err
			}
			logf("authorize  clients %2d  %7d req  %9.0f /s  p50 %6.2f ms  p99 %6.2f ms  load %s", a.Clients, a.Requests, a.PerSec, ms(a.P50), ms(a.P99), a.Load)
			rep.auth = append(rep.auth, a)
		}
	}
	if len(todo) > 0 && o.replicas > 1 {
		// The same database served by more replicas: the first server, and others started
		// now (their migrations find nothing to do). Each client posts to one replica.
		servers := []*server{srv}
		for i := 1; i < o.replicas; i++ {
			s, err := startServer(ctx, bin, dbURL, tmp, fmt.Sprintf("replica-%d", i+1), o.serverEnv()...)
			if err != nil {
				return err
			}
			defer s.Stop()
			logf("lux serve replica %d is up at %s (pid %d)", i+1, s.base, s.Cmd.Process.Pid)
			servers = append(servers, s)
		}
		pids := make([]int, len(servers))
		load.replicas = make([]string, len(servers))
		for i, s := range servers {
			pids[i], load.replicas[i] = s.Cmd.Process.Pid, s.base
		}
		probe := newCPUProbe(ctx, db, name, pids...)
		logf("warming up the replicas…")
		if _, err := load.run(ctx, cell{Batch: 1, Clients: 8, Replicas: len(servers)}, time.Second, 1_000, nil); err != nil {
			return err
		}
		for _, c := range replicaCells(len(servers)) {
			if err := measure(c, servers, probe); err != nil {
				return err
			}
		}
		for _, s := range servers[1:] {
			s.Stop()
		}
	}
	srv.Stop() // the figures are taken: free the server's cores and connections
	raw.close()

	if o.profileDir != "" {
		pr, err := profile(ctx, o, dbURL, env, db)
		if err != nil {
			return fmt.Errorf("profile: %w", err)
		}
		rep.profile = pr
	}

	if len(rep.api) == 0 {
		if rep.profile != nil {
			fmt.Print(rep.profile.markdown())
		}
		return nil
	}
	md := rep.markdown()
	fmt.Print(md)
	if o.out != "" {
		if err := benchkit.WriteSection(o.out, sectionHeading, md); err != nil {
			return err
		}
		logf("wrote the %q section of %s", sectionHeading, o.out)
	}
	return nil
}
