package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// Store is what the parts of the domain share: the database handle, the clock, the logger, one
// cache of prepared statements, loaded time zones and the hooks run on database notifications.
// The core (Service) embeds it; identity, reports and every capability reach it through the
// core (core.Store).
type Store struct {
	db  *sqlx.DB
	now func() time.Time
	log *slog.Logger

	stmts stmtCache
	zones sync.Map // time zone name → *time.Location

	mu    sync.Mutex
	hooks map[string][]func() // channel → run on each notification (see Watch)
}

func newStore(db *sqlx.DB) *Store {
	return &Store{db: db, now: time.Now, log: slog.Default(), stmts: stmtCache{db: db}}
}

// DB returns the database handle (readiness checks, and packages' own statements).
func (s *Store) DB() *sqlx.DB { return s.db }

// Now returns the current time of the domain's clock.
func (s *Store) Now() time.Time { return s.now() }

// Log returns the logger for background work.
func (s *Store) Log() *slog.Logger { return s.log }

// InTx runs fn in a transaction, committing when fn returns nil and rolling back otherwise.
// Public methods own their transaction and pass tx to lowercase helpers, so operations compose.
func (s *Store) InTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("billing: begin: %w", err)
	}
	return finishTx(tx, fn)
}

// finishTx runs fn in tx, committing when fn returns nil and rolling back otherwise.
func finishTx(tx *sqlx.Tx, fn func(tx *sqlx.Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("billing: commit: %w", err)
	}
	return nil
}

// OnNotify runs fn whenever PostgreSQL notifies channel (and after Watch reconnects, since
// notifications may have been missed). Register before Watch starts.
func (s *Store) OnNotify(channel string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks == nil {
		s.hooks = map[string][]func(){}
	}
	s.hooks[channel] = append(s.hooks[channel], fn)
}

// notify runs the hooks of channel; "" runs every hook.
func (s *Store) notify(channel string) {
	s.mu.Lock()
	var fns []func()
	for ch, hs := range s.hooks {
		if channel == "" || ch == channel {
			fns = append(fns, hs...)
		}
	}
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// channels lists the channels that have hooks.
func (s *Store) channels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.hooks))
	for ch := range s.hooks {
		out = append(out, ch)
	}
	return out
}

// Location returns the time zone named tz, or UTC when it is unknown. Zones are loaded once.
func (s *Store) Location(tz string) *time.Location {
	if tz == "" || tz == "UTC" {
		return time.UTC
	}
	if loc, ok := s.zones.Load(tz); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		s.log.Warn("unknown org time zone; using UTC", "tz", tz)
		return time.UTC
	}
	s.zones.Store(tz, loc)
	return loc
}

// NotFound turns sql.ErrNoRows into an ENOTFOUND error with msg, and wraps anything else with
// the operation op.
func NotFound(err error, msg, op string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &Error{Code: ENOTFOUND, Message: msg}
	}
	return fmt.Errorf("billing: %s: %w", op, err)
}

// stmtCache holds queries prepared once on the database handle. A prepared statement is
// parsed and planned once per connection (PostgreSQL then settles on a generic plan), where an
// unnamed statement is planned on every call — for the multi-CTE usage write that planning
// cost more than running it, and dashboards' report queries switch to a generic range scan.
type stmtCache struct {
	db    *sqlx.DB
	mu    sync.Mutex
	m     map[string]*sqlx.Stmt
	named map[string]*sqlx.NamedStmt
}

// Stmt returns query ($1 parameters) prepared on the database, bound to tx when tx is not nil
// (database/sql reuses the preparation on the transaction's connection).
func (s *Store) Stmt(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	c := &s.stmts
	c.mu.Lock()
	st, ok := c.m[query]
	if !ok {
		var err error
		if st, err = c.db.PreparexContext(ctx, query); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("billing: prepare: %w", err)
		}
		if c.m == nil {
			c.m = map[string]*sqlx.Stmt{}
		}
		c.m[query] = st
	}
	c.mu.Unlock()
	if tx == nil {
		return st, nil
	}
	return tx.StmtxContext(ctx, st), nil
}

// NamedStmt returns query (:name parameters) prepared on the database.
func (s *Store) NamedStmt(ctx context.Context, query string) (*sqlx.NamedStmt, error) {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.named[query]; ok {
		return st, nil
	}
	st, err := c.db.PrepareNamedContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("billing: prepare: %w", err)
	}
	if c.named == nil {
		c.named = map[string]*sqlx.NamedStmt{}
	}
	c.named[query] = st
	return st, nil
}

// Get runs a prepared query returning one row into dest.
func (s *Store) Get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := s.Stmt(ctx, tx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

// Select runs a prepared query returning rows into dest.
func (s *Store) Select(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := s.Stmt(ctx, tx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// Query runs a prepared query and returns its rows.
func (s *Store) Query(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (*sqlx.Rows, error) {
	st, err := s.Stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryxContext(ctx, args...)
}
