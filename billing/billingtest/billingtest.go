// Package billingtest gives tests their own throwaway PostgreSQL database, migrated, created
// from a template in milliseconds and dropped when the test ends, so tests run in parallel
// against a real server.
package billingtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/migrations"
)

// ServerURL is the PostgreSQL server tests use: LUX_TEST_DATABASE_URL, else the local server.
func ServerURL() string {
	if u := os.Getenv("LUX_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func withDB(server, name string) string {
	u, err := url.Parse(server)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// templateName is derived from the migrations, so a changed schema gets a new template.
func templateName() string {
	return "lux_tmpl_" + migrations.Fingerprint()[:12]
}

// ensureTemplate builds the migrated template database once per schema, across processes.
func ensureTemplate(ctx context.Context, admin *sql.DB, name string) error {
	conn, err := admin.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('lux_test_template'))`); err != nil {
		return err
	}
	defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(hashtext('lux_test_template'))`)
	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := name + "_building"
	_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(building)+" WITH (FORCE)")
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(building)); err != nil {
		return err
	}
	db, err := sql.Open("postgres", withDB(ServerURL(), building))
	if err != nil {
		return err
	}
	err = migrations.Up(ctx, db)
	db.Close()
	if err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(building)+" RENAME TO "+pq.QuoteIdentifier(name))
	return err
}

// NewDB returns a connection to a new migrated database and its URL. The database is dropped
// when the test ends.
func NewDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := sql.Open("postgres", ServerURL())
	if err != nil {
		t.Fatalf("billingtest: %v", err)
	}
	defer admin.Close()
	tmpl := templateName()
	if err := ensureTemplate(ctx, admin, tmpl); err != nil {
		t.Fatalf("billingtest: template database (is PostgreSQL running at %s?): %v", ServerURL(), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "lux_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", pq.QuoteIdentifier(name), pq.QuoteIdentifier(tmpl))); err != nil {
		t.Fatalf("billingtest: create database: %v", err)
	}
	dsn := withDB(ServerURL(), name)
	db, err := sqlx.Open("postgres", billing.WithBinaryParameters(dsn))
	if err != nil {
		t.Fatalf("billingtest: %v", err)
	}
	db.SetMaxOpenConns(40)
	t.Cleanup(func() {
		db.Close()
		a, err := sql.Open("postgres", ServerURL())
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)")
			a.Close()
		}
	})
	return db, dsn
}

// Clock is a settable clock for tests, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// NewService returns a billing service on a new database.
func NewService(t testing.TB, opts ...billing.Option) (*billing.Service, *sqlx.DB) {
	t.Helper()
	db, _ := NewDB(t)
	s, err := billing.New(context.Background(), db, opts...)
	if err != nil {
		t.Fatalf("billingtest: new service: %v", err)
	}
	return s, db
}
