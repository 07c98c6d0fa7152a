package billing

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Limits on what the usage API accepts.
const (
	MaxBatch      = 1000                 // events in one POST /api/v1/usage
	MaxIDLength   = 128                  // characters in an event, flow, execution or user id
	MaxQuantity   = 1_000_000_000_000    // units in one event; keeps every cost far from overflow
	maxFutureSkew = 5 * time.Minute      // an event may be stamped this far ahead of our clock
	maxEventAge   = 400 * 24 * time.Hour // older events are refused as a likely clock error
)

// UsageEvent is one metered thing a flow did. UserID empty means the API key's user;
// OccurredAt zero means the time of receipt.
type UsageEvent struct {
	ID          string
	FlowID      string
	ExecutionID string
	UserID      string
	Type        string
	Model       string
	Quantity    int64
	OccurredAt  time.Time
}

// EventResult is what became of one event of a batch.
type EventResult struct {
	ID        string
	Credits   Millicredits
	Duplicate bool // the event was recorded before; it was not charged again
}

// UsageResult is the outcome of a recorded batch: one result per event in request order, and
// the organization's state after it.
type UsageResult struct {
	Results     []EventResult
	Balance     Millicredits
	Paused      bool
	PauseReason string // "" when not paused; see Reason*
	// MembersPaused lists users of the batch who have now reached their member limit.
	MembersPaused []string
}

// pricedEvent is a validated event with its cost and idempotency hash.
type pricedEvent struct {
	UsageEvent
	Cost Millicredits
	Hash []byte
}

// validateEvent checks one event's fields; index is its position for the error message.
func validateEvent(e *UsageEvent, index int) error {
	at := func(format string, args ...any) error {
		return Errorf(EINVALID, "events[%d]: %s", index, fmt.Sprintf(format, args...))
	}
	for _, f := range []struct {
		name, v  string
		required bool
	}{
		{"id", e.ID, true}, {"flowId", e.FlowID, true}, {"executionId", e.ExecutionID, true}, {"userId", e.UserID, false},
	} {
		if f.v == "" {
			if f.required {
				return at("%q is required", f.name)
			}
			continue
		}
		if len(f.v) > MaxIDLength {
			return at("%q is %d characters long; the most is %d", f.name, len(f.v), MaxIDLength)
		}
		if !printableID(f.v) {
			return at("%q may only hold visible characters (no spaces or control characters)", f.name)
		}
	}
	if e.Type == "" {
		return at("%q is required", "type")
	}
	if e.Quantity <= 0 {
		return at("%q must be a positive whole number (got %d)", "quantity", e.Quantity)
	}
	if e.Quantity > MaxQuantity {
		return at("%q is too large (the most is %d)", "quantity", int64(MaxQuantity))
	}
	return nil
}

func printableID(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// eventHash identifies an event's body as sent, for telling retries from conflicting reuse of
// an id. Defaults (userId, occurredAt) are hashed as sent, so a retry hashes the same.
func eventHash(e *UsageEvent) []byte {
	h := sha256.New()
	occurred := ""
	if !e.OccurredAt.IsZero() {
		occurred = e.OccurredAt.UTC().Format(time.RFC3339Nano)
	}
	for _, f := range []string{e.FlowID, e.ExecutionID, e.UserID, e.Type, e.Model, strconv.FormatInt(e.Quantity, 10), occurred} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

// price validates and prices a batch in memory. A type or model the card does not know makes
// the service reload the card once (it may have just changed) before refusing the batch.
func (s *Service) price(ctx context.Context, events []UsageEvent, keyUser string, now time.Time) ([]pricedEvent, error) {
	if len(events) == 0 {
		return nil, Errorf(EINVALID, "a batch needs at least one event in \"events\"")
	}
	if len(events) > MaxBatch {
		return nil, Errorf(ETOOLARGE, "a batch holds at most %d events (got %d): split it", MaxBatch, len(events))
	}
	out := make([]pricedEvent, len(events))
	reloaded := false
	for i := range events {
		e := events[i]
		if err := validateEvent(&e, i); err != nil {
			return nil, err
		}
		hash := eventHash(&e)
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
		if e.OccurredAt.After(now.Add(maxFutureSkew)) {
			return nil, Errorf(EINVALID, "events[%d]: \"occurredAt\" %s is in the future", i, e.OccurredAt.UTC().Format(time.RFC3339))
		}
		if e.OccurredAt.Before(now.Add(-maxEventAge)) {
			return nil, Errorf(EINVALID, "events[%d]: \"occurredAt\" %s is more than 400 days ago", i, e.OccurredAt.UTC().Format(time.RFC3339))
		}
		if e.UserID == "" {
			e.UserID = keyUser
		}
		rate, err := s.rates.Find(e.Type, e.Model, e.OccurredAt)
		if err != nil && !reloaded {
			reloaded = true
			if rerr := s.ReloadRates(ctx); rerr != nil {
				return nil, rerr
			}
			rate, err = s.rates.Find(e.Type, e.Model, e.OccurredAt)
		}
		if err != nil {
			return nil, Errorf(EINVALID, "events[%d]: %s", i, ErrorMessage(err))
		}
		out[i] = pricedEvent{UsageEvent: e, Cost: rate.Cost(e.Quantity), Hash: hash}
	}
	return out, nil
}

// RecordUsage records a batch of usage events for an organization, atomically: every event is
// recorded and charged, or (on any error) none is. Each event id is recorded once per org: an
// id seen before with the same body is reported as a duplicate and not charged again; with a
// different body the whole batch is refused with ECONFLICT. keyUser is the API key's user,
// the default for events without a userId; a userId that is not a member of the org is
// EINVALID. Usage is never refused for lack of credits: what no grant can pay becomes arrears.
//
// Concurrent batches of one organization are coalesced: they queue behind the transaction in
// flight and the next transaction records all of them (see coalesce.go), so one commit answers
// many requests. Each batch still succeeds or fails on its own.
func (s *Service) RecordUsage(ctx context.Context, orgID, keyUser string, events []UsageEvent) (*UsageResult, error) {
	now := s.now()
	priced, err := s.price(ctx, events, keyUser, now)
	if err != nil {
		return nil, err
	}
	job := &usageJob{priced: priced, first: make(map[string]int, len(priced)), done: make(chan jobResult, 1)}
	// One row per id: a repeated id within the batch is a duplicate of its first occurrence.
	for i := range priced {
		j, seen := job.first[priced[i].ID]
		if !seen {
			job.first[priced[i].ID] = i
			continue
		}
		if string(priced[j].Hash) != string(priced[i].Hash) {
			return nil, Errorf(ECONFLICT, "events[%d]: id %q appears twice in the batch with different contents", i, priced[i].ID)
		}
	}
	r := s.coalescer.do(orgID, job, func(jobs []*usageJob) { s.recordJobs(ctx, orgID, jobs) })
	return r.res, r.err
}

// recordJobs records queued batches of one org in as few transactions as it can: normally one.
// A batch that conflicts with what is already recorded is answered with its error and the
// others are recorded without it.
func (s *Service) recordJobs(ctx context.Context, orgID string, jobs []*usageJob) {
	// The transaction serves every queued request: one client going away must not abort it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for len(jobs) > 0 {
		failed, err := s.recordTx(ctx, orgID, jobs)
		if err != nil {
			for _, j := range jobs {
				j.done <- jobResult{err: err}
			}
			return
		}
		if len(failed) == 0 {
			return
		}
		rest := jobs[:0:0]
		for _, j := range jobs {
			if ferr, ok := failed[j]; ok {
				j.done <- jobResult{err: ferr}
			} else {
				rest = append(rest, j)
			}
		}
		jobs = rest
	}
}

// errRetry rolls back a coalesced transaction when some of its batches must be answered with an
// error found inside it; the others are recorded again without them.
var errRetry = errors.New("billing: retry without failed batches")

// recordTx records jobs in one transaction and answers each after the commit. Batches that fail
// on their own (a conflicting id, a user who is not a member) are returned in failed, with
// nothing committed when any is found after writing began.
func (s *Service) recordTx(ctx context.Context, orgID string, jobs []*usageJob) (failed map[*usageJob]error, err error) {
	failed = map[*usageJob]error{}
	now := s.now()

	// Merge the batches: the first batch to carry an id owns it; a later batch with the same id
	// and body is a duplicate, with another body a conflict.
	type owner struct {
		job *usageJob
		idx int
	}
	owners := map[string]owner{}
	var merged []*pricedEvent
	users := map[string]bool{}
	for _, j := range jobs {
		var conflict error
		for id, i := range j.first {
			if o, ok := owners[id]; ok && string(o.job.priced[o.idx].Hash) != string(j.priced[i].Hash) {
				conflict = Errorf(ECONFLICT, "events[%d]: id %q is being recorded by another request with a different body; use a new id for a new event", i, id)
				break
			}
		}
		if conflict != nil {
			failed[j] = conflict
			continue
		}
		for i := range j.priced {
			e := &j.priced[i]
			users[e.UserID] = true
			if j.first[e.ID] != i {
				continue
			}
			if _, ok := owners[e.ID]; !ok {
				owners[e.ID] = owner{j, i}
				merged = append(merged, e)
			}
		}
	}
	if len(failed) > 0 {
		return failed, nil
	}
	// Fixed insert order, so that transactions of several servers sharing ids never lock them
	// in a cycle.
	sort.Slice(merged, func(a, b int) bool { return merged[a].ID < merged[b].ID })

	answers := map[*usageJob]*UsageResult{}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		lt, err := s.lockLedger(ctx, tx, orgID, now)
		if err != nil {
			return err
		}
		members, err := s.selectMembers(ctx, tx, orgID, users, lt.acct.CycleStart)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			for i, e := range j.priced {
				if members[e.UserID] == nil {
					failed[j] = Errorf(EINVALID, "events[%d]: userId %q is not a member of this organization", i, e.UserID)
					break
				}
			}
		}
		if len(failed) > 0 {
			return errRetry
		}
		inserted, entryID, err := s.insertEvents(ctx, tx, orgID, merged, now)
		if err != nil {
			return err
		}
		stored := map[string]storedEvent{}
		if len(inserted) < len(merged) {
			if stored, err = recordedEvents(ctx, tx, orgID, merged, inserted); err != nil {
				return err
			}
			for id, st := range stored {
				o := owners[id]
				if string(st.Hash) != string(o.job.priced[o.idx].Hash) {
					failed[o.job] = Errorf(ECONFLICT, "events[%d]: id %q was already recorded with a different body; use a new id for a new event", o.idx, id)
				}
			}
			if len(failed) > 0 {
				return errRetry
			}
		}
		fresh := make([]*pricedEvent, 0, len(inserted))
		for _, e := range merged {
			if inserted[e.ID] {
				fresh = append(fresh, e)
			}
		}
		if len(fresh) > 0 {
			if err := s.charge(ctx, lt, entryID, fresh, members); err != nil {
				return err
			}
		}
		if err := lt.flush(ctx); err != nil {
			return err
		}
		reason := orgPauseReason(&lt.acct)
		for _, j := range jobs {
			res := &UsageResult{Results: make([]EventResult, len(j.priced)), Balance: lt.acct.Balance, PauseReason: reason, Paused: reason != ""}
			seen := map[string]bool{}
			for i, e := range j.priced {
				r := EventResult{ID: e.ID, Credits: e.Cost}
				o := owners[e.ID]
				if o.job != j || o.idx != i || !inserted[e.ID] {
					r.Duplicate = true
					if st, ok := stored[e.ID]; ok {
						r.Credits = st.Cost
					}
				}
				res.Results[i] = r
				if m := members[e.UserID]; !seen[e.UserID] && m.Limit != nil && m.Used >= *m.Limit {
					res.MembersPaused = append(res.MembersPaused, e.UserID)
				}
				seen[e.UserID] = true
			}
			sort.Strings(res.MembersPaused)
			answers[j] = res
		}
		return nil
	})
	if errors.Is(err, errRetry) {
		return failed, nil
	}
	if err != nil {
		return nil, err
	}
	for j, res := range answers {
		j.done <- jobResult{res: res}
	}
	return nil, nil
}

// memberUsage is a member's limit and usage in the current cycle.
type memberUsage struct {
	UserID string        `db:"user_id"`
	Limit  *Millicredits `db:"monthly_limit_mc"`
	Used   Millicredits  `db:"used_mc"`
}

// selectMembers returns the members among users with their limits and usage this cycle.
func (s *Service) selectMembers(ctx context.Context, tx *sqlx.Tx, orgID string, users map[string]bool, cycleStart time.Time) (map[string]*memberUsage, error) {
	list := make([]string, 0, len(users))
	for u := range users {
		list = append(list, u)
	}
	var rows []*memberUsage
	if err := s.stmts.selectAll(ctx, tx, &rows, q.selectMemberLimits, orgID, pq.Array(list), cycleStart); err != nil {
		return nil, fmt.Errorf("billing: member limits: %w", err)
	}
	out := make(map[string]*memberUsage, len(rows))
	for _, r := range rows {
		out[r.UserID] = r
	}
	return out, nil
}

// insertEvents writes events under one new ledger entry id and returns which ids were new.
func (s *Service) insertEvents(ctx context.Context, tx *sqlx.Tx, orgID string, events []*pricedEvent, now time.Time) (map[string]bool, int64, error) {
	n := len(events)
	ids, flows, execs, users := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	types, models := make([]string, n), make([]string, n)
	qty, cost := make([]int64, n), make([]int64, n)
	occurred := make([]string, n)
	hashes := make([][]byte, n)
	for k, e := range events {
		ids[k], flows[k], execs[k], users[k] = e.ID, e.FlowID, e.ExecutionID, e.UserID
		types[k], models[k], qty[k], cost[k] = e.Type, e.Model, e.Quantity, int64(e.Cost)
		occurred[k] = e.OccurredAt.UTC().Format(time.RFC3339Nano)
		hashes[k] = e.Hash
	}
	rows, err := s.stmts.query(ctx, tx, q.insertUsageEvents, orgID, pq.Array(ids), pq.Array(flows), pq.Array(execs),
		pq.Array(users), pq.Array(types), pq.Array(models), pq.Array(qty), pq.Array(cost), pq.Array(occurred), now,
		pq.ByteaArray(hashes))
	if err != nil {
		return nil, 0, fmt.Errorf("billing: insert usage events: %w", err)
	}
	defer rows.Close()
	inserted := make(map[string]bool, n)
	var entryID int64
	for rows.Next() {
		var id string
		if err := rows.Scan(&id, &entryID); err != nil {
			return nil, 0, fmt.Errorf("billing: insert usage events: %w", err)
		}
		inserted[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("billing: insert usage events: %w", err)
	}
	return inserted, entryID, nil
}

// storedEvent is what is kept of a recorded event for idempotency.
type storedEvent struct {
	ID   string       `db:"id"`
	Hash []byte       `db:"body_hash"`
	Cost Millicredits `db:"cost_mc"`
}

// recordedEvents returns the stored hash and cost of the events that were recorded before.
func recordedEvents(ctx context.Context, tx *sqlx.Tx, orgID string, events []*pricedEvent, inserted map[string]bool) (map[string]storedEvent, error) {
	var ids []string
	for _, e := range events {
		if !inserted[e.ID] {
			ids = append(ids, e.ID)
		}
	}
	var rows []storedEvent
	if err := tx.SelectContext(ctx, &rows, q.selectRecordedEvents, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("billing: recorded events: %w", err)
	}
	out := make(map[string]storedEvent, len(rows))
	for _, r := range rows {
		out[r.ID] = r
	}
	if len(out) != len(ids) {
		return nil, fmt.Errorf("billing: %d events neither inserted nor found", len(ids)-len(out))
	}
	return out, nil
}

// charge debits the new events' total as one usage entry and writes it with the counters and
// rollups that limits and dashboards read, in one statement. Rows are aggregated in memory
// first: a few rows per batch, not one per event.
func (s *Service) charge(ctx context.Context, lt *ledgerTx, entryID int64, fresh []*pricedEvent, members map[string]*memberUsage) error {
	var total Millicredits
	for _, e := range fresh {
		total += e.Cost
	}
	memo := fmt.Sprintf("Usage: %d events", len(fresh))
	if len(fresh) == 1 {
		memo = fmt.Sprintf("Usage: %s (%s)", TypeLabel(fresh[0].Type), fresh[0].FlowID)
	}
	if err := lt.loadGrants(ctx); err != nil {
		return err
	}
	unfunded := lt.allocateDebit(entryID, total)

	args := []any{lt.acct.OrgID, entryID, -total, unfunded, memo, lt.now}
	args = append(args, lt.takeAllocations()...)
	args = append(args, lt.takeGrantRemainders()...)
	a := &lt.acct
	args = append(args, a.Balance, a.Arrears, a.CycleStart, a.CycleEnd, a.CycleUsed)
	args = append(args, memberArgs(fresh)...)
	args = append(args, dailyArgs(fresh, s.location(a.Timezone))...)
	args = append(args, executionArgs(fresh)...)
	args = append(args, flowArgs(fresh))
	lt.touched = false

	rows, err := s.stmts.query(ctx, lt.tx, q.writeUsage, args...)
	if err != nil {
		return fmt.Errorf("billing: write usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var used Millicredits
		if err := rows.Scan(&u, &used); err != nil {
			return fmt.Errorf("billing: write usage: %w", err)
		}
		if m := members[u]; m != nil {
			m.Used = used
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: write usage: %w", err)
	}
	return nil
}

// memberArgs sums the events' cost per user.
func memberArgs(fresh []*pricedEvent) []any {
	sums := map[string]int64{}
	var users []string
	for _, e := range fresh {
		if _, ok := sums[e.UserID]; !ok {
			users = append(users, e.UserID)
		}
		sums[e.UserID] += int64(e.Cost)
	}
	sort.Strings(users) // one lock order for counter rows
	amounts := make([]int64, len(users))
	for i, u := range users {
		amounts[i] = sums[u]
	}
	return []any{pq.Array(users), pq.Array(amounts)}
}

type dailyKey struct{ Day, Flow, User, Type, Model string }

func (k dailyKey) less(o dailyKey) bool {
	if k.Day != o.Day {
		return k.Day < o.Day
	}
	if k.Flow != o.Flow {
		return k.Flow < o.Flow
	}
	if k.User != o.User {
		return k.User < o.User
	}
	if k.Type != o.Type {
		return k.Type < o.Type
	}
	return k.Model < o.Model
}

// dailyArgs aggregates the events into daily rollup rows; days are cut in the org's zone.
func dailyArgs(fresh []*pricedEvent, loc *time.Location) []any {
	type sum struct{ credits, quantity, events int64 }
	sums := map[dailyKey]*sum{}
	var keys []dailyKey
	for _, e := range fresh {
		k := dailyKey{e.OccurredAt.In(loc).Format(time.DateOnly), e.FlowID, e.UserID, e.Type, e.Model}
		s := sums[k]
		if s == nil {
			s = &sum{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.credits += int64(e.Cost)
		s.quantity += e.Quantity
		s.events++
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	n := len(keys)
	days, flows, users, types, models := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	credits, qty, events := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, k := range keys {
		s := sums[k]
		days[i], flows[i], users[i], types[i], models[i] = k.Day, k.Flow, k.User, k.Type, k.Model
		credits[i], qty[i], events[i] = s.credits, s.quantity, s.events
	}
	return []any{pq.Array(days), pq.Array(flows), pq.Array(users), pq.Array(types), pq.Array(models),
		pq.Array(credits), pq.Array(qty), pq.Array(events)}
}

// executionArgs aggregates the events into per-execution, per-type totals.
func executionArgs(fresh []*pricedEvent) []any {
	type key struct{ exec, typ string }
	type agg struct {
		flow, user  string
		credits, n  int64
		first, last time.Time
	}
	sums := map[key]*agg{}
	var keys []key
	for _, e := range fresh {
		k := key{e.ExecutionID, e.Type}
		a := sums[k]
		if a == nil {
			a = &agg{flow: e.FlowID, user: e.UserID, first: e.OccurredAt, last: e.OccurredAt}
			sums[k] = a
			keys = append(keys, k)
		}
		a.credits += int64(e.Cost)
		a.n++
		if e.OccurredAt.Before(a.first) {
			a.first = e.OccurredAt
		}
		if e.OccurredAt.After(a.last) {
			a.last = e.OccurredAt
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].exec != keys[j].exec {
			return keys[i].exec < keys[j].exec
		}
		return keys[i].typ < keys[j].typ
	})
	n := len(keys)
	execs, types, flows, users := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	credits, counts := make([]int64, n), make([]int64, n)
	firsts, lasts := make([]string, n), make([]string, n)
	for i, k := range keys {
		a := sums[k]
		execs[i], types[i], flows[i], users[i] = k.exec, k.typ, a.flow, a.user
		credits[i], counts[i] = a.credits, a.n
		firsts[i], lasts[i] = a.first.UTC().Format(time.RFC3339Nano), a.last.UTC().Format(time.RFC3339Nano)
	}
	return []any{pq.Array(execs), pq.Array(types), pq.Array(flows), pq.Array(users),
		pq.Array(credits), pq.Array(counts), pq.Array(firsts), pq.Array(lasts)}
}

// flowArgs lists the events' flows, so that every flow with usage exists.
func flowArgs(fresh []*pricedEvent) any {
	seen := map[string]bool{}
	var flows []string
	for _, e := range fresh {
		if !seen[e.FlowID] {
			seen[e.FlowID] = true
			flows = append(flows, e.FlowID)
		}
	}
	sort.Strings(flows)
	return pq.Array(flows)
}

// location returns the time zone named tz, or UTC when it is unknown.
func (s *Service) location(tz string) *time.Location {
	if tz == "" || tz == "UTC" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		s.log.Warn("unknown org time zone; using UTC", "tz", tz)
		return time.UTC
	}
	return loc
}
