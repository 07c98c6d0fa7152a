// Package billing is the Lux billing domain: credits in integer millicredits, the rate card,
// grants and the append-only ledger, usage ingestion, cycles and pause rules. It knows nothing
// of HTTP, sessions or views; it owns its transactions and its SQL (queries.sql).
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
	"github.com/lib/pq"
)

// Service is the billing domain's entry point. It is safe for concurrent use; any number of
// servers may run one against the same database.
type Service struct {
	db    *sqlx.DB
	now   func() time.Time
	rates *RateCard
	log   *slog.Logger

	coalescer coalescer // usage batches of one org share transactions
	keys      keyCache  // recently authenticated API keys
	stmts     *stmtCache
	zones     sync.Map // time zone name → *time.Location
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests and the demo seed walk a clock).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets the logger for background work.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns a Service on db, loading the rate card.
func New(ctx context.Context, db *sqlx.DB, opts ...Option) (*Service, error) {
	s := &Service{db: db, now: time.Now, log: slog.Default(), stmts: &stmtCache{db: db}}
	for _, o := range opts {
		o(s)
	}
	rows, err := loadRateCard(ctx, db)
	if err != nil {
		return nil, err
	}
	s.rates = NewRateCard(rows)
	return s, nil
}

// DB returns the service's database handle (for readiness checks).
func (s *Service) DB() *sqlx.DB { return s.db }

// Now returns the service's current time.
func (s *Service) Now() time.Time { return s.now() }

// Rates returns the in-memory rate card.
func (s *Service) Rates() *RateCard { return s.rates }

// ReloadRates reads the rate card from the database again.
func (s *Service) ReloadRates(ctx context.Context) error {
	rows, err := loadRateCard(ctx, s.db)
	if err != nil {
		return err
	}
	s.rates.set(rows)
	return nil
}

// Watch keeps the server's in-memory copies in step with the database: the rate card
// (channel lux_rate_card) and the API key cache (channel lux_auth), both notified by triggers.
// After a reconnect, changes may have been missed, so both are refreshed. It returns when ctx
// ends.
func (s *Service) Watch(ctx context.Context, dsn string) {
	l := pq.NewListener(dsn, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			s.log.Warn("database listener", "err", err)
		}
	})
	defer l.Close()
	for _, ch := range []string{"lux_rate_card", "lux_auth"} {
		if err := l.Listen(ch); err != nil {
			s.log.Error("database listener: listen", "channel", ch, "err", err)
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n == nil || n.Channel == "lux_auth" {
				s.keys.clear()
			}
			if n == nil || n.Channel == "lux_rate_card" {
				if err := s.ReloadRates(ctx); err != nil && ctx.Err() == nil {
					s.log.Error("reload rate card", "err", err)
				}
			}
		case <-time.After(5 * time.Minute):
			go func() { _ = l.Ping() }()
		}
	}
}

// inTx runs fn in a transaction, committing when fn returns nil.
func (s *Service) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
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

// notFound turns sql.ErrNoRows into an ENOTFOUND error with msg, and wraps anything else.
func notFound(err error, msg, op string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &Error{Code: ENOTFOUND, Message: msg}
	}
	return fmt.Errorf("billing: %s: %w", op, err)
}
