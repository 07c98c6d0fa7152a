package billing_test

import (
	"context"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// A price changed after a server loaded its rate card but before its listener started (a
// replica starting while an operator changes a price) was notified to no one there: Watch loads
// the copies once more as soon as it listens, so the server does not keep the old price until
// the next change.
func TestWatch_ReloadsWhatChangedBeforeItListened(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, dsn := billingtest.NewDB(t)
	s, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if r, err := s.Rates().Find("ai", "claude-haiku", now); err != nil || r.PerUnit != 1 {
		t.Fatalf("Claude Haiku before the change: %+v, %v", r, err)
	}
	// No one listens yet: this change's notification is lost.
	if _, err := db.ExecContext(ctx, `INSERT INTO rate_card (type, model, unit, unit_size, mc_per_unit, label, effective_from)
		VALUES ('ai', 'claude-haiku', 'tokens', 1, 3, 'Claude Haiku', '2020-06-01T00:00:00Z')`); err != nil {
		t.Fatal(err)
	}
	reloaded := make(chan struct{}, 16)
	s.OnNotify("lux_rate_card", func() { // runs after the rate card's own hook, registered by New
		select {
		case reloaded <- struct{}{}:
		default:
		}
	})
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Watch(wctx, dsn); close(done) }()
	defer func() { stop(); <-done }()
	select {
	case <-reloaded:
	case <-time.After(30 * time.Second): // a bound on failure, not a wait for timing
		t.Fatal("Watch started listening without loading the rate card again: the change before it is never seen")
	}
	if r, err := s.Rates().Find("ai", "claude-haiku", now); err != nil || r.PerUnit != 3 {
		t.Fatalf("Claude Haiku after Watch started: %+v, %v; want 3 mc a token", r, err)
	}
}
