package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

const (
	benchZone   = "Europe/Berlin"
	benchDays   = 365
	copyStreams = 2
)

// benchEnv is the loaded organization and what the report says about it.
type benchEnv struct {
	svc           *billing.Service
	db            *sqlx.DB
	org           string
	now           time.Time
	loc           *time.Location
	events        int64
	flows, users  int
	dailyRows     int64
	daily90       int64
	execRows      int64
	flowRows      int64 // usage_flow_daily
	weekRows      int64 // usage_flow_weekly
	busiestFlow   string
	someExecution string
	pgVersion     string
	extra         []*result // one-off timings
	loadBefore    string    // 1-minute load average before the timings
	loadAfter     string
	notes         string
}

// kind is a usage type and model, with the quantity one event of it carries.
type kind struct {
	typ, model string
	lo, hi     int64 // quantity range
	perExec    int   // up to this many events of it per execution
}

var kinds = []kind{
	{"ai", "claude-haiku", 200, 4000, 4}, {"ai", "claude-sonnet", 300, 6000, 3}, {"ai", "claude-opus", 1000, 12000, 2},
	{"ai", "gpt-4o", 300, 5000, 3}, {"ai", "gpt-4o-mini", 200, 3000, 4},
	{"email", "", 1, 3, 2}, {"sms", "", 1, 2, 2}, {"voice_call", "", 20, 600, 1}, {"voice_synthesis", "", 200, 3000, 2},
}

// flowPlan is what one flow does: who runs it and which kinds of usage an execution has.
type flowPlan struct {
	id     string
	users  []string
	kinds  []kind
	weight float64
}

// SQL of the load. It writes what ingestion would have written for the COPYed events: the
// rollups and one usage ledger entry paid by a purchase.
const (
	sqlReserveEntry   = `SELECT nextval('ledger_entries_id_seq')`
	sqlExecutionUsage = `
INSERT INTO execution_usage (org_id, execution_id, type, flow_id, user_id, credits_mc, events, first_at, last_at)
SELECT org_id, execution_id, type, min(flow_id), min(user_id), sum(cost_mc), count(*), min(occurred_at), max(occurred_at)
FROM usage_events WHERE org_id = $1 GROUP BY org_id, execution_id, type`
	sqlEventKeys = `
INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
SELECT org_id, id, occurred_at, entry_id, cost_mc, '\x00'::bytea FROM usage_events WHERE org_id = $1`
	sqlLockAccount  = `SELECT cycle_start FROM accounts WHERE org_id = $1 FOR UPDATE`
	sqlUsageEntry   = `INSERT INTO ledger_entries (id, org_id, kind, amount_mc, unfunded_mc, memo, created_at) VALUES ($1, $2, 'usage', -$3::bigint, 0, $4, $5)`
	sqlAllocation   = `INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at) VALUES ($1, $2, $3, $4, false, $5)`
	sqlGrantDebit   = `UPDATE grants SET remaining_mc = remaining_mc - $2 WHERE id = $1`
	sqlAccountDebit = `UPDATE accounts SET balance_mc = balance_mc - $2, cycle_used_mc = cycle_used_mc + $3 WHERE org_id = $1`
	sqlMemberUsage  = `
INSERT INTO member_cycle_usage (org_id, user_id, cycle_start, used_mc)
SELECT $1, u, $2, a FROM unnest($3::text[], $4::bigint[]) AS t(u, a)
ON CONFLICT (org_id, user_id, cycle_start) DO UPDATE SET used_mc = member_cycle_usage.used_mc + EXCLUDED.used_mc`
)

// The ledger invariants billingtest.AssertLedger checks, each returning 0 when it holds.
var invariants = []struct{ name, sql string }{
	{"cached balance equals the ledger", `SELECT a.balance_mc - COALESCE((SELECT sum(amount_mc) FROM ledger_entries e WHERE e.org_id = a.org_id), 0) FROM accounts a WHERE a.org_id = $1`},
	{"balance equals live grants minus arrears", `SELECT a.balance_mc - (COALESCE((SELECT sum(remaining_mc) FROM grants g WHERE g.org_id = a.org_id), 0) - a.arrears_mc) FROM accounts a WHERE a.org_id = $1`},
	{"grants' remainders equal their allocations", `SELECT count(*) FROM grants g WHERE g.org_id = $1 AND g.remaining_mc <> g.amount_mc - COALESCE((SELECT sum(amount_mc) FROM allocations a WHERE a.grant_id = g.id), 0)`},
	{"usage entries equal the events' costs", `SELECT COALESCE((SELECT -sum(amount_mc) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage'), 0) - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
	{"the daily rollup equals the events", `SELECT COALESCE((SELECT sum(credits_mc) FROM usage_daily WHERE org_id = $1), 0) - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
	{"execution totals equal the events", `SELECT COALESCE((SELECT sum(credits_mc) FROM execution_usage WHERE org_id = $1), 0) - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
}

// load creates the organization through the service and loads n events with COPY.
func load(ctx context.Context, db *sqlx.DB, o options) (*benchEnv, error) {
	n, benchFlows, benchUsers := o.events, o.flows, o.members
	now := time.Now().UTC().Truncate(time.Second)
	var clock atomic.Int64
	clock.Store(now.Add(-(benchDays + 1) * 24 * time.Hour).UnixNano())
	svc, err := billing.New(ctx, db, billing.WithClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() }))
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(benchZone)
	if err != nil {
		return nil, err
	}
	env := &benchEnv{svc: svc, db: db, now: now, loc: loc, flows: benchFlows, users: benchUsers}
	if err := db.GetContext(ctx, &env.pgVersion, `SELECT current_setting('server_version')`); err != nil {
		return nil, err
	}

	// The organization, a year old, with its members and named flows.
	var users []string
	for i := range benchUsers {
		u, err := identity.New(svc).CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("member%02d@bench.lux.local", i), Name: fmt.Sprintf("Member %02d", i), Password: "bench-password"})
		if err != nil {
			return nil, err
		}
		users = append(users, u.ID)
	}
	env.org, err = identity.New(svc).CreateOrg(ctx, billing.NewOrg{Name: "Bench Reports", PlanCode: "pro", Timezone: benchZone}, users[0])
	if err != nil {
		return nil, err
	}
	for _, u := range users[1:] {
		if err := identity.New(svc).AddMember(ctx, env.org, u, identity.RoleMember); err != nil {
			return nil, err
		}
	}
	r := rand.New(rand.NewPCG(42, 7))
	var plans []flowPlan
	var totalWeight float64
	for i := range benchFlows {
		p := flowPlan{id: fmt.Sprintf("flow_%02d", i), users: []string{users[i%benchUsers]}, weight: 1 / math.Pow(float64(i+1), 0.8)}
		if r.IntN(10) < 3 {
			p.users = append(p.users, users[(i*7+3)%benchUsers])
		}
		for _, k := range r.Perm(len(kinds))[:1+r.IntN(3)] {
			p.kinds = append(p.kinds, kinds[k])
		}
		if err := svc.NameFlow(ctx, env.org, p.id, fmt.Sprintf("Flow %02d", i)); err != nil {
			return nil, err
		}
		totalWeight += p.weight
		plans = append(plans, p)
	}
	env.busiestFlow = plans[0].id
	clock.Store(now.UnixNano())
	cs, err := svc.CreditSummary(ctx, env.org) // rolls a year of cycles over
	if err != nil {
		return nil, err
	}
	logf("organization %s with %d members and %d flows created", env.org, benchUsers, benchFlows)

	// The events, COPYed in parallel streams; one usage ledger entry covers them all.
	var entryID int64
	if err := db.GetContext(ctx, &entryID, sqlReserveEntry); err != nil {
		return nil, err
	}
	// A partition for every month of the year loaded, as lux serve's scheduler would have made
	// them month by month.
	oldest := now.Add(-benchDays * 24 * time.Hour)
	if _, err := billing.EnsureUsagePartitions(ctx, db, oldest, billing.MonthsBetween(oldest, now)+billing.PartitionsAhead); err != nil {
		return nil, err
	}
	start := time.Now()
	// The index of usage_events stays: execution ids are numbered per stream, so its entries append.
	total, cycle, err := copyEvents(ctx, db, svc, env.org, plans, totalWeight, entryID, now, cs.CycleStart, n)
	if err != nil {
		return nil, err
	}
	// Their keys (usage_event_keys: idempotency, costs and entries), set-based, the primary key
	// built once after.
	start = time.Now()
	if err := withoutIndexes(ctx, db, "usage_event_keys", func() error {
		_, err := db.ExecContext(ctx, sqlEventKeys, env.org)
		return err
	}); err != nil {
		return nil, fmt.Errorf("usage_event_keys: %w", err)
	}
	logf("event keys written in %s", time.Since(start).Round(time.Second))
	env.events = int64(n)
	env.someExecution = fmt.Sprintf("x%09d", 12345)
	logf("copied %d events (%s credits) in %s", n, total, time.Since(start).Round(time.Second))

	// Rollups: the daily one through SetTimezone (which builds it from the events with
	// INSERT … SELECT … GROUP BY), the per-execution one directly.
	change, err := svc.ChangeTimezone(ctx, env.org, benchZone)
	if err != nil {
		return nil, err
	}
	env.extra = append(env.extra, &result{name: fmt.Sprintf("`SetTimezone`: build `usage_daily` from all %s events (once, at the load): total", thousands(int64(n))), times: []time.Duration{change.Total}})
	logf("usage_daily built by SetTimezone in %s (lock held %s)", change.Total.Round(time.Millisecond), change.Locked.Round(time.Millisecond))
	start = time.Now()
	// A year of one org's executions is millions of groups: give the aggregate memory, as an
	// operator running this by hand would.
	if err := withoutIndexes(ctx, db, "execution_usage", func() error {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback() //nolint:errcheck // committed below
		// A year of one org's executions is millions of groups: aggregate in memory.
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '1GB'"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, sqlExecutionUsage, env.org); err != nil {
			return err
		}
		return tx.Commit()
	}); err != nil {
		return nil, fmt.Errorf("execution_usage: %w", err)
	}
	logf("execution_usage built in %s", time.Since(start).Round(time.Second))

	// The ledger: a purchase pays for the usage entry, as ingestion would have allocated it.
	if _, err := svc.GrantCredits(ctx, env.org, billing.GrantPurchase, total+billing.Credits(100_000), nil, "bench-reports", "Benchmark credits"); err != nil {
		return nil, err
	}
	var grantID int64
	if err := db.GetContext(ctx, &grantID, `SELECT id FROM grants WHERE org_id = $1 AND source_ref = 'bench-reports'`, env.org); err != nil {
		return nil, err
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	var cycleStart time.Time
	steps := []struct {
		sql  string
		args []any
	}{
		{sqlUsageEntry, []any{entryID, env.org, int64(total), fmt.Sprintf("Usage: %d events (benchmark load)", n), now}},
		{sqlAllocation, []any{env.org, entryID, grantID, int64(total), now}},
		{sqlGrantDebit, []any{grantID, int64(total)}},
	}
	if err := tx.GetContext(ctx, &cycleStart, sqlLockAccount, env.org); err != nil {
		return nil, err
	}
	if !cycleStart.Equal(cs.CycleStart) {
		return nil, fmt.Errorf("the cycle moved during the load (%s → %s): run again", cs.CycleStart, cycleStart)
	}
	var cycleUsers []string
	var cycleAmounts []int64
	var cycleTotal billing.Millicredits
	for u, a := range cycle {
		cycleUsers, cycleAmounts, cycleTotal = append(cycleUsers, u), append(cycleAmounts, int64(a)), cycleTotal+a
	}
	steps = append(steps, struct {
		sql  string
		args []any
	}{sqlAccountDebit, []any{env.org, int64(total), int64(cycleTotal)}}, struct {
		sql  string
		args []any
	}{sqlMemberUsage, []any{env.org, cycleStart, pq.Array(cycleUsers), pq.Array(cycleAmounts)}})
	for _, s := range steps {
		if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	if err := timeZoneChange(ctx, env, users[0], plans[0].id); err != nil {
		return nil, err
	}
	start = time.Now()
	if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) usage_daily, execution_usage, ledger_entries, grants, accounts, usage_event_keys`); err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `ANALYZE usage_events`); err != nil {
		return nil, err
	}
	logf("vacuum and analyze in %s", time.Since(start).Round(time.Second))
	for _, inv := range invariants {
		var off int64
		if err := db.GetContext(ctx, &off, inv.sql, env.org); err != nil {
			return nil, fmt.Errorf("invariant %q: %w", inv.name, err)
		}
		if off != 0 {
			return nil, fmt.Errorf("ledger invariant broken after the load: %s (off by %d)", inv.name, off)
		}
	}
	logf("ledger invariants hold")

	q := `SELECT count(*) FROM usage_daily WHERE org_id = $1`
	if err := db.GetContext(ctx, &env.dailyRows, q, env.org); err != nil {
		return nil, err
	}
	if err := db.GetContext(ctx, &env.daily90, q+` AND day > $2`, env.org, reports.DateOf(now, loc).AddDays(-90)); err != nil {
		return nil, err
	}
	if err := db.GetContext(ctx, &env.execRows, `SELECT count(*) FROM execution_usage WHERE org_id = $1`, env.org); err != nil {
		return nil, err
	}
	if err := db.GetContext(ctx, &env.flowRows, `SELECT count(*) FROM usage_flow_daily WHERE org_id = $1`, env.org); err != nil {
		return nil, err
	}
	if err := db.GetContext(ctx, &env.weekRows, `SELECT count(*) FROM usage_flow_weekly WHERE org_id = $1`, env.org); err != nil {
		return nil, err
	}
	env.notes = notes
	return env, nil
}

// timeZoneChange changes the organization's zone to another and back while a client records
// single events for it through the service, and notes what each change cost: its total time,
// how long it held the org's ledger lock, how many events arrived during it (read again under
// the lock or just before), and the slowest of the client's events meanwhile.
func timeZoneChange(ctx context.Context, env *benchEnv, user, flow string) error {
	for _, tz := range []string{"America/New_York", benchZone} {
		done := make(chan struct{})
		var slowest time.Duration
		var sent int
		var ingestErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ; ; sent++ {
				select {
				case <-done:
					return
				default:
				}
				ev := billing.UsageEvent{ID: fmt.Sprintf("tz_%s_%d", tz, sent), FlowID: flow, ExecutionID: "tz_change", UserID: user, Type: "sms", Quantity: 1, OccurredAt: env.now}
				t := time.Now()
				if _, err := env.svc.RecordUsage(ctx, env.org, user, []billing.UsageEvent{ev}); err != nil {
					ingestErr = err
					return
				}
				slowest = max(slowest, time.Since(t))
			}
		}()
		change, err := env.svc.ChangeTimezone(ctx, env.org, tz)
		close(done)
		wg.Wait()
		if err != nil {
			return err
		}
		if ingestErr != nil {
			return ingestErr
		}
		logf("SetTimezone %s: %s, lock held %s, %d events caught up; %d events recorded meanwhile, slowest %s",
			tz, change.Total.Round(time.Millisecond), change.Locked.Round(time.Microsecond), change.CaughtUp, sent, slowest.Round(time.Microsecond))
		what := fmt.Sprintf("`SetTimezone` to %s (%s events, a client recording single events meanwhile)", tz, thousands(change.Events))
		env.extra = append(env.extra,
			&result{name: what + ": total", times: []time.Duration{change.Total}},
			&result{name: what + ": the org's ledger lock held (its ingestion waits only then)", times: []time.Duration{change.Locked}},
			&result{name: fmt.Sprintf("%s: slowest of the client's %d events (%d read again by the catch-ups)", what, sent, change.CaughtUp), times: []time.Duration{slowest}})
	}
	return nil
}

// withoutIndexes runs fn with table's indexes (primary key included) dropped, then builds them
// again from their catalogued definitions: a bulk load then costs one sort per index instead
// of millions of index insertions. Index builds get 1 GB of memory, as an operator loading by
// hand would give them.
func withoutIndexes(ctx context.Context, db *sqlx.DB, table string, fn func() error) error {
	var cons []struct {
		Name string `db:"conname"`
		Def  string `db:"def"`
	}
	if err := db.SelectContext(ctx, &cons, `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u')`, table); err != nil {
		return err
	}
	var idx []struct {
		Name string `db:"indexname"`
		Def  string `db:"indexdef"`
	}
	if err := db.SelectContext(ctx, &idx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)`, table); err != nil {
		return err
	}
	for _, c := range cons {
		if _, err := db.ExecContext(ctx, "ALTER TABLE "+pq.QuoteIdentifier(table)+" DROP CONSTRAINT "+pq.QuoteIdentifier(c.Name)); err != nil {
			return err
		}
	}
	for _, i := range idx {
		if _, err := db.ExecContext(ctx, "DROP INDEX "+pq.QuoteIdentifier(i.Name)); err != nil {
			return err
		}
	}
	if err := fn(); err != nil {
		return err
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	if _, err := tx.ExecContext(ctx, "SET LOCAL maintenance_work_mem = '1GB'"); err != nil {
		return err
	}
	for _, c := range cons {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+pq.QuoteIdentifier(table)+" ADD CONSTRAINT "+pq.QuoteIdentifier(c.Name)+" "+c.Def); err != nil {
			return err
		}
	}
	for _, i := range idx {
		if _, err := tx.ExecContext(ctx, i.Def); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// copyEvents generates n events of executions spread over the last benchDays days (weekdays
// busier than weekends) and COPYs them into usage_events in copyStreams parallel streams. It
// returns their total cost and each member's cost received since cycleStart (the cycle counters).
func copyEvents(ctx context.Context, db *sqlx.DB, svc *billing.Service, org string, plans []flowPlan, totalWeight float64, entryID int64, now, cycleStart time.Time, n int) (billing.Millicredits, map[string]billing.Millicredits, error) {
	var wg sync.WaitGroup
	errs := make([]error, copyStreams)
	totals := make([]billing.Millicredits, copyStreams)
	cycles := make([]map[string]billing.Millicredits, copyStreams)
	for s := range copyStreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			share := n / copyStreams
			if s == copyStreams-1 {
				share = n - share*(copyStreams-1)
			}
			cycles[s] = map[string]billing.Millicredits{}
			totals[s], errs[s] = copyStream(ctx, db, svc, org, plans, totalWeight, entryID, now, cycleStart, cycles[s], s, share)
		}()
	}
	wg.Wait()
	var total billing.Millicredits
	cycle := map[string]billing.Millicredits{}
	for s := range copyStreams {
		if errs[s] != nil {
			return 0, nil, errs[s]
		}
		total += totals[s]
		for u, a := range cycles[s] {
			cycle[u] += a
		}
	}
	return total, cycle, nil
}

func copyStream(ctx context.Context, db *sqlx.DB, svc *billing.Service, org string, plans []flowPlan, totalWeight float64, entryID int64, now, cycleStart time.Time, cycle map[string]billing.Millicredits, stream, n int) (billing.Millicredits, error) {
	r := rand.New(rand.NewPCG(uint64(stream)+1, 99))
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("usage_events", "org_id", "id", "flow_id", "execution_id", "user_id",
		"type", "model", "quantity", "cost_mc", "occurred_at", "received_at", "entry_id"))
	if err != nil {
		return 0, err
	}
	oldest := now.Add(-benchDays * 24 * time.Hour)
	rates := svc.Rates()
	var total billing.Millicredits
	// Execution and event ids are numbered per stream, so each stream appends to the indexes.
	exec, evt := stream*1_000_000_000/copyStreams, stream*1_000_000_000/copyStreams
	for written := 0; written < n; exec++ {
		// A flow by weight, a weekday four times as likely as a weekend day.
		w := r.Float64() * totalWeight
		p := &plans[len(plans)-1]
		for i := range plans {
			if w -= plans[i].weight; w < 0 {
				p = &plans[i]
				break
			}
		}
		var at time.Time
		for {
			at = oldest.Add(time.Duration(r.Int64N(int64(benchDays * 24 * time.Hour))))
			if wd := at.Weekday(); (wd != time.Saturday && wd != time.Sunday) || r.IntN(4) == 0 {
				break
			}
		}
		user := p.users[r.IntN(len(p.users))]
		execID := fmt.Sprintf("x%09d", exec)
		for _, k := range p.kinds {
			for range 1 + r.IntN(k.perExec) {
				if written == n {
					break
				}
				qty := k.lo + r.Int64N(k.hi-k.lo+1)
				rate, err := rates.Find(k.typ, k.model, at)
				if err != nil {
					return 0, err
				}
				cost := rate.Cost(qty)
				total += cost
				if !at.Add(time.Second).Before(cycleStart) { // received_at is a second later
					cycle[user] += cost
				}
				if _, err := stmt.ExecContext(ctx, org, fmt.Sprintf("e%09d", evt), p.id, execID, user, k.typ, k.model, qty, int64(cost), at, at.Add(time.Second), entryID); err != nil {
					return 0, fmt.Errorf("copy: %w", err)
				}
				evt++
				written++
				at = at.Add(time.Duration(1+r.IntN(20)) * time.Second)
				if at.After(now) {
					at = now
				}
			}
		}
		if stream == 0 && exec%250_000 == 0 && exec > 0 {
			logf("  … %d%%", written*100/n)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	if err := stmt.Close(); err != nil {
		return 0, err
	}
	return total, tx.Commit()
}

var notes = strings.TrimLeft(`
How it is set up: the events are COPYed into `+"`usage_events`"+` (not sent through the API; see
"API ingestion" for that path), then the rollups are built by `+"`SetTimezone`"+` — the same
`+"`INSERT … SELECT … GROUP BY`"+` it runs, beside the live rollups, when an org changes zone — and `+"`execution_usage`"+` by one
`+"`INSERT … SELECT … GROUP BY`"+` with its indexes dropped and rebuilt around it. One usage ledger entry covers all the events and is paid by a
purchase, so the ledger invariants hold (checked after the load). The zone is then changed to New York and back
while a client records single events through the service (the rows above: what the org's ingestion waited for is the
time the lock was held). The rollups are vacuumed and every table analyzed before the timings. Flows have one or two
members and one to three kinds of usage each, as real flows do; a report's cost is the number of rollup rows it reads,
not the number of events: by flow, the per-flow rollups (daily, and weekly for the full weeks of a report by week),
unaggregated; by type or member, `+"`usage_daily`"+` aggregated, and the per-flow rollups for the top flows.
`, "\n")
