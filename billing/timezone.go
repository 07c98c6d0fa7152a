package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ValidateTimezone checks that tz is an IANA zone name both Go and PostgreSQL know: "UTC" or
// an Area/Location name such as "Europe/Paris". Abbreviations ("CET", "EST") are refused:
// PostgreSQL reads them as fixed offsets while Go reads them as zones with daylight saving, so
// days would be cut differently. The error is EINVALID.
func ValidateTimezone(tz string) error {
	bad := Errorf(EINVALID, "unknown time zone %q: use an IANA name such as Europe/Paris or America/New_York", tz)
	if tz != "UTC" && (!strings.Contains(tz, "/") || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..")) {
		return bad
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return bad
	}
	return nil
}

// TimezoneChange is what SetTimezone did: how long it took, how long of it the organization's
// ledger lock was held (its ingestion waits only then), and how many events the rebuild read.
type TimezoneChange struct {
	Total, Locked time.Duration
	Events        int64 // events in the rebuilt rollup
	CaughtUp      int64 // of which arrived during the rebuild (read by the catch-ups)
}

// SetTimezone sets the organization's time zone and rebuilds its daily usage rollups from its
// usage events, days cut in the new zone, so that reports, charts and CSVs agree with the raw
// events in the zone the organization now uses. Ingestion goes on while the rollups are
// rebuilt: they are built beside the live ones, as the next generation, and the
// organization's ledger lock (the row ingestion locks) is taken only to add the few events
// recorded meanwhile and switch the zone and generation — readers see the old rollups or the
// new ones, and a batch that was waiting for the lock reads the new zone and generation (the
// lock statements take SHARE on the org row, so they see its latest version). The old
// generation is deleted after. Setting the current zone again rebuilds too (a repair). One
// change of an organization runs at a time (a second waits). An unknown zone is EINVALID (see
// ValidateTimezone); an unknown organization ENOTFOUND.
func (s *Service) SetTimezone(ctx context.Context, orgID, tz string) error {
	_, err := s.ChangeTimezone(ctx, orgID, tz)
	return err
}

// ChangeTimezone is SetTimezone, reporting what the change cost.
//
// Exactly once: an organization's usage entry ids are drawn from one sequence while its ledger
// lock is held, and each usage transaction commits before the lock is released, so the events
// an organization has committed at any instant are exactly those whose entry id is at most the
// highest one committed. The build reads the org's events in one snapshot and notes the highest
// entry id committed in it; each catch-up reads, in one statement (one snapshot), the events
// above the highest id the previous step saw: one outside the lock for what arrived during the
// build, a last one under the lock for what arrived during the first; with the lock held,
// nothing more arrives before the switch.
func (s *Service) ChangeTimezone(ctx context.Context, orgID, tz string) (TimezoneChange, error) {
	var out TimezoneChange
	if err := ValidateTimezone(tz); err != nil {
		return out, err
	}
	start := time.Now()
	// One session, holding the org's change lock from start to end.
	conn, err := s.DB().Connx(ctx)
	if err != nil {
		return out, fmt.Errorf("billing: set time zone: %w", err)
	}
	defer conn.Close()
	if err := checkTimezone(ctx, conn, tz); err != nil {
		return out, err
	}
	var live liveRollup
	if err := conn.GetContext(ctx, &live, queries.SelectRollupGen, orgID); err != nil {
		return out, NotFound(err, "organization not found", "set time zone")
	}
	if _, err := conn.ExecContext(ctx, queries.LockRollupChange, orgID); err != nil {
		return out, fmt.Errorf("billing: set time zone: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), queries.UnlockRollupChange, orgID) //nolint:errcheck // a broken session ends with its lock
	// The live generation and zone again, now that no other change runs, and what an unfinished
	// change left behind.
	if err := conn.GetContext(ctx, &live, queries.SelectRollupGen, orgID); err != nil {
		return out, NotFound(err, "organization not found", "set time zone")
	}
	if err := deleteOtherGens(ctx, conn, orgID, live.Gen); err != nil {
		return out, err
	}
	// Detached months' events are not there to rebuild from: their days are kept as they are.
	var horizon rollupHorizon
	if err := conn.GetContext(ctx, &horizon, partQ.selectRollupHorizon, orgID); err != nil {
		return out, fmt.Errorf("billing: rollup horizon: %w", err)
	}
	next := rollupBuild{org: orgID, tz: tz, gen: live.Gen + 1, keptTZ: live.Timezone, from: horizon.RebuildFrom}

	// The build, without the lock, in one snapshot: the kept days' rows, every event of the org
	// from the horizon on (aggregated in memory), and the highest entry id committed.
	err = inConnTxOpts(ctx, conn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead}, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, queries.SetRebuildMemory); err != nil {
			return fmt.Errorf("billing: rebuild memory: %w", err)
		}
		if horizon.KeepBefore != noHorizon {
			if _, err := tx.ExecContext(ctx, queries.CopyKeptRollup, orgID, live.Gen, next.gen, horizon.KeepBefore); err != nil {
				return fmt.Errorf("billing: copy kept usage rollup: %w", err)
			}
		}
		if err := next.run(ctx, tx, queries.AddRollupGeneration, next.from); err != nil {
			return err
		}
		// A kept day's late event (its month detached) has an entry id too; so may an event whose
		// usage entry is not written yet (a bulk load), hence the greater of the two.
		var top int64
		if err := tx.GetContext(ctx, &top, queries.SelectUsageEntryTop, orgID); err != nil {
			return fmt.Errorf("billing: usage entry top: %w", err)
		}
		next.seen = max(next.seen, top)
		return nil
	})
	if err != nil {
		return out, err
	}
	built := next.events
	s.timezoneStep(TimezoneBuilt)
	// What arrived during the build, still without the lock, so that the catch-up under the
	// lock reads only what arrives during this one.
	if _, err := conn.ExecContext(ctx, queries.SummarizeEntryIndex); err != nil {
		return out, fmt.Errorf("billing: summarize entry index: %w", err)
	}
	if err := inConnTx(ctx, conn, next.catchUp(ctx)); err != nil {
		return out, err
	}
	s.timezoneStep(TimezoneCaughtUp)

	// Under the lock: the last events, then the zone and the generation.
	err = inConnTx(ctx, conn, func(tx *sqlx.Tx) error {
		locked := time.Now()
		defer func() { out.Locked = time.Since(locked) }()
		if err := lockAccountRow(ctx, tx, orgID); err != nil {
			return err
		}
		var now rollupHorizon
		if err := tx.GetContext(ctx, &now, partQ.selectRollupHorizon, orgID); err != nil {
			return fmt.Errorf("billing: rollup horizon: %w", err)
		}
		if now.KeepBefore != horizon.KeepBefore {
			return Errorf(ECONFLICT, "months of usage were detached during the time zone change: change it again")
		}
		if err := next.catchUp(ctx)(tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queries.UpdateOrgTimezone, orgID, tz, next.gen); err != nil {
			return fmt.Errorf("billing: set time zone: %w", err)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Total, out.Events, out.CaughtUp = time.Since(start), next.events, next.events-built
	s.timezoneStep(TimezoneSwitched)
	// The old generation, which no reader or writer uses any more.
	if err := deleteOtherGens(ctx, conn, orgID, next.gen); err != nil {
		return out, err
	}
	return out, nil
}

// liveRollup is the org's live rollup generation and the zone it is cut in.
type liveRollup struct {
	Gen      int    `db:"rollup_gen"`
	Timezone string `db:"timezone"`
}

// rollupHorizon is what a time zone change keeps of the rollup when months of events were
// detached: the days before KeepBefore; the events from RebuildFrom on are rebuilt. Both
// noHorizon when nothing was detached (select-rollup-horizon in partitions.sql).
type rollupHorizon struct {
	KeepBefore  string `db:"keep_before"`
	RebuildFrom string `db:"rebuild_from"`
}

const noHorizon = "-infinity"

// deleteOtherGens deletes the org's rollup rows of every generation but gen.
func deleteOtherGens(ctx context.Context, conn *sqlx.Conn, orgID string, gen int) error {
	for _, q := range []string{queries.DeleteOtherDailyGens, queries.DeleteOtherFlowGens, queries.DeleteOtherWeeklyGens} {
		if _, err := conn.ExecContext(ctx, q, orgID, gen); err != nil {
			return fmt.Errorf("billing: delete old usage rollup: %w", err)
		}
	}
	return nil
}

// Steps of ChangeTimezone at which a test hook runs (see timezoneStep).
const (
	TimezoneBuilt    = "built"     // the new rollup holds the events of the build's snapshot
	TimezoneCaughtUp = "caught up" // … and those of the catch-up outside the lock
	TimezoneSwitched = "switched"  // the org reads the new generation; the old one is still there
)

// timezoneStep runs the test hook, if any, between ChangeTimezone's steps.
func (s *Service) timezoneStep(step string) {
	if s.timezoneHook != nil {
		s.timezoneHook(step)
	}
}

// rollupBuild is a generation of the org's rollups being built: its events up to entry id
// seen, days cut in tz from instant from on, and in keptTZ before it (the kept days of detached
// months).
type rollupBuild struct {
	org, tz string
	gen     int
	keptTZ  string
	from    string
	seen    int64 // the highest entry id added
	events  int64 // events added
}

// catchUp adds the events that arrived since the last step, reading only recent block ranges.
func (b *rollupBuild) catchUp(ctx context.Context) func(tx *sqlx.Tx) error {
	return func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, queries.SetCatchUpPlan); err != nil {
			return fmt.Errorf("billing: catch-up plan: %w", err)
		}
		return b.run(ctx, tx, queries.CatchUpRollupGen, b.keptTZ, b.from)
	}
}

// run adds the events with an entry id above b.seen through query (org, zone, seen, gen, then
// more).
func (b *rollupBuild) run(ctx context.Context, tx *sqlx.Tx, query string, more ...any) error {
	var r struct {
		Seen   int64 `db:"seen"`
		Events int64 `db:"events"`
	}
	if err := tx.GetContext(ctx, &r, query, append([]any{b.org, b.tz, b.seen, b.gen}, more...)...); err != nil {
		return fmt.Errorf("billing: rebuild usage rollup: %w", err)
	}
	b.seen, b.events = r.Seen, b.events+r.Events
	return nil
}

// inConnTx runs fn in a transaction on conn, committing when fn returns nil.
func inConnTx(ctx context.Context, conn *sqlx.Conn, fn func(tx *sqlx.Tx) error) error {
	return inConnTxOpts(ctx, conn, nil, fn)
}

// inConnTxOpts runs fn in a transaction on conn with opts, committing when fn returns nil.
func inConnTxOpts(ctx context.Context, conn *sqlx.Conn, opts *sql.TxOptions, fn func(tx *sqlx.Tx) error) error {
	tx, err := conn.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("billing: begin: %w", err)
	}
	return finishTx(tx, fn)
}

// lockAccountRow takes the organization's ledger lock; ENOTFOUND when it has no account.
func lockAccountRow(ctx context.Context, tx *sqlx.Tx, orgID string) error {
	var id string
	if err := tx.GetContext(ctx, &id, queries.LockAccountRow, orgID); err != nil {
		return NotFound(err, "organization not found", "lock account")
	}
	return nil
}

// checkTimezone asks PostgreSQL whether it knows tz too (its zone database may differ).
func checkTimezone(ctx context.Context, q sqlx.QueryerContext, tz string) error {
	var out string
	err := sqlx.GetContext(ctx, q, &out, queries.CheckTimezone, tz)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "22023" {
		return Errorf(EINVALID, "the database does not know the time zone %q: use another IANA name", tz)
	}
	if err != nil {
		return fmt.Errorf("billing: check time zone: %w", err)
	}
	return nil
}
