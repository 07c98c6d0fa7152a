package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/bench/benchkit"
)

// rawBench runs the floor any design pays per request: one transaction that inserts the
// request's event rows (one, or 100 built server-side with generate_series) and debits one
// balance row, with prepared statements. It runs with pgbench -M prepared when the machine has
// it, else the same transaction from Go through lib/pq. Its tables live in the benchmark
// database next to the real ones.
type rawBench struct {
	db      *sql.DB
	server  *url.URL
	dbName  string
	orgs    int
	pgbench string // path, "" to run from Go
	dir     string
	runs    int
}

const rawSchema = `
CREATE TABLE bench_raw_events (
    org_id TEXT NOT NULL, id TEXT NOT NULL, flow_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    user_id TEXT NOT NULL, type TEXT NOT NULL, model TEXT NOT NULL, quantity BIGINT NOT NULL,
    cost_mc BIGINT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id));
CREATE TABLE bench_raw_balances (org_id TEXT PRIMARY KEY, balance_mc BIGINT NOT NULL);
INSERT INTO bench_raw_balances SELECT 'org_' || i, 1000000000000 FROM generate_series(0, $1 - 1) AS i;`

func newRawBench(ctx context.Context, dbURL string, orgs int, dir string, useGo bool) (*rawBench, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	// lib/pq runs a multi-statement string only without parameters.
	if _, err := db.ExecContext(ctx, strings.ReplaceAll(rawSchema, "$1", strconv.Itoa(orgs))); err != nil {
		db.Close()
		return nil, fmt.Errorf("raw SQL tables: %w", err)
	}
	r := &rawBench{db: db, server: u, dbName: benchkit.DatabaseName(dbURL), orgs: orgs, dir: dir}
	if !useGo {
		r.pgbench = findPgbench()
	}
	return r, nil
}

// findPgbench is pgbench on PATH or in PostgreSQL's own bin directory, "" when neither.
func findPgbench() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return ""
}

func (r *rawBench) close() { r.db.Close() }

// tool names what runs the floor, for the report.
func (r *rawBench) tool() string {
	if r.pgbench != "" {
		return "`pgbench -M prepared`"
	}
	return "Go (`database/sql` + lib/pq, prepared statements)"
}

// rawResult is one raw SQL cell.
type rawResult struct {
	cell
	Tx       int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
}

func (r *rawResult) EventsPerSec() float64 {
	return float64(r.Tx*r.Batch) / r.Elapsed.Seconds()
}

func (r *rawResult) summary() string {
	return fmt.Sprintf("raw  batch %3d  clients %2d                     %7d tx   %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  errors %d",
		r.Batch, r.Clients, r.Tx, r.EventsPerSec(), ms(r.P50), ms(r.P99), r.Errors)
}

// run commits transactions of c.Batch events for dur from c.Clients clients, each on the
// organizations the API cell's client used (all on one for a hot cell).
func (r *rawBench) run(ctx context.Context, c cell, dur time.Duration) (*rawResult, error) {
	r.runs++
	if r.pgbench != "" {
		return r.runPgbench(ctx, c, dur)
	}
	return r.runGo(ctx, c, dur)
}

// insertSQL inserts batch events of org $1 with ids $2_1 … $2_<batch>, quantity $3, at $4.
func insertSQL(batch int) string {
	return `INSERT INTO bench_raw_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at)
		SELECT $1, $2 || '_' || g, 'flow_1', 'exec_' || $2, 'usr_bench', 'ai', 'claude-sonnet', $3, $3 * 5, $4, $4
		FROM generate_series(1, ` + strconv.Itoa(batch) + `) AS g`
}

const debitSQL = `UPDATE bench_raw_balances SET balance_mc = balance_mc - $2 WHERE org_id = $1`

func (r *rawBench) runGo(ctx context.Context, c cell, dur time.Duration) (*rawResult, error) {
	// A pool as large as the cell, emptied afterwards: PostgreSQL's connection slots are shared.
	r.db.SetMaxOpenConns(c.Clients)
	r.db.SetMaxIdleConns(c.Clients)
	defer r.db.SetMaxIdleConns(0)
	ins, err := r.db.PrepareContext(ctx, insertSQL(c.Batch))
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	upd, err := r.db.PrepareContext(ctx, debitSQL)
	if err != nil {
		return nil, err
	}
	defer upd.Close()
	runID := r.runs
	res, err := benchkit.Clients(ctx, c.Clients, dur, 1<<30, func(ctx context.Context, i, k int) error {
		org := "org_" + strconv.Itoa(c.orgIndex(i, k, r.orgs))
		id := fmt.Sprintf("r%dc%dk%d", runID, i, k)
		qty := int64(400 + k%1600)
		tx, err := r.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, org, id, qty, time.Now()); err != nil {
			_ = tx.Rollback()
			return err
		}
		if _, err := tx.StmtContext(ctx, upd).ExecContext(ctx, org, qty*5*int64(c.Batch)); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	})
	if err != nil {
		return nil, err
	}
	if res.OK() == 0 {
		return nil, fmt.Errorf("raw SQL: no transaction committed: %s", res.FirstErr)
	}
	return &rawResult{cell: c, Tx: res.OK(), Errors: res.Errors, Elapsed: res.Elapsed, P50: res.P(0.50), P99: res.P(0.99)}, nil
}

var pgbenchTx = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
var pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
var pgbenchFailed = regexp.MustCompile(`number of failed transactions: ([0-9]+)`)

// runPgbench runs the same transaction with pgbench -M prepared for dur; latencies come from
// its per-transaction log.
func (r *rawBench) runPgbench(ctx context.Context, c cell, dur time.Duration) (*rawResult, error) {
	org := `\set org :client_id % ` + strconv.Itoa(r.orgs)
	if c.Hot {
		org = `\set org 0`
	}
	script := org + `
\set id random(1, 9000000000000000000)
\set qty random(400, 2000)
BEGIN;
INSERT INTO bench_raw_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at) SELECT 'org_' || :org, 'pgb_' || :client_id || '_' || :id || '_' || g, 'flow_1', 'exec_' || :id, 'usr_bench', 'ai', 'claude-sonnet', :qty, :qty * 5, now(), now() FROM generate_series(1, ` + strconv.Itoa(c.Batch) + `) AS g;
UPDATE bench_raw_balances SET balance_mc = balance_mc - :qty * ` + strconv.Itoa(5*c.Batch) + ` WHERE org_id = 'org_' || :org;
END;
`
	dir, err := os.MkdirTemp(r.dir, "pgbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "raw.pgbench")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, err
	}
	secs := max(int(dur.Round(time.Second)/time.Second), 1)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(c.Clients), "-j", strconv.Itoa(min(c.Clients, 2)),
		"-T", strconv.Itoa(secs), "-l", "--log-prefix", filepath.Join(dir, "tx"), "-f", path,
		"-h", r.server.Hostname(), "-p", portOf(r.server), "-U", r.server.User.Username(), r.dbName}
	cctx, cancel := context.WithTimeout(ctx, dur+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, r.pgbench, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	if p, ok := r.server.User.Password(); ok {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+p)
	}
	if m := r.server.Query().Get("sslmode"); m != "" {
		cmd.Env = append(cmd.Env, "PGSSLMODE="+m)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgbench: %v: %s", err, out)
	}
	m := pgbenchTx.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("unexpected pgbench output: %s", out)
	}
	res := &rawResult{cell: c, Elapsed: time.Duration(secs) * time.Second}
	res.Tx, _ = strconv.Atoi(string(m[1]))
	// Connecting 32 clients can take a good part of a short run on a busy machine: the rate
	// is pgbench's own, without the connection time.
	if t := pgbenchTPS.FindSubmatch(out); t != nil {
		if tps, _ := strconv.ParseFloat(string(t[1]), 64); tps > 0 && res.Tx > 0 {
			res.Elapsed = time.Duration(float64(res.Tx) / tps * float64(time.Second))
		}
	}
	if f := pgbenchFailed.FindSubmatch(out); f != nil {
		res.Errors, _ = strconv.Atoi(string(f[1]))
	}
	lat, err := pgbenchLatencies(dir)
	if err != nil {
		return nil, err
	}
	if len(lat) == 0 || res.Tx == 0 {
		return nil, fmt.Errorf("pgbench committed no transaction in %s: %s", dur, out)
	}
	res.P50, res.P99 = benchkit.Quantile(lat, 0.50), benchkit.Quantile(lat, 0.99)
	return res, nil
}

// pgbenchLatencies reads the per-transaction logs in dir: "client tx time_us script epoch us".
func pgbenchLatencies(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx.*"))
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue // "failed" or "skipped"
			}
			out = append(out, time.Duration(us)*time.Microsecond)
		}
		f.Close()
	}
	return benchkit.Sorted(out), nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "5432"
}
