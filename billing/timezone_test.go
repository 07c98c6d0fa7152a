package billing_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// A time zone change rebuilds the rollups beside the live ones while usage goes on: the org's
// ledger lock is free between the steps (another session takes it, and usage is recorded
// there), reports read one generation at every step (their totals are every event once), and
// every event recorded before, during and between the steps is in the new rollups exactly
// once — they equal the rollup computed from scratch from the events — through either
// ingestion path. Another org's usage, recorded meanwhile, is left alone.
func TestSetTimezone_IngestionGoesOnDuringTheRebuildAndCountsOnce(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"one round trip", "Go path"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			f := billingtest.NewFixture(t, "pro")
			if path == "Go path" {
				billing.SlowPathOnly(f.Svc)
			}
			other, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Other", PlanCode: "pro", Timezone: "Asia/Tokyo"}, f.Admin)
			if err != nil {
				t.Fatal(err)
			}
			// Around midnight in the zones below, so that a wrong zone moves the day.
			event := func(id string, i int) billing.UsageEvent {
				when := billingtest.T0.Add(-time.Duration(i%400) * 37 * time.Minute)
				return billing.UsageEvent{ID: id, FlowID: fmt.Sprintf("flow_%d", i%3), ExecutionID: fmt.Sprintf("x%d", i%7),
					Type: "sms", Quantity: int64(1 + i%4), OccurredAt: when}
			}
			record := func(org, prefix string, n int) {
				var batch []billing.UsageEvent
				for j := range n {
					batch = append(batch, event(fmt.Sprintf("%s_%d", prefix, j), j))
				}
				if _, err := f.Svc.RecordUsage(ctx, org, f.Admin, batch); err != nil {
					t.Error(err)
				}
			}
			record(f.Org, "before", 300)
			record(other, "before", 50)

			// Clients record usage for both orgs until the change is done. Each batch holds
			// pause for reading, so that a step can wait until no batch is in flight.
			var pause sync.RWMutex
			batches := make(chan struct{}) // a send per batch recorded while a step listens
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var during atomic.Int64
			for c, org := range []string{f.Org, f.Org, f.Org, other} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						pause.RLock()
						var batch []billing.UsageEvent
						for j := range 3 {
							batch = append(batch, event(fmt.Sprintf("c%d_%d_%d", c, i, j), i*3+j))
						}
						_, err := f.Svc.RecordUsage(ctx, org, f.Admin, batch)
						pause.RUnlock()
						if err != nil {
							t.Error(err)
							return
						}
						during.Add(3)
						select {
						case batches <- struct{}{}:
						default:
						}
					}
				}()
			}
			var steps []string
			billing.OnTimezoneStep(f.Svc, func(step string) {
				steps = append(steps, step)
				// No batch in flight: the lock is free unless the change holds it.
				pause.Lock()
				tx := f.DB.MustBegin()
				var id string
				if err := tx.Get(&id, `SELECT org_id FROM accounts WHERE org_id = $1 FOR UPDATE NOWAIT`, f.Org); err != nil {
					t.Errorf("at step %q the org's ledger lock is held: %v", step, err)
				}
				_ = tx.Rollback()
				// Readers see one generation: the report's total is every event once.
				var events int64
				if err := f.DB.Get(&events, `SELECT count(*) FROM usage_events WHERE org_id = $1`, f.Org); err != nil {
					t.Error(err)
				}
				q := reports.Query{From: reports.DateOf(billingtest.T0, time.UTC).AddDays(-30), To: reports.DateOf(billingtest.T0, time.UTC).AddDays(1)}
				for _, g := range reports.GroupBys {
					q.GroupBy = g
					if r, err := f.Reports.UsageReport(ctx, f.Org, q); err != nil || r.Total.Events != events {
						t.Errorf("at step %q a report by %s counts %+v of %d events (%v)", step, g, r.Total, events, err)
					}
				}
				pause.Unlock()
				// Usage recorded between the steps, here and by the clients.
				record(f.Org, "step_"+strings.ReplaceAll(step, " ", "_"), 4)
				for range 5 {
					<-batches
				}
			})
			change, err := f.Svc.ChangeTimezone(ctx, f.Org, "Pacific/Chatham")
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{billing.TimezoneBuilt, billing.TimezoneCaughtUp, billing.TimezoneSwitched}; !slices.Equal(steps, want) {
				t.Errorf("steps %q, want %q", steps, want)
			}
			// The first two steps' own batches (8 events) and at least 10 client batches came
			// after the build's snapshot.
			if change.CaughtUp < 8+10*3 || change.Events < 300+change.CaughtUp {
				t.Errorf("%+v: the events recorded during the change were not caught up", change)
			}
			assertRollupIsTheEvents(t, f, f.Org, "Pacific/Chatham")
			assertRollupIsTheEvents(t, f, other, "Asia/Tokyo")
			if during.Load() < 30 {
				t.Errorf("only %d events recorded during the change", during.Load())
			}
			billingtest.AssertLedger(t, f.DB, f.Org)
			billingtest.AssertLedger(t, f.DB, other)
		})
	}
}

// Rebuilding into the zone the org has already (a repair) and into another zone leaves the
// rollup the events make in that zone; an org without events gets an empty rollup.
func TestSetTimezone_RollupEqualsARebuildFromScratch(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	if err := f.Svc.SetTimezone(ctx, f.Org, "Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	assertRollupIsTheEvents(t, f, f.Org, "Europe/Berlin")
	for i := range 40 {
		f.Record(t, billing.UsageEvent{ID: fmt.Sprintf("e%d", i), FlowID: fmt.Sprintf("flow_%d", i%2), ExecutionID: "x",
			Type: "ai", Model: "claude-haiku", Quantity: 1000, OccurredAt: billingtest.T0.Add(-time.Duration(i) * 5 * time.Hour)})
	}
	for _, tz := range []string{"America/Los_Angeles", "America/Los_Angeles", "UTC"} {
		change, err := f.Svc.ChangeTimezone(ctx, f.Org, tz)
		if err != nil {
			t.Fatal(err)
		}
		if change.Events != 40 || change.CaughtUp != 0 || change.Locked > change.Total {
			t.Errorf("%s: %+v, want 40 events, none caught up", tz, change)
		}
		assertRollupIsTheEvents(t, f, f.Org, tz)
		if cs := f.CreditSummary(t); cs.Timezone != tz {
			t.Errorf("zone %s, want %s", cs.Timezone, tz)
		}
	}
}

// Two changes of one org at once run one after the other: the rollups end in the zone the org
// ends with, in one generation.
func TestSetTimezone_ConcurrentChangesLeaveOneGeneration(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	for i := range 30 {
		f.Record(t, billing.UsageEvent{ID: fmt.Sprintf("e%d", i), FlowID: "flow", ExecutionID: "x",
			Type: "sms", Quantity: 1, OccurredAt: billingtest.T0.Add(-time.Duration(i) * 3 * time.Hour)})
	}
	var wg sync.WaitGroup
	for _, tz := range []string{"Asia/Tokyo", "America/Denver", "Europe/Lisbon"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.Svc.SetTimezone(ctx, f.Org, tz); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var gen int
	if err := f.DB.Get(&gen, `SELECT rollup_gen FROM orgs WHERE id = $1`, f.Org); err != nil {
		t.Fatal(err)
	}
	if gen != 3 {
		t.Errorf("generation %d after three changes, want 3", gen)
	}
	assertRollupIsTheEvents(t, f, f.Org, f.CreditSummary(t).Timezone)
}

// assertRollupIsTheEvents checks that org's live usage_daily generation is its events cut in
// zone tz and that no other generation is left (the per-flow rollups are checked against it by
// AssertLedger).
func assertRollupIsTheEvents(t *testing.T, f *billingtest.Fixture, org, tz string) {
	t.Helper()
	var diff, rows, others int
	err := f.DB.Get(&diff, `
		WITH r AS (SELECT org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events FROM usage_daily
		           WHERE org_id = $1 AND gen = (SELECT rollup_gen FROM orgs WHERE id = $1)),
		     e AS (`+rebuildQuery()+`)
		SELECT (SELECT count(*) FROM (SELECT * FROM r EXCEPT ALL SELECT * FROM e) a)
		     + (SELECT count(*) FROM (SELECT * FROM e EXCEPT ALL SELECT * FROM r) b)`, org, tz)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.DB.Get(&rows, `SELECT count(*) FROM usage_daily WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	if diff != 0 {
		t.Errorf("%d of the %d rollup rows of %s differ from its events cut in %s", diff, rows, org, tz)
	}
	err = f.DB.Get(&others, `SELECT (SELECT count(*) FROM usage_daily WHERE org_id = $1 AND gen <> o.rollup_gen)
		+ (SELECT count(*) FROM usage_flow_daily WHERE org_id = $1 AND gen <> o.rollup_gen)
		+ (SELECT count(*) FROM usage_flow_weekly WHERE org_id = $1 AND gen <> o.rollup_gen) FROM orgs o WHERE o.id = $1`, org)
	if err != nil {
		t.Fatal(err)
	}
	if others != 0 {
		t.Errorf("%d rollup rows of %s are left in other generations", others, org)
	}
	billingtest.AssertLedger(t, f.DB, org)
}

// rebuildQuery is rebuild-usage-daily without its semicolon, for use as a subquery.
func rebuildQuery() string {
	q, _, _ := strings.Cut(billing.RebuildUsageDailyQuery, ";")
	return q
}
