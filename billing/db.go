package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// DefaultDatabaseURL is used when DATABASE_URL is not set: the local PostgreSQL, database lux.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/lux?sslmode=disable"

// OpenDB connects to the database at dsn, creating the database first when it does not exist
// and create is true.
func OpenDB(ctx context.Context, dsn string, create bool) (*sqlx.DB, error) {
	db, err := sqlx.Open("postgres", WithBinaryParameters(dsn))
	if err != nil {
		return nil, fmt.Errorf("billing: open database: %w", err)
	}
	err = db.PingContext(ctx)
	var pqErr *pq.Error
	if err != nil && create && errors.As(err, &pqErr) && pqErr.Code == "3D000" {
		db.Close()
		if err := createDatabase(ctx, dsn); err != nil {
			return nil, err
		}
		return OpenDB(ctx, dsn, false)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("billing: connect to %s: %w", redact(dsn), err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// WithBinaryParameters adds binary_parameters=yes to a URL-form dsn: lib/pq then sends a query
// with arguments in one round trip instead of two (prepare, then execute), which halves the
// round trips of every transaction. Only []byte arguments travel in binary; we pass []byte only
// for bytea columns.
func WithBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn
	}
	v := u.Query()
	if v.Get("binary_parameters") == "" {
		v.Set("binary_parameters", "yes")
		u.RawQuery = v.Encode()
	}
	return u.String()
}

// createDatabase creates the database named in dsn through the server's postgres database.
func createDatabase(ctx context.Context, dsn string) error {
	u, err := url.Parse(dsn)
	if err != nil || u.Path == "" || u.Path == "/" {
		return fmt.Errorf("billing: DATABASE_URL %s names no database", redact(dsn))
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	_, err = admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name))
	var pqErr *pq.Error
	// Created meanwhile, by another server starting at the same moment: 42P04, or 23505 when both
	// inserted the name into pg_database at once.
	if err != nil && !(errors.As(err, &pqErr) && (pqErr.Code == "42P04" || pqErr.Code == "23505")) {
		return fmt.Errorf("billing: create database %s: %w", name, err)
	}
	return nil
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable DATABASE_URL)"
	}
	return u.Redacted()
}
