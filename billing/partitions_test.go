package billing_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
)

// partitionOf names the partition that holds org's event id.
func partitionOf(t *testing.T, db *sqlx.DB, org, id string) string {
	t.Helper()
	var name string
	if err := db.Get(&name, `SELECT tableoid::regclass::text FROM usage_events WHERE org_id = $1 AND id = $2`, org, id); err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	return name
}

func partitionNames(t *testing.T, db *sqlx.DB) map[string]bool {
	t.Helper()
	var names []string
	if err := db.Select(&names, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'usage_events'::regclass`); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out
}

func TestUsagePartitions_CreatedAheadOnceByRacingSchedulers(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro") // clock at 2026-03-31
	// Recorded before its month has a partition: it waits in the default partition.
	f.Record(t, billing.UsageEvent{ID: "before", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1})
	if p := partitionOf(t, f.DB, f.Org, "before"); p != billing.DefaultPartition {
		t.Fatalf("an event of a month without a partition is in %s, want the default partition", p)
	}

	const schedulers = 4
	var wg sync.WaitGroup
	created := make([][]string, schedulers)
	errs := make([]error, schedulers)
	start := make(chan struct{})
	for i := range schedulers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			created[i], errs[i] = billing.EnsureUsagePartitions(ctx, f.DB, f.Clock.Now(), billing.PartitionsAhead)
		}()
	}
	close(start)
	wg.Wait()
	made := map[string]int{}
	for i := range schedulers {
		if errs[i] != nil {
			t.Fatalf("scheduler %d: %v", i, errs[i])
		}
		for _, n := range created[i] {
			made[n]++
		}
	}
	names := partitionNames(t, f.DB)
	for _, want := range []string{"usage_events_2026_03", "usage_events_2026_04", "usage_events_2026_05", "usage_events_2026_06"} {
		if !names[want] {
			t.Errorf("partition %s missing after the schedulers ran", want)
		}
		if made[want] != 1 {
			t.Errorf("partition %s reported created %d times, want once", want, made[want])
		}
	}
	if names["usage_events_2026_07"] {
		t.Errorf("a partition more than %d months ahead was created", billing.PartitionsAhead)
	}
	if p := partitionOf(t, f.DB, f.Org, "before"); p != "usage_events_2026_03" {
		t.Errorf("the default partition's event of March is in %s after March's partition was created", p)
	}
	again, err := billing.EnsureUsagePartitions(ctx, f.DB, f.Clock.Now(), billing.PartitionsAhead)
	if err != nil || len(again) != 0 {
		t.Errorf("a second run created %v (%v), want nothing", again, err)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestUsagePartitions_PastEventWaitsInDefaultUntilItsMonthIsCreated(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	if _, err := f.Svc.EnsureUsagePartitions(ctx); err != nil {
		t.Fatal(err)
	}
	old := time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC) // 315 days before the clock
	f.Record(t,
		billing.UsageEvent{ID: "old", FlowID: "f", ExecutionID: "x1", Type: "sms", Quantity: 2, OccurredAt: old},
		billing.UsageEvent{ID: "old-edge", FlowID: "f", ExecutionID: "x1", Type: "sms", Quantity: 1, OccurredAt: time.Date(2025, 5, 31, 23, 59, 59, 0, time.UTC)},
		billing.UsageEvent{ID: "june", FlowID: "f", ExecutionID: "x1", Type: "sms", Quantity: 1, OccurredAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		billing.UsageEvent{ID: "now", FlowID: "f", ExecutionID: "x1", Type: "sms", Quantity: 1})
	for _, id := range []string{"old", "old-edge", "june"} {
		if p := partitionOf(t, f.DB, f.Org, id); p != billing.DefaultPartition {
			t.Fatalf("event %s of a month without a partition is in %s", id, p)
		}
	}
	if p := partitionOf(t, f.DB, f.Org, "now"); p != "usage_events_2026_03" {
		t.Fatalf("this month's event is in %s", p)
	}
	created, err := f.Svc.EnsureUsagePartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(created, ",") != "usage_events_2025_05,usage_events_2025_06" {
		t.Errorf("created %v, want the partitions of May and June 2025", created)
	}
	for id, want := range map[string]string{"old": "usage_events_2025_05", "old-edge": "usage_events_2025_05", "june": "usage_events_2025_06"} {
		if p := partitionOf(t, f.DB, f.Org, id); p != want {
			t.Errorf("event %s is in %s after its month's partition was created, want %s", id, p, want)
		}
	}
	var inDefault int
	if err := f.DB.Get(&inDefault, `SELECT count(*) FROM usage_events_default`); err != nil || inDefault != 0 {
		t.Errorf("%d rows left in the default partition (%v)", inDefault, err)
	}
	// The drill-down reads the execution across partitions, in the order the events happened.
	rows, err := f.Reports.ExecutionEvents(ctx, f.Org, "x1", 10)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "old,old-edge,june,now" {
		t.Errorf("execution events %v, want old,old-edge,june,now", ids)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

// A retry of an event sent without occurredAt, next month: the event takes its receipt time, so
// the retry's would-be row belongs to another month's partition. It is found as a duplicate by
// its key all the same, through both ingestion paths, and charged once; another body is 409.
func TestRecordUsage_RetryAcrossAMonthBoundaryIsADuplicate(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"one round trip", "statements"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			f := billingtest.NewFixture(t, "pro")
			if path == "statements" {
				billing.SlowPathOnly(f.Svc)
			}
			if _, err := f.Svc.EnsureUsagePartitions(ctx); err != nil {
				t.Fatal(err)
			}
			e := billing.UsageEvent{ID: "evt_retry", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 3} // no occurredAt
			first := f.Record(t, e)
			if first.Results[0].Duplicate {
				t.Fatal("the first send is reported a duplicate")
			}
			f.Clock.Set(time.Date(2026, 4, 2, 10, 0, 0, 0, time.UTC)) // the next month, a new cycle
			if _, err := f.Svc.EnsureUsagePartitions(ctx); err != nil {
				t.Fatal(err)
			}
			again := f.Record(t, e)
			if !again.Results[0].Duplicate || again.Results[0].Credits != first.Results[0].Credits {
				t.Fatalf("retry next month: duplicate %v, %s credits; want a duplicate of %s credits",
					again.Results[0].Duplicate, again.Results[0].Credits, first.Results[0].Credits)
			}
			// With a new event beside it: the batch is recorded, the retry not charged again.
			mixed := f.Record(t, e, billing.UsageEvent{ID: "evt_new", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 1})
			if !mixed.Results[0].Duplicate || mixed.Results[1].Duplicate {
				t.Fatalf("retry beside a new event: duplicates %v, %v", mixed.Results[0].Duplicate, mixed.Results[1].Duplicate)
			}
			var rows, keys int
			_ = f.DB.Get(&rows, `SELECT count(*) FROM usage_events WHERE org_id = $1 AND id = 'evt_retry'`, f.Org)
			_ = f.DB.Get(&keys, `SELECT count(*) FROM usage_event_keys WHERE org_id = $1 AND id = 'evt_retry'`, f.Org)
			if rows != 1 || keys != 1 {
				t.Errorf("evt_retry has %d event rows and %d keys, want one of each", rows, keys)
			}
			if p := partitionOf(t, f.DB, f.Org, "evt_retry"); p != "usage_events_2026_03" {
				t.Errorf("evt_retry is in %s, want March's partition", p)
			}
			if p := partitionOf(t, f.DB, f.Org, "evt_new"); p != "usage_events_2026_04" {
				t.Errorf("evt_new is in %s, want April's partition", p)
			}
			if path == "one round trip" && billing.FastGroups(f.Svc) == 0 {
				t.Error("no group went through record_usage")
			}
			var charged int64
			if err := f.DB.Get(&charged, `SELECT -sum(amount_mc) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage'`, f.Org); err != nil {
				t.Fatal(err)
			}
			if want := int64(first.Results[0].Credits + mixed.Results[1].Credits); charged != want {
				t.Errorf("usage entries add up to %d mc, want %d (each event once)", charged, want)
			}

			conflict := e
			conflict.Quantity = 4
			_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{conflict})
			if billing.ErrorCode(err) != billing.ECONFLICT {
				t.Errorf("the id with another body next month: %v, want ECONFLICT", err)
			}
			billingtest.AssertLedger(t, f.DB, f.Org)
		})
	}
}

func TestUsagePartitions_DetachRefusesNeededMonthsAndKeepsKeys(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro") // signed up 2026-03-31 09:30
	docs := documents.New(f.DB, documents.Config{}, documents.WithClock(f.Clock.Now))
	old := billing.UsageEvent{ID: "evt_old", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 2, OccurredAt: time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)}
	f.Record(t, old, billing.UsageEvent{ID: "evt_march", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 1})
	if _, err := f.Svc.EnsureUsagePartitions(ctx); err != nil {
		t.Fatal(err)
	}
	if p := partitionOf(t, f.DB, f.Org, "evt_old"); p != "usage_events_2025_06" {
		t.Fatalf("evt_old is in %s", p)
	}

	// Two cycles later, statements not issued yet: June 2025's event was received in the first
	// cycle, whose statement will read it.
	f.Clock.Set(time.Date(2026, 6, 5, 12, 0, 0, 0, time.UTC))
	if _, err := f.Svc.RollOverDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	_, err := f.Svc.DetachUsageMonths(ctx, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	if billing.ErrorCode(err) != billing.EINVALID || !strings.Contains(billing.ErrorMessage(err), "statement not issued yet") {
		t.Fatalf("detach of a month a statement still needs: %v", err)
	}
	if !partitionNames(t, f.DB)["usage_events_2025_06"] {
		t.Fatal("a refused month was detached")
	}

	if _, err := docs.IssueDueStatements(ctx, 10); err != nil {
		t.Fatal(err)
	}
	// Months of the open cycle (May 31 – June 30) are refused, and nothing is detached.
	_, err = f.Svc.DetachUsageMonths(ctx, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	if billing.ErrorCode(err) != billing.EINVALID || !strings.Contains(billing.ErrorMessage(err), "open billing cycle") {
		t.Fatalf("detach of the open cycle's month: %v", err)
	}
	if !partitionNames(t, f.DB)["usage_events_2025_06"] {
		t.Fatal("a refused run detached a month")
	}

	detached, err := f.Svc.DetachUsageMonths(ctx, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(detached) != 1 || detached[0].Name != "usage_events_2025_06" || detached[0].Events != 1 {
		t.Fatalf("detached %+v, want June 2025 with its one event", detached)
	}
	names := partitionNames(t, f.DB)
	if names["usage_events_2025_06"] || !names["usage_events_2026_03"] {
		t.Errorf("partitions after the detach: %v", names)
	}
	var archived int
	if err := f.DB.Get(&archived, `SELECT count(*) FROM usage_events_2025_06 WHERE id = 'evt_old'`); err != nil || archived != 1 {
		t.Errorf("the detached month's table holds %d of its event (%v)", archived, err)
	}
	list, err := f.Svc.UsagePartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed bool
	for _, p := range list {
		if p.Name == "usage_events_2025_06" {
			listed = p.Detached && p.Events == 1
		}
	}
	if !listed {
		t.Errorf("the listing does not show June 2025 as detached with 1 event: %+v", list)
	}
	// The archived event's key stays: a retry is a duplicate, not a second charge.
	res := f.Record(t, old)
	if !res.Results[0].Duplicate {
		t.Error("a retry of an event of a detached month was recorded again")
	}
	// Nothing re-creates a detached month; a late event of it waits in the default partition.
	f.Record(t, billing.UsageEvent{ID: "evt_late", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 1, OccurredAt: time.Date(2025, 6, 20, 0, 0, 0, 0, time.UTC)})
	if _, err := f.Svc.EnsureUsagePartitions(ctx); err != nil {
		t.Fatal(err)
	}
	if p := partitionOf(t, f.DB, f.Org, "evt_late"); p != billing.DefaultPartition {
		t.Errorf("a late event of a detached month is in %s, want the default partition", p)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)

	// A time zone change cannot rebuild the detached month from its events: its days are kept
	// (in the zone they were cut in), the rest is rebuilt, and the rollup still equals the keys.
	var june int64
	if err := f.DB.Get(&june, `SELECT sum(credits_mc) FROM usage_daily WHERE org_id = $1 AND day < '2025-07-01'`, f.Org); err != nil {
		t.Fatal(err)
	}
	// A late event of the detached month recorded during the change (after its build) is
	// added to the kept days too, in the zone they were cut in.
	var late billing.Millicredits
	billing.OnTimezoneStep(f.Svc, func(step string) {
		if step == billing.TimezoneBuilt {
			res := f.Record(t, billing.UsageEvent{ID: "evt_later", FlowID: "f", ExecutionID: "x", Type: "sms", Quantity: 1, OccurredAt: time.Date(2025, 6, 21, 0, 0, 0, 0, time.UTC)})
			late = res.Results[0].Credits
		}
	})
	if err := f.Svc.SetTimezone(ctx, f.Org, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	billing.OnTimezoneStep(f.Svc, nil)
	june += int64(late)
	var juneAfter int64
	if err := f.DB.Get(&juneAfter, `SELECT COALESCE(sum(credits_mc), 0) FROM usage_daily WHERE org_id = $1 AND day < '2025-07-01'`, f.Org); err != nil {
		t.Fatal(err)
	}
	if juneAfter != june || june == 0 {
		t.Errorf("the detached month's rollup holds %d mc after the zone change, %d before", juneAfter, june)
	}
	var recent, fromEvents int64
	_ = f.DB.Get(&recent, `SELECT COALESCE(sum(credits_mc), 0) FROM usage_daily WHERE org_id = $1 AND day >= '2025-07-02'`, f.Org)
	_ = f.DB.Get(&fromEvents, `SELECT COALESCE(sum(cost_mc), 0) FROM usage_events WHERE org_id = $1 AND occurred_at >= '2025-07-02'`, f.Org)
	if recent != fromEvents {
		t.Errorf("the rebuilt days hold %d mc, their events %d", recent, fromEvents)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}
