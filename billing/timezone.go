package billing

import (
	"context"
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
	CaughtUp      int64 // of which arrived during the rebuild (read again under the lock)
}

// SetTimezone sets the organization's time zone and rebuilds its daily usage rollup from its
// usage events, days cut in the new zone, so that reports, charts and CSVs agree with the raw
// events in the zone the organization now uses. Ingestion goes on while the rollup is rebuilt:
// the new rollup is built beside the live one, then the organization's ledger lock (the row
// ingestion locks) is taken only to add the few events recorded meanwhile, put the new rollup
// in place of the old and change the zone, in one transaction — readers see the old rollup or
// the new one, and a batch that was waiting for the lock reads the new zone (the lock
// statements take SHARE on the org row, so they see its latest version). Setting the current
// zone again rebuilds too (a repair). An unknown zone is EINVALID (see ValidateTimezone); an
// unknown organization ENOTFOUND.
func (s *Service) SetTimezone(ctx context.Context, orgID, tz string) error {
	_, err := s.ChangeTimezone(ctx, orgID, tz)
	return err
}

// ChangeTimezone is SetTimezone, reporting what the change cost.
//
// Exactly once: an organization's usage entry ids are drawn from one sequence while its ledger
// lock is held, and each usage transaction commits before the lock is released, so the events
// an organization has committed at any instant are exactly those whose entry id is at most the
// highest one committed. Each step reads, in one statement (one snapshot), the org's events
// with an entry id above the highest the previous step saw: the build reads them all, a
// catch-up outside the lock what arrived during the build, and a last catch-up under the lock
// what arrived during the first; with the lock held, nothing more arrives before the switch.
func (s *Service) ChangeTimezone(ctx context.Context, orgID, tz string) (TimezoneChange, error) {
	var out TimezoneChange
	if err := ValidateTimezone(tz); err != nil {
		return out, err
	}
	start := time.Now()
	// One session: the new rollup is built in a temporary table, private to it.
	conn, err := s.DB().Connx(ctx)
	if err != nil {
		return out, fmt.Errorf("billing: set time zone: %w", err)
	}
	defer conn.Close()
	if err := checkTimezone(ctx, conn, tz); err != nil {
		return out, err
	}
	var org string
	if err := conn.GetContext(ctx, &org, queries.SelectAccountOrg, orgID); err != nil {
		return out, NotFound(err, "organization not found", "set time zone")
	}
	for _, q := range []string{queries.DropUsageDailyNext, queries.CreateUsageDailyNext} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return out, fmt.Errorf("billing: rollup scratch table: %w", err)
		}
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), queries.DropUsageDailyNext) //nolint:errcheck // a broken session is discarded with its table

	// Detached months' events are not there to rebuild from: their days are kept as they are.
	var horizon struct {
		KeepBefore  string `db:"keep_before"`
		RebuildFrom string `db:"rebuild_from"`
	}
	if err := conn.GetContext(ctx, &horizon, partQ.selectRollupHorizon, orgID); err != nil {
		return out, fmt.Errorf("billing: rollup horizon: %w", err)
	}
	next := rollupBuild{org: orgID, tz: tz, from: horizon.RebuildFrom}
	// The build, without the lock: every event of the org, aggregated in memory.
	err = inConnTx(ctx, conn, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, queries.SetRebuildMemory); err != nil {
			return fmt.Errorf("billing: rebuild memory: %w", err)
		}
		return next.add(ctx, tx)
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
	if err := next.add(ctx, conn); err != nil {
		return out, err
	}
	s.timezoneStep(TimezoneCaughtUp)

	// Under the lock: the last events, the new rollup in place of the old, the zone.
	err = inConnTx(ctx, conn, func(tx *sqlx.Tx) error {
		locked := time.Now()
		defer func() { out.Locked = time.Since(locked) }()
		if err := lockAccountRow(ctx, tx, orgID); err != nil {
			return err
		}
		if err := next.add(ctx, tx); err != nil {
			return err
		}
		var now struct {
			KeepBefore  string `db:"keep_before"`
			RebuildFrom string `db:"rebuild_from"`
		}
		if err := tx.GetContext(ctx, &now, partQ.selectRollupHorizon, orgID); err != nil {
			return fmt.Errorf("billing: rollup horizon: %w", err)
		}
		if now.KeepBefore != horizon.KeepBefore {
			return Errorf(ECONFLICT, "months of usage were detached during the time zone change: change it again")
		}
		if _, err := tx.ExecContext(ctx, queries.DeleteUsageDaily, orgID, horizon.KeepBefore); err != nil {
			return fmt.Errorf("billing: clear usage rollup: %w", err)
		}
		if _, err := tx.ExecContext(ctx, queries.InsertUsageDailyNext); err != nil {
			return fmt.Errorf("billing: switch usage rollup: %w", err)
		}
		if _, err := tx.ExecContext(ctx, queries.UpdateOrgTimezone, orgID, tz); err != nil {
			return fmt.Errorf("billing: set time zone: %w", err)
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	out.Total, out.Events, out.CaughtUp = time.Since(start), next.events, next.events-built
	return out, nil
}

// Steps of ChangeTimezone at which a test hook runs (see timezoneStep).
const (
	TimezoneBuilt    = "built"     // the new rollup holds the events of the build's snapshot
	TimezoneCaughtUp = "caught up" // … and those of the catch-up outside the lock
)

// timezoneStep runs the test hook, if any, between ChangeTimezone's steps.
func (s *Service) timezoneStep(step string) {
	if s.timezoneHook != nil {
		s.timezoneHook(step)
	}
}

// rollupBuild is a rollup being rebuilt in usage_daily_next: the org's events up to entry id
// seen that occurred from from on, days cut in tz.
type rollupBuild struct {
	org, tz string
	from    string // '-infinity', or the first instant after the detached months (select-rollup-horizon)
	seen    int64  // the highest entry id added
	events  int64  // events added
}

// add adds the events with an entry id above b.seen.
func (b *rollupBuild) add(ctx context.Context, q sqlx.QueryerContext) error {
	var r struct {
		Seen   int64 `db:"seen"`
		Events int64 `db:"events"`
	}
	if err := sqlx.GetContext(ctx, q, &r, queries.AddUsageDailyNext, b.org, b.tz, b.seen, b.from); err != nil {
		return fmt.Errorf("billing: rebuild usage rollup: %w", err)
	}
	b.seen, b.events = r.Seen, b.events+r.Events
	return nil
}

// inConnTx runs fn in a transaction on conn, committing when fn returns nil.
func inConnTx(ctx context.Context, conn *sqlx.Conn, fn func(tx *sqlx.Tx) error) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("billing: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("billing: commit: %w", err)
	}
	return nil
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
