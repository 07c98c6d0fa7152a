package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rawBench runs the floor any design pays per single event: one transaction that inserts one
// event row and updates one balance row, with prepared statements, through database/sql and
// lib/pq like the server. Its tables live in the benchmark database next to the real ones.
type rawBench struct {
	db   *sql.DB
	orgs int
	runs int
}

const rawSchema = `
CREATE TABLE bench_raw_events (
    org_id TEXT NOT NULL, id TEXT NOT NULL, flow_id TEXT NOT NULL, execution_id TEXT NOT NULL,
    user_id TEXT NOT NULL, type TEXT NOT NULL, model TEXT NOT NULL, quantity BIGINT NOT NULL,
    cost_mc BIGINT NOT NULL, occurred_at TIMESTAMPTZ NOT NULL, received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id));
CREATE TABLE bench_raw_balances (org_id TEXT PRIMARY KEY, balance_mc BIGINT NOT NULL);
INSERT INTO bench_raw_balances SELECT 'org_' || i, 1000000000 FROM generate_series(0, $1 - 1) AS i;`

func newRawBench(ctx context.Context, dbURL string, orgs int) (*rawBench, error) {
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(2)
	// lib/pq runs a multi-statement string only without parameters.
	schema := strings.ReplaceAll(rawSchema, "$1", strconv.Itoa(orgs))
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("raw SQL tables: %w", err)
	}
	return &rawBench{db: db, orgs: orgs}, nil
}

// close closes the pool (the tables stay for pgbench). Safe to call twice.
func (r *rawBench) close() { r.db.Close() }

// rawResult is one raw SQL cell.
type rawResult struct {
	cell
	Orgs    int
	Tx      int
	Errors  int
	Elapsed time.Duration
	Lat     latencies
	Tool    string // "database/sql" or "pgbench"
	AvgLat  time.Duration
}

func (r *rawResult) TxPerSec() float64 { return float64(r.Tx) / r.Elapsed.Seconds() }

func (r *rawResult) summary() string {
	if r.Tool == "pgbench" {
		return fmt.Sprintf("pgbench     clients %2d  orgs %-7s  %7d tx   %9.0f tx/s      avg %6.2f ms", r.Clients, r.cell.orgs(r.Orgs), r.Tx, r.TxPerSec(), ms(r.AvgLat))
	}
	return fmt.Sprintf("raw  SQL    clients %2d  orgs %-7s  %7d tx   %9.0f tx/s      p50 %6.2f ms  p99 %6.2f ms  errors %d",
		r.Clients, r.cell.orgs(r.Orgs), r.Tx, r.TxPerSec(), ms(r.Lat.P50), ms(r.Lat.P99), r.Errors)
}

// run commits n transactions from c.Clients goroutines, each on its own organizations as the
// API cell did (or all on one for a hot cell), stopping early at timeout.
func (r *rawBench) run(ctx context.Context, c cell, n int, timeout time.Duration) (*rawResult, error) {
	r.runs++
	runID := r.runs
	// A pool as large as the cell, emptied afterwards: PostgreSQL's connection slots are shared.
	r.db.SetMaxOpenConns(c.Clients)
	r.db.SetMaxIdleConns(c.Clients)
	defer r.db.SetMaxIdleConns(0)
	ins, err := r.db.PrepareContext(ctx, `INSERT INTO bench_raw_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at)
		VALUES ($1, $2, $3, $4, 'usr_bench', 'ai', 'claude-sonnet', $5, $6, $7, $7)`)
	if err != nil {
		return nil, err
	}
	defer ins.Close()
	upd, err := r.db.PrepareContext(ctx, `UPDATE bench_raw_balances SET balance_mc = balance_mc - $2 WHERE org_id = $1`)
	if err != nil {
		return nil, err
	}
	defer upd.Close()

	var issued atomic.Int64
	lat := make([][]time.Duration, c.Clients)
	errs := make([]int, c.Clients)
	var firstErr atomic.Value
	start := make(chan struct{})
	var deadline time.Time
	var wg sync.WaitGroup
	for i := range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := 0; ; k++ {
				if ctx.Err() != nil || time.Now().After(deadline) || issued.Add(1) > int64(n) {
					return
				}
				org := "org_" + strconv.Itoa(c.orgIndex(i, k, r.orgs))
				id := fmt.Sprintf("r%dc%dk%d", runID, i, k)
				qty := int64(400 + k%1600)
				t := time.Now()
				err := r.tx(ctx, ins, upd, org, id, qty)
				d := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errs[i]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[i] = append(lat[i], d)
			}
		}()
	}
	t0 := time.Now()
	deadline = t0.Add(timeout)
	close(start)
	wg.Wait()
	res := &rawResult{cell: c, Orgs: r.orgs, Elapsed: time.Since(t0), Tool: "database/sql"}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []time.Duration
	for i := range c.Clients {
		all = append(all, lat[i]...)
		res.Errors += errs[i]
	}
	res.Tx, res.Lat = len(all), summarise(all)
	if res.Errors > 0 {
		logf("raw SQL: %d errors, the first: %v", res.Errors, firstErr.Load())
	}
	if res.Tx == 0 {
		return nil, fmt.Errorf("raw SQL: no transaction committed: %v", firstErr.Load())
	}
	return res, nil
}

func (r *rawBench) tx(ctx context.Context, ins, upd *sql.Stmt, org, id string, qty int64) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	now := time.Now()
	if _, err := tx.StmtContext(ctx, ins).ExecContext(ctx, org, id, "flow_1", "exec_"+id, qty, qty*5, now); err != nil {
		_ = tx.Rollback()
		return err
	}
	if _, err := tx.StmtContext(ctx, upd).ExecContext(ctx, org, qty*5); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

var (
	pgbenchTPS = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	pgbenchLat = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	pgbenchTx  = regexp.MustCompile(`number of transactions actually processed: ([0-9]+)`)
)

// pgbench runs the same transaction with pgbench (C, prepared statements), for reference.
func (r *rawBench) pgbench(ctx context.Context, server *url.URL, dbName string, c cell, n int, dir string) (*rawResult, error) {
	bin, err := exec.LookPath("pgbench")
	if err != nil {
		return nil, errors.New("pgbench is not installed")
	}
	org := `\set org :client_id % ` + strconv.Itoa(r.orgs)
	if c.Hot {
		org = `\set org 0`
	}
	script := org + `
\set id random(1, 9000000000000000000)
\set qty random(400, 2000)
BEGIN;
INSERT INTO bench_raw_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at) VALUES ('org_' || :org, 'pgb_' || :client_id || '_' || :id, 'flow_1', 'exec_1', 'usr_bench', 'ai', 'claude-sonnet', :qty, :qty * 5, now(), now());
UPDATE bench_raw_balances SET balance_mc = balance_mc - :qty * 5 WHERE org_id = 'org_' || :org;
END;
`
	path := filepath.Join(dir, "raw.pgbench")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		return nil, err
	}
	perClient := max((n+c.Clients-1)/c.Clients, 1)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(c.Clients), "-j", strconv.Itoa(min(c.Clients, 2)),
		"-t", strconv.Itoa(perClient), "-f", path, "-h", server.Hostname(), "-p", portOf(server), "-U", server.User.Username(), dbName}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.Env = cleanEnv()
	if p, ok := server.User.Password(); ok {
		cmd.Env = append(cmd.Env, "PGPASSWORD="+p)
	}
	if m := server.Query().Get("sslmode"); m != "" {
		cmd.Env = append(cmd.Env, "PGSSLMODE="+m)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	tps, lat, tx := pgbenchTPS.FindSubmatch(out), pgbenchLat.FindSubmatch(out), pgbenchTx.FindSubmatch(out)
	if tps == nil || lat == nil || tx == nil {
		return nil, fmt.Errorf("unexpected pgbench output: %s", out)
	}
	t, _ := strconv.ParseFloat(string(tps[1]), 64)
	l, _ := strconv.ParseFloat(string(lat[1]), 64)
	count, _ := strconv.Atoi(string(tx[1]))
	return &rawResult{cell: c, Orgs: r.orgs, Tx: count, Elapsed: time.Duration(float64(count) / t * float64(time.Second)),
		Tool: "pgbench", AvgLat: time.Duration(l * float64(time.Millisecond))}, nil
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	return "5432"
}
