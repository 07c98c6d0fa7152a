// Package billing is the core of the Lux billing domain: credits in integer millicredits, the
// rate card, orgs' accounts, grants and the append-only ledger, usage ingestion, cycles, limits
// and pause rules, and the Store every part of the domain shares. Identity (billing/identity),
// reports (billing/reports) and each capability are sub-packages built over the core; only the
// core writes the ledger tables (see docs/DESIGN.md, "The map"). It knows nothing of HTTP,
// sessions or views; it owns its transactions and its SQL (queries.sql).
package billing

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Service is the core of the domain: accounts, grants, the ledger, ingestion, cycles, pause
// rules and the credit summary. It embeds the Store the other parts share and is the only code
// that writes the ledger tables. It is safe for concurrent use; any number of servers may run
// one against the same database.
type Service struct {
	*Store
	rates *RateCard

	lanes     int                                     // groups in flight at once, per kind
	usage     coalescer[*UsageResult, *usageJob]      // usage batches share transactions
	authorize coalescer[*authorizeRow, *authorizeJob] // authorize requests share reads
	slowOnly  bool                                    // tests: record every group through the Go path (ingest_fast.go)
	fastMax   int                                     // tests: the largest group of the fast path; 0: fastPathMaxEvents
	fastRuns  atomic.Int64

	timezoneHook func(step string) // tests: runs between ChangeTimezone's steps

	planPrices   planPrices // monthly price of each plan: configuration over the plans table
	planInvoicer PlanInvoicer
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests and the demo data walk a clock).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLanes sets how many groups of coalesced requests (usage transactions, authorize reads)
// run at once; n < 1 means DefaultLanes().
func WithLanes(n int) Option {
	return func(s *Service) {
		if n >= 1 {
			s.lanes = n
		}
	}
}

// WithLogger sets the logger for background work.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the core on db, loading the rate card.
func New(ctx context.Context, db *sqlx.DB, opts ...Option) (*Service, error) {
	s := &Service{Store: newStore(db), lanes: DefaultLanes()}
	for _, o := range opts {
		o(s)
	}
	s.usage = newCoalescer[*UsageResult, *usageJob](s.lanes, maxCoalescedEvents)
	s.authorize = newCoalescer[*authorizeRow, *authorizeJob](s.lanes, 0)
	rows, err := loadRateCard(ctx, db)
	if err != nil {
		return nil, err
	}
	s.rates = NewRateCard(rows)
	if err := s.loadPlanPrices(ctx); err != nil {
		return nil, err
	}
	s.OnNotify("lux_rate_card", func() {
		if err := s.ReloadRates(context.Background()); err != nil {
			s.log.Error("reload rate card", "err", err)
		}
	})
	return s, nil
}

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

// Watch keeps the server's in-memory copies in step with the database: each channel with a
// hook (OnNotify) is listened to — the rate card (lux_rate_card), the API key cache (lux_auth).
// Once listening, and after every reconnect, changes may have been missed, so every hook runs.
// It returns when ctx ends.
func (s *Service) Watch(ctx context.Context, dsn string) {
	l := pq.NewListener(dsn, time.Second, time.Minute, func(ev pq.ListenerEventType, err error) {
		if err != nil {
			s.log.Warn("database listener", "err", err)
		}
	})
	defer l.Close()
	for _, ch := range s.channels() {
		if err := l.Listen(ch); err != nil {
			s.log.Error("database listener: listen", "channel", ch, "err", err)
			return
		}
	}
	// A change committed between the copies' first load (New) and the LISTEN above notified no
	// one here: a replica starting while a price changed would keep the old price until the
	// next change. Now that every change is heard, load the copies once more.
	s.notify("")
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-l.Notify:
			if n == nil {
				s.notify("")
			} else {
				s.notify(n.Channel)
			}
		case <-time.After(5 * time.Minute):
			go func() { _ = l.Ping() }()
		}
	}
}
