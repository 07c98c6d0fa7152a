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

// SetTimezone sets the organization's time zone and rebuilds its daily usage rollup from its
// usage events, days cut in the new zone, so that reports, charts and CSVs agree with the raw
// events in the zone the organization now uses. The change and the rebuild are one transaction
// holding the organization's ledger lock (the row usage ingestion locks), so readers see the
// old rollup or the new one and no usage batch interleaves; a batch that was waiting for the
// lock reads the new zone (the lock statements take SHARE on the org row, so they see its
// latest version). The cost grows with the organization's number of events (seconds for
// millions), during which its ingestion waits. Setting the current zone again rebuilds too (a
// repair). An unknown zone is EINVALID (see ValidateTimezone); an unknown organization
// ENOTFOUND.
func (s *Service) SetTimezone(ctx context.Context, orgID, tz string) error {
	if err := ValidateTimezone(tz); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkTimezone(ctx, tx, tz); err != nil {
			return err
		}
		if err := lockAccountRow(ctx, tx, orgID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, queries.UpdateOrgTimezone, orgID, tz); err != nil {
			return fmt.Errorf("billing: set time zone: %w", err)
		}
		return rebuildDaily(ctx, tx, orgID, tz)
	})
}

// lockAccountRow takes the organization's ledger lock; ENOTFOUND when it has no account.
func lockAccountRow(ctx context.Context, tx *sqlx.Tx, orgID string) error {
	var id string
	if err := tx.GetContext(ctx, &id, queries.LockAccountRow, orgID); err != nil {
		return NotFound(err, "organization not found", "lock account")
	}
	return nil
}

// rebuildDaily replaces the organization's daily rollup with one computed from its events.
func rebuildDaily(ctx context.Context, tx *sqlx.Tx, orgID, tz string) error {
	if _, err := tx.ExecContext(ctx, queries.SetRebuildMemory); err != nil {
		return fmt.Errorf("billing: rebuild memory: %w", err)
	}
	if _, err := tx.ExecContext(ctx, queries.DeleteUsageDaily, orgID); err != nil {
		return fmt.Errorf("billing: clear usage rollup: %w", err)
	}
	if _, err := tx.ExecContext(ctx, queries.RebuildUsageDaily, orgID, tz); err != nil {
		return fmt.Errorf("billing: rebuild usage rollup: %w", err)
	}
	return nil
}

// checkTimezone asks PostgreSQL whether it knows tz too (its zone database may differ).
func checkTimezone(ctx context.Context, tx *sqlx.Tx, tz string) error {
	var out string
	err := tx.GetContext(ctx, &out, queries.CheckTimezone, tz)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "22023" {
		return Errorf(EINVALID, "the database does not know the time zone %q: use another IANA name", tz)
	}
	if err != nil {
		return fmt.Errorf("billing: check time zone: %w", err)
	}
	return nil
}
