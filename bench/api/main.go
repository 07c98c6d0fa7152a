// Command api benchmarks usage ingestion through the JSON API: it builds the lux binary, serves
// it as a separate process on a fresh database, loads POST /api/v1/usage over loopback with
// single events and 100-event batches from 1, 8 and 32 clients, over many organizations and over
// one hot organization, then runs the same number of minimal raw SQL transactions for
// comparison. It prints a markdown table and writes it into docs/BENCHMARKS.md under
// "## API ingestion". Every cell is bounded in time and requests; everything it started or
// created (the server, the database, the temporary directory) is removed at the end.
//
//	LUX_BENCH_SERVER_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable go run ./bench/api
//
// Flags tune the run; -profile adds statement counts (pg_stat_statements, when the server
// preloads it) and a Go CPU profile of the request path (see docs/BENCHMARKS.md).
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

type options struct {
	duration    time.Duration // per cell
	maxRequests int           // per cell
	orgs        int
	out         string // markdown file to update; "" prints only
	pgbench     bool
	profileDir  string
	profileFor  time.Duration
	profileOnly bool
	profileCli  int
	timeout     time.Duration // whole run
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "measured time per cell")
	flag.IntVar(&o.maxRequests, "max-requests", 100_000, "requests per cell at most")
	flag.IntVar(&o.orgs, "orgs", 64, "organizations for the many-orgs cells")
	flag.StringVar(&o.out, "out", "docs/BENCHMARKS.md", "markdown file whose \"## API ingestion\" section is replaced (relative to the module root); empty: print only")
	flag.BoolVar(&o.pgbench, "pgbench", true, "also run the raw SQL transactions with pgbench, when installed, for reference")
	flag.StringVar(&o.profileDir, "profile", "", "directory for profiles: a Go CPU profile of an in-process server on the single-event path, and pg_stat_statements figures when available")
	flag.DurationVar(&o.profileFor, "profile-duration", 10*time.Second, "how long the profiled load runs")
	flag.IntVar(&o.profileCli, "profile-clients", 8, "clients of the profiled load (single events, many orgs)")
	flag.BoolVar(&o.profileOnly, "profile-only", false, "with -profile: skip the measured cells and print only the profile")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
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

// logf reports progress on stderr; stdout carries only the markdown.
func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func run(ctx context.Context, o options) error {
	serverURL := os.Getenv("LUX_BENCH_SERVER_URL")
	if serverURL == "" {
		return errors.New("set LUX_BENCH_SERVER_URL to a PostgreSQL URL whose database is postgres, e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		return fmt.Errorf("LUX_BENCH_SERVER_URL: %w", err)
	}
	if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return fmt.Errorf("LUX_BENCH_SERVER_URL points at %q: the benchmark only runs against a server on this machine (127.0.0.1)", h)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}

	admin, err := sql.Open("postgres", serverURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	admin.SetMaxOpenConns(2)
	if err := admin.PingContext(ctx); err != nil {
		return fmt.Errorf("cannot reach PostgreSQL at %s: %w", u.Redacted(), err)
	}

	// A fresh database, dropped at the end whatever happens.
	name := "lux_bench_" + randomHex(4)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(c, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			logf("could not drop database %s: %v", name, err)
		} else {
			logf("dropped database %s", name)
		}
	}()
	dbURL := withDatabase(u, name)
	logf("database %s created", name)

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

	srv, err := startServer(ctx, bin, dbURL, tmp)
	if err != nil {
		return err
	}
	defer srv.stop()
	logf("lux serve is up at %s (pid %d)", srv.base, srv.cmd.Process.Pid)

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
	db.SetMaxOpenConns(4)
	probe := newCPUProbe(ctx, db, name, srv.cmd.Process.Pid)

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
	// Each single-event cell is followed at once by the same number of minimal raw SQL
	// transactions on the same database and organizations, so that both see the same machine.
	raw, err := newRawBench(ctx, dbURL, o.orgs)
	if err != nil {
		return err
	}
	defer raw.close()
	todo := cells()
	if o.profileOnly && o.profileDir != "" {
		todo, o.pgbench = nil, false
	}
	for _, c := range todo {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := load.run(ctx, c, o.duration, o.maxRequests, probe)
		if err != nil {
			return err
		}
		if srv.exited() {
			return fmt.Errorf("lux serve exited during the run; its log:\n%s", srv.logTail())
		}
		logf("%s", res.summary())
		rep.api = append(rep.api, res)
		if c.Batch == 1 {
			r, err := raw.run(ctx, c, res.Requests, 3*o.duration+10*time.Second)
			if err != nil {
				return err
			}
			logf("%s", r.summary())
			rep.raw = append(rep.raw, r)
		}
	}
	srv.stop() // the API figures are taken: free the server's cores and connections
	raw.close()

	if o.pgbench {
		for _, a := range rep.api {
			if a.Batch != 1 {
				continue
			}
			pb, err := raw.pgbench(ctx, u, name, a.cell, a.Requests, tmp)
			if err != nil {
				logf("pgbench: %v (left out)", err)
				rep.pgbench = nil
				break
			}
			logf("%s", pb.summary())
			rep.pgbench = append(rep.pgbench, pb)
		}
	}

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
		path := o.out
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeSection(path, sectionHeading, md); err != nil {
			return err
		}
		logf("wrote the %q section of %s", sectionHeading, path)
	}
	return nil
}

// moduleRoot is the directory of the main module (where go build runs).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark from inside the lux-billing module")
	}
	return filepath.Dir(mod), nil
}

func withDatabase(u *url.URL, name string) string {
	c := *u
	c.Path = "/" + name
	return c.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
