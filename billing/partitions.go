package billing

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Usage events are partitioned by month of occurred_at, cut in UTC (migration 00080, SPEC §12):
// usage_events_YYYY_MM for each month, usage_events_default for any month without one. Event
// keys (idempotency, costs, entries) live unpartitioned in usage_event_keys, so partitions can be
// created and detached without touching idempotency or the ledger's invariants.
//
// Partitions are made ahead: `lux serve`'s scheduler calls EnsureUsagePartitions every minute
// (this month and the next PartitionsAhead), as does every command that opens the database.
// A month whose rows sit in the default partition (an event far in the past, or rows inserted
// before its partition existed) gets its partition too, its rows moved in the same transaction
// (PostgreSQL refuses the partition while the default holds rows of its range). Old months are
// detached — never dropped — by DetachUsageMonths (`lux partitions detach`), which refuses the
// months that an open cycle or a statement not yet issued still reads.

//go:embed partitions.sql
var partitionsSQL string

var partQ = func() (q struct {
	selectPartitions, selectDefaultMonths, selectDetachedMonths, lockPartitions, setLockTimeout,
	lockUsageEvents, relationExists, monthIsDetached, createMovingTable, moveDefaultRows,
	insertMovedRows, selectNeededEvents, selectOpenCyclesStart, insertDetachedMonth,
	selectRollupHorizon string
}) {
	f := ParseQueries("billing/partitions.sql", partitionsSQL)
	q.selectPartitions = f.Get("select-partitions")
	q.selectDefaultMonths = f.Get("select-default-months")
	q.selectDetachedMonths = f.Get("select-detached-months")
	q.lockPartitions = f.Get("lock-partitions")
	q.setLockTimeout = f.Get("set-partition-lock-timeout")
	q.lockUsageEvents = f.Get("lock-usage-events")
	q.relationExists = f.Get("relation-exists")
	q.monthIsDetached = f.Get("month-is-detached")
	q.createMovingTable = f.Get("create-moving-table")
	q.moveDefaultRows = f.Get("move-default-rows")
	q.insertMovedRows = f.Get("insert-moved-rows")
	q.selectNeededEvents = f.Get("select-needed-events")
	q.selectOpenCyclesStart = f.Get("select-open-cycles-start")
	q.insertDetachedMonth = f.Get("insert-detached-month")
	q.selectRollupHorizon = f.Get("select-rollup-horizon")
	return q
}()

// PartitionsAhead is how many months after the current one the scheduler keeps partitioned.
const PartitionsAhead = 3

// DefaultPartition is the name of the partition of months without their own.
const DefaultPartition = "usage_events_default"

// MonthStart is the first instant (UTC) of t's month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// MonthsBetween is the number of month boundaries from a's month to b's (UTC).
func MonthsBetween(a, b time.Time) int {
	a, b = MonthStart(a), MonthStart(b)
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// PartitionName is the name of the partition of month m.
func PartitionName(m time.Time) string {
	return "usage_events_" + MonthStart(m).Format("2006_01")
}

// partitionMonth parses a partition name back into its month.
func partitionMonth(name string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(name, "usage_events_")
	if !ok {
		return time.Time{}, false
	}
	m, err := time.Parse("2006_01", rest)
	return m, err == nil
}

// UsagePartition is one partition of usage_events, or one detached month.
type UsagePartition struct {
	Name       string
	Month      time.Time // first instant (UTC); zero for the default partition
	Events     int64     // rows (when detached: rows at detach time)
	Detached   bool
	DetachedAt time.Time
}

// EnsureUsagePartitions creates the partitions of now's month and the ahead months after it,
// and of every month that has rows in the default partition and was never detached, moving
// those rows. It returns the partitions it created. Safe to run from several servers at once:
// changes take an advisory lock and look again under it; an existing partition is left alone.
func EnsureUsagePartitions(ctx context.Context, db *sqlx.DB, now time.Time, ahead int) ([]string, error) {
	var names []string
	if err := db.SelectContext(ctx, &names, partQ.selectPartitions); err != nil {
		return nil, fmt.Errorf("billing: usage partitions: %w", err)
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	var months []time.Time
	first := MonthStart(now)
	for i := 0; i <= ahead; i++ {
		months = append(months, first.AddDate(0, i, 0))
	}
	var stray []time.Time
	if err := db.SelectContext(ctx, &stray, partQ.selectDefaultMonths); err != nil {
		return nil, fmt.Errorf("billing: months in the default partition: %w", err)
	}
	months = append(months, stray...)
	var created []string
	for _, m := range months {
		if have[PartitionName(m)] {
			continue
		}
		ok, err := createPartition(ctx, db, MonthStart(m))
		if err != nil {
			return created, err
		}
		if ok {
			created = append(created, PartitionName(m))
		}
		have[PartitionName(m)] = true
	}
	return created, nil
}

// createPartition creates month m's partition and moves the default partition's rows of m into
// it, in one transaction under the partitions' advisory lock. It returns false when another
// server made it first or m was detached (its late rows stay in the default partition).
func createPartition(ctx context.Context, db *sqlx.DB, m time.Time) (bool, error) {
	name := PartitionName(m)
	end := m.AddDate(0, 1, 0)
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("billing: create %s: %w", name, err)
	}
	defer tx.Rollback()
	fail := func(err error) (bool, error) { return false, fmt.Errorf("billing: create %s: %w", name, err) }
	for _, q := range []string{partQ.setLockTimeout, partQ.lockPartitions} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
	}
	var exists, detached bool
	if err := tx.GetContext(ctx, &exists, partQ.relationExists, name); err != nil {
		return fail(err)
	}
	if err := tx.GetContext(ctx, &detached, partQ.monthIsDetached, m.Format(time.DateOnly)); err != nil {
		return fail(err)
	}
	if exists || detached {
		return false, nil
	}
	// The lock first: no row of m may reach the default partition between the move and the
	// partition's creation.
	for _, q := range []string{partQ.lockUsageEvents, partQ.createMovingTable} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
	}
	moved, err := tx.ExecContext(ctx, partQ.moveDefaultRows, m, end)
	if err != nil {
		return fail(err)
	}
	ddl := fmt.Sprintf("CREATE TABLE %s PARTITION OF usage_events FOR VALUES FROM (%s) TO (%s)",
		pq.QuoteIdentifier(name), pq.QuoteLiteral(m.Format(time.RFC3339)), pq.QuoteLiteral(end.Format(time.RFC3339)))
	if _, err := tx.ExecContext(ctx, ddl); err != nil {
		return fail(err)
	}
	if n, _ := moved.RowsAffected(); n > 0 {
		if _, err := tx.ExecContext(ctx, partQ.insertMovedRows); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return true, nil
}

// UsagePartitions lists usage_events' partitions with their row counts (exact: each partition
// is counted), months in order and the default partition last, then the detached months.
func UsagePartitions(ctx context.Context, db *sqlx.DB) ([]UsagePartition, error) {
	var names []string
	if err := db.SelectContext(ctx, &names, partQ.selectPartitions); err != nil {
		return nil, fmt.Errorf("billing: usage partitions: %w", err)
	}
	var out []UsagePartition
	var def *UsagePartition
	for _, n := range names {
		p := UsagePartition{Name: n}
		if m, ok := partitionMonth(n); ok {
			p.Month = m
		}
		if err := db.GetContext(ctx, &p.Events, "SELECT count(*) FROM "+pq.QuoteIdentifier(n)); err != nil {
			return nil, fmt.Errorf("billing: rows of %s: %w", n, err)
		}
		if n == DefaultPartition {
			def = &p
			continue
		}
		out = append(out, p)
	}
	if def != nil {
		out = append(out, *def)
	}
	var detached []struct {
		Month      time.Time `db:"month"`
		Table      string    `db:"table_name"`
		Events     int64     `db:"events"`
		DetachedAt time.Time `db:"detached_at"`
	}
	if err := db.SelectContext(ctx, &detached, partQ.selectDetachedMonths); err != nil {
		return nil, fmt.Errorf("billing: detached months: %w", err)
	}
	for _, d := range detached {
		out = append(out, UsagePartition{Name: d.Table, Month: MonthStart(d.Month), Events: d.Events, Detached: true, DetachedAt: d.DetachedAt})
	}
	return out, nil
}

// DetachUsageMonths detaches the month partitions of usage_events before month before (the first
// instant of a month, UTC), oldest first, and returns them. A detached partition stays as a plain
// table of the same name, for archiving; the events' keys stay in usage_event_keys (a retry is
// still a duplicate, the ledger's invariants still hold) and usage_months_detached records it.
//
// A month is refused (EINVALID, nothing detached) when it is not over before the earliest open
// billing cycle started, or when it holds events that a statement not yet issued will read
// (events received at or after the end of their org's latest statement). Each month detaches
// in its own short transaction under usage_events' lock; its rows are checked again under it.
func DetachUsageMonths(ctx context.Context, db *sqlx.DB, before, now time.Time) ([]UsagePartition, error) {
	before = MonthStart(before)
	if cur := MonthStart(now); before.After(cur) {
		return nil, Errorf(EINVALID, "--before %s is after the current month (%s): only past months can be detached", before.Format("2006-01"), cur.Format("2006-01"))
	}
	var open struct {
		OrgID      string    `db:"org_id"`
		CycleStart time.Time `db:"cycle_start"`
	}
	err := db.GetContext(ctx, &open, partQ.selectOpenCyclesStart)
	hasOrgs := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("billing: open cycles: %w", err)
	}
	var names []string
	if err := db.SelectContext(ctx, &names, partQ.selectPartitions); err != nil {
		return nil, fmt.Errorf("billing: usage partitions: %w", err)
	}
	var months []time.Time
	for _, n := range names {
		if m, ok := partitionMonth(n); ok && m.Before(before) {
			months = append(months, m)
		}
	}
	// Every month is checked before any is detached: a refusal leaves everything attached.
	for _, m := range months {
		if hasOrgs && m.AddDate(0, 1, 0).After(open.CycleStart) {
			return nil, Errorf(EINVALID, "%s is still needed: the open billing cycle of org %s started on %s; detach months that ended before every open cycle started",
				m.Format("2006-01"), open.OrgID, open.CycleStart.UTC().Format(time.DateOnly))
		}
		if err := checkNotNeeded(ctx, db, m); err != nil {
			return nil, err
		}
	}
	var out []UsagePartition
	for _, m := range months {
		p, err := detachMonth(ctx, db, m, now)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// checkNotNeeded fails when month m's partition holds events a statement not yet issued reads.
func checkNotNeeded(ctx context.Context, db sqlx.QueryerContext, m time.Time) error {
	var rows []struct {
		OrgID      string    `db:"org_id"`
		ReceivedAt time.Time `db:"received_at"`
		Events     int64     `db:"events"`
	}
	q := fmt.Sprintf(partQ.selectNeededEvents, pq.QuoteIdentifier(PartitionName(m)))
	if err := sqlx.SelectContext(ctx, db, &rows, q); err != nil {
		return fmt.Errorf("billing: events of %s still needed: %w", m.Format("2006-01"), err)
	}
	if len(rows) > 0 {
		r := rows[0]
		return Errorf(EINVALID, "%s is still needed: %d event(s) of org %s received from %s on are in a statement not issued yet (%d org(s) in all)",
			m.Format("2006-01"), r.Events, r.OrgID, r.ReceivedAt.UTC().Format(time.RFC3339), len(rows))
	}
	return nil
}

// detachMonth detaches month m's partition under usage_events' lock, after checking its rows
// again there (a late event may have arrived since), and records it.
func detachMonth(ctx context.Context, db *sqlx.DB, m, now time.Time) (UsagePartition, error) {
	name := PartitionName(m)
	p := UsagePartition{Name: name, Month: m, Detached: true, DetachedAt: now}
	fail := func(err error) (UsagePartition, error) {
		var e *Error
		if errors.As(err, &e) {
			return p, err
		}
		return p, fmt.Errorf("billing: detach %s: %w", name, err)
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	for _, q := range []string{partQ.setLockTimeout, partQ.lockPartitions, partQ.lockUsageEvents} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
	}
	if err := checkNotNeeded(ctx, tx, m); err != nil {
		return fail(err)
	}
	if err := tx.GetContext(ctx, &p.Events, "SELECT count(*) FROM "+pq.QuoteIdentifier(name)); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, "ALTER TABLE usage_events DETACH PARTITION "+pq.QuoteIdentifier(name)); err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, partQ.insertDetachedMonth, m.Format(time.DateOnly), name, p.Events, now); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return p, nil
}

// EnsureUsagePartitions is the package function at the service's clock.
func (s *Service) EnsureUsagePartitions(ctx context.Context) ([]string, error) {
	return EnsureUsagePartitions(ctx, s.DB(), s.now(), PartitionsAhead)
}

// DetachUsageMonths is the package function at the service's clock.
func (s *Service) DetachUsageMonths(ctx context.Context, before time.Time) ([]UsagePartition, error) {
	return DetachUsageMonths(ctx, s.DB(), before, s.now())
}

// UsagePartitions is the package function on the service's database.
func (s *Service) UsagePartitions(ctx context.Context) ([]UsagePartition, error) {
	return UsagePartitions(ctx, s.DB())
}
