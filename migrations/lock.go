package migrations

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/pressly/goose/v3/lock"
)

// serial makes servers that start together on one database apply the migrations one after the
// other: a session advisory lock, held while goose reads and applies the pending migrations. The
// others wait for it (pg_advisory_lock) and then find nothing left to apply. goose's own
// PostgreSQL locker polls every 5 s, which would add seconds to the start of every replica that
// lost the race; without a locker, two servers starting together both apply migration 1 and one
// of them fails. The key is goose's, so goose's own tools wait for lux and the other way round.
type serial struct{}

func (serial) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		return fmt.Errorf("migrations: lock: %w", err)
	}
	return nil
}

func (serial) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var released bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, lock.DefaultLockID).Scan(&released); err != nil {
		return fmt.Errorf("migrations: unlock: %w", err)
	}
	if !released {
		return fmt.Errorf("migrations: unlock: the session did not hold the migration lock")
	}
	return nil
}
