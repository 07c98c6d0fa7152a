// Package migrations holds the forward-only SQL migrations, embedded into the binary and
// applied with goose.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

// Files are the migration files.
//
//go:embed *.sql
var Files embed.FS

// functions are the database functions' definitions (CREATE OR REPLACE), installed after the
// migrations on every start: each function has one definition, in one file, which changes by
// editing it (a migration only drops a function that is gone or renamed).
//
//go:embed functions/*.sql
var functions embed.FS

// functionsLock is the advisory lock key under which servers starting together install the
// functions one after the other (concurrent CREATE OR REPLACE of one function fails).
const functionsLock = 0x6c75785f666e // "lux_fn"

// Up applies every migration not yet applied. Concurrent servers starting together are safe:
// goose takes a session lock. Numbers are reserved in ranges per capability, so a migration may
// land after one with a higher number: it is applied all the same (out of order), never skipped.
func Up(ctx context.Context, db *sql.DB) error {
	p, err := goose.NewProvider(goose.DialectPostgres, db, Files, goose.WithAllowOutofOrder(true), goose.WithSessionLocker(serial{}))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: up: %w", err)
	}
	return installFunctions(ctx, db)
}

// Fingerprint is a hash of every migration and function definition: databases built from the
// same fingerprint have the same schema (the tests' template databases are named by it).
func Fingerprint() string {
	h := sha256.New()
	for _, fsys := range []embed.FS{Files, functions} {
		_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := fs.ReadFile(fsys, p)
				h.Write([]byte(p))
				h.Write(b)
			}
			return nil
		})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// installFunctions creates or replaces every function of functions/, in one transaction.
func installFunctions(ctx context.Context, db *sql.DB) error {
	files, err := fs.Glob(functions, "functions/*.sql")
	if err != nil {
		return fmt.Errorf("migrations: functions: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: functions: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(functionsLock)); err != nil {
		return fmt.Errorf("migrations: functions: %w", err)
	}
	for _, f := range files {
		body, err := functions.ReadFile(f)
		if err != nil {
			return fmt.Errorf("migrations: %s: %w", f, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migrations: %s: %w", f, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: functions: %w", err)
	}
	return nil
}
