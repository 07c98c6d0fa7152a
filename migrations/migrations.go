// Package migrations holds the forward-only SQL migrations, embedded into the binary and
// applied with goose.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/pressly/goose/v3"
)

// Files are the migration files.
//
//go:embed *.sql
var Files embed.FS

// Up applies every migration not yet applied. Concurrent servers starting together are safe:
// goose takes a session lock. Numbers are reserved in ranges per capability, so a migration may
// land after one with a higher number: it is applied all the same (out of order), never skipped.
func Up(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, Files, goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up: %w", err)
	}
	return nil
}
