package billing

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Ingestion: one transaction records the queued usage batches of any number of organizations
// with a fixed number of statements (ingest.sql): lock the orgs' accounts, check members, insert
// the events, compare duplicates (only when there are any), read the live grants, allocate in
// memory, write everything else in one statement, commit. One commit — one disk flush —
// answers every request in the group.

// errRetry rolls back a coalesced transaction when some of its batches must be answered with an
// error found inside it; the others are recorded again without them.
var errRetry = errors.New("billing: retry without failed batches")

// recordJobs records queued batches in as few transactions as it can: normally one. A batch
// that fails on its own (an id reused with another body, a user who is not a member) is
// answered with its error and the others are recorded without it.
func (s *Service) recordJobs(ctx context.Context, jobs []*usageJob) {
	// The transaction serves every queued request: one client going away must not abort it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for len(jobs) > 0 {
		failed, err := s.recordTx(ctx, jobs)
		if err != nil {
			for _, j := range jobs {
				j.done <- outcome[*UsageResult]{err: err}
			}
			return
		}
		if len(failed) == 0 {
			return
		}
		rest := jobs[:0:0]
		for _, j := range jobs {
			if ferr, ok := failed[j]; ok {
				j.done <- outcome[*UsageResult]{err: ferr}
			} else {
				rest = append(rest, j)
			}
		}
		jobs = rest
	}
}

// owner is the first batch (and event index) of a group to carry an event id.
type owner struct {
	job *usageJob
	idx int
}

// orgBatch is one organization's share of a group.
type orgBatch struct {
	org      string
	jobs     []*usageJob
	owners   map[string]owner // event id → the batch that records it
	merged   []*pricedEvent   // one per id, sorted by id
	users    map[string]bool
	lt       *ledgerTx
	members  map[string]*memberUsage
	entryID  int64
	inserted map[string]bool
	stored   map[string]storedEvent
	fresh    []*pricedEvent // inserted now: these are charged
}

// memberUsage is a member's limit and usage in the current cycle.
type memberUsage struct {
	OrgID  string        `db:"org_id"`
	UserID string        `db:"user_id"`
	Limit  *Millicredits `db:"monthly_limit_mc"`
	Used   Millicredits  `db:"used_mc"`
}

// storedEvent is what is kept of a recorded event for idempotency.
type storedEvent struct {
	OrgID string       `db:"org_id"`
	ID    string       `db:"id"`
	Hash  []byte       `db:"body_hash"`
	Cost  Millicredits `db:"cost_mc"`
}

// mergeJobs splits a group by organization. Within an org the first batch to carry an id owns
// it; a later batch with the same id and body is a duplicate, with another body a conflict.
func mergeJobs(jobs []*usageJob) (batches []*orgBatch, failed map[*usageJob]error) {
	failed = map[*usageJob]error{}
	byOrg := map[string]*orgBatch{}
	for _, j := range jobs {
		b := byOrg[j.org]
		if b == nil {
			b = &orgBatch{org: j.org, owners: map[string]owner{}, users: map[string]bool{}}
			byOrg[j.org] = b
			batches = append(batches, b)
		}
		var conflict error
		for id, i := range j.first {
			if o, ok := b.owners[id]; ok && string(o.job.priced[o.idx].Hash) != string(j.priced[i].Hash) {
				conflict = Errorf(ECONFLICT, "events[%d]: id %q is being recorded by another request with a different body; use a new id for a new event", i, id)
				break
			}
		}
		if conflict != nil {
			failed[j] = conflict
			continue
		}
		b.jobs = append(b.jobs, j)
		for i := range j.priced {
			e := &j.priced[i]
			b.users[e.UserID] = true
			if j.first[e.ID] != i {
				continue
			}
			if _, ok := b.owners[e.ID]; !ok {
				b.owners[e.ID] = owner{j, i}
				b.merged = append(b.merged, e)
			}
		}
	}
	// Fixed lock order across transactions (and servers): orgs by id, then event ids.
	sort.Slice(batches, func(a, c int) bool { return batches[a].org < batches[c].org })
	for _, b := range batches {
		sort.Slice(b.merged, func(a, c int) bool { return b.merged[a].ID < b.merged[c].ID })
	}
	return batches, failed
}

// recordTx records jobs in one transaction and answers each after the commit. Batches that fail
// on their own are returned in failed, with nothing committed when any is found.
func (s *Service) recordTx(ctx context.Context, jobs []*usageJob) (map[*usageJob]error, error) {
	batches, failed := mergeJobs(jobs)
	if len(failed) > 0 {
		return failed, nil
	}
	now := s.now()
	answers := map[*usageJob]*UsageResult{}
	fast, err := s.recordFast(ctx, batches, now, answers)
	if err != nil {
		return nil, err
	}
	if !fast {
		if err := s.recordSlow(ctx, batches, now, failed, answers); errors.Is(err, errRetry) {
			return failed, nil
		} else if err != nil {
			return nil, err
		}
	}
	for j, res := range answers {
		j.done <- outcome[*UsageResult]{res: res}
	}
	return nil, nil
}

// recordSlow is the Go path: every case the one-statement path declines (ingest_fast.go), in
// one transaction with a fixed number of statements. It returns errRetry, having written
// nothing, when some batches failed on their own (in failed).
func (s *Service) recordSlow(ctx context.Context, batches []*orgBatch, now time.Time, failed map[*usageJob]error, answers map[*usageJob]*UsageResult) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.lockLedgers(ctx, tx, batches, now); err != nil {
			return err
		}
		if err := s.checkMembers(ctx, tx, batches, failed); err != nil {
			return err
		}
		if err := s.insertBatches(ctx, tx, batches, now); err != nil {
			return err
		}
		if err := s.checkRecorded(ctx, tx, batches, failed); err != nil {
			return err
		}
		marks := usageMarks(batches) // notices: the counters before the charge
		if err := s.chargeBatches(ctx, tx, batches); err != nil {
			return err
		}
		if err := s.emitCrossed(ctx, tx, batches, marks); err != nil {
			return err
		}
		for _, b := range batches {
			b.answer(&b.lt.acct, answers)
		}
		return nil
	})
}

// lockLedgers locks every batch's account in org order, rolling over ended cycles.
func (s *Service) lockLedgers(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, now time.Time) error {
	orgs := make([]string, len(batches))
	for i, b := range batches {
		orgs[i] = b.org
	}
	var accts []Account
	var err error
	if len(orgs) == 1 {
		// One org, the common group: lock-account's key look-up keeps one generic plan, where
		// lock-accounts' array is planned again on every call (it cost more than running it).
		err = s.Select(ctx, tx, &accts, queries.LockAccount, orgs[0])
	} else {
		err = s.Select(ctx, tx, &accts, queries.LockAccounts, pq.Array(orgs))
	}
	if err != nil {
		return fmt.Errorf("billing: lock accounts: %w", err)
	}
	if len(accts) != len(batches) {
		return Errorf(ENOTFOUND, "organization not found")
	}
	for i, b := range batches {
		b.lt = s.newLedgerTx(tx, now)
		b.lt.acct = accts[i]
		if !b.lt.acct.CycleEnd.After(now) {
			if err := b.lt.rollover(ctx); err != nil {
				return err
			}
			// Written now, so that the rest of the transaction reads the new cycle.
			if err := b.lt.flush(ctx); err != nil {
				return err
			}
			b.lt.grants = nil
		}
	}
	return nil
}

// checkMembers reads the batches' users' memberships, limits and cycle usage; a batch with a
// user who is not a member of its org fails (and the transaction is retried without it).
func (s *Service) checkMembers(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, failed map[*usageJob]error) error {
	var orgs, users []string
	var starts []time.Time
	for _, b := range batches {
		for u := range b.users {
			orgs, users, starts = append(orgs, b.org), append(users, u), append(starts, b.lt.acct.CycleStart)
		}
	}
	var rows []*memberUsage
	if err := s.Select(ctx, tx, &rows, queries.SelectMembers, pq.Array(orgs), pq.Array(users), pq.Array(timestamps(starts))); err != nil {
		return fmt.Errorf("billing: members: %w", err)
	}
	byOrg := map[string]*orgBatch{}
	for _, b := range batches {
		b.members = map[string]*memberUsage{}
		byOrg[b.org] = b
	}
	for _, r := range rows {
		byOrg[r.OrgID].members[r.UserID] = r
	}
	for _, b := range batches {
		for _, j := range b.jobs {
			for i, e := range j.priced {
				if b.members[e.UserID] == nil {
					failed[j] = Errorf(EINVALID, "events[%d]: userId %q is not a member of this organization", i, e.UserID)
					break
				}
			}
		}
	}
	if len(failed) > 0 {
		return errRetry
	}
	return nil
}

// insertBatches inserts every batch's events; ids an org recorded before are skipped.
func (s *Service) insertBatches(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, now time.Time) error {
	var orgs []string
	var c eventColumns
	byOrg := map[string]*orgBatch{}
	for _, b := range batches {
		orgs = append(orgs, b.org)
		byOrg[b.org] = b
		b.inserted = map[string]bool{}
		for _, e := range b.merged {
			c.add(b.org, e)
		}
	}
	rows, err := s.Query(ctx, tx, queries.InsertEvents, append([]any{pq.Array(orgs)}, c.args(now)...)...)
	if err != nil {
		return fmt.Errorf("billing: insert usage events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var org, id string
		var entry int64
		if err := rows.Scan(&org, &id, &entry); err != nil {
			return fmt.Errorf("billing: insert usage events: %w", err)
		}
		b := byOrg[org]
		b.inserted[id], b.entryID = true, entry
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: insert usage events: %w", err)
	}
	return nil
}

// eventColumns are events as the column arrays of insert-events.
type eventColumns struct {
	orgs, ids, flows, execs, users, types, models []string
	qty, cost                                     []int64
	occurred                                      []string
	hashes                                        [][]byte
}

func (c *eventColumns) add(org string, e *pricedEvent) {
	c.orgs, c.ids, c.flows = append(c.orgs, org), append(c.ids, e.ID), append(c.flows, e.FlowID)
	c.execs, c.users = append(c.execs, e.ExecutionID), append(c.users, e.UserID)
	c.types, c.models = append(c.types, e.Type), append(c.models, e.Model)
	c.qty, c.cost = append(c.qty, e.Quantity), append(c.cost, int64(e.Cost))
	c.occurred = append(c.occurred, e.OccurredAt.UTC().Format(time.RFC3339Nano))
	c.hashes = append(c.hashes, e.Hash)
}

// args returns $2..$13 of insert-events.
func (c *eventColumns) args(now time.Time) []any {
	return []any{pq.Array(c.orgs), pq.Array(c.ids), pq.Array(c.flows), pq.Array(c.execs), pq.Array(c.users),
		pq.Array(c.types), pq.Array(c.models), pq.Array(c.qty), pq.Array(c.cost), pq.Array(c.occurred), now,
		pq.ByteaArray(c.hashes)}
}

// checkRecorded compares the events that were recorded before with what was sent now: the same
// body is a duplicate (its stored cost is reported), another body fails its batch.
func (s *Service) checkRecorded(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, failed map[*usageJob]error) error {
	var orgs, ids []string
	byOrg := map[string]*orgBatch{}
	for _, b := range batches {
		byOrg[b.org] = b
		b.stored = map[string]storedEvent{}
		for _, e := range b.merged {
			if !b.inserted[e.ID] {
				orgs, ids = append(orgs, b.org), append(ids, e.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []storedEvent
	if err := s.Select(ctx, tx, &rows, queries.SelectRecorded, pq.Array(orgs), pq.Array(ids)); err != nil {
		return fmt.Errorf("billing: recorded events: %w", err)
	}
	if len(rows) != len(ids) {
		return fmt.Errorf("billing: %d events neither inserted nor found", len(ids)-len(rows))
	}
	for _, st := range rows {
		b := byOrg[st.OrgID]
		b.stored[st.ID] = st
		o := b.owners[st.ID]
		if string(st.Hash) != string(o.job.priced[o.idx].Hash) {
			failed[o.job] = Errorf(ECONFLICT, "events[%d]: id %q was already recorded with a different body; use a new id for a new event", o.idx, st.ID)
		}
	}
	if len(failed) > 0 {
		return errRetry
	}
	return nil
}

// chargeBatches reads the live grants of the orgs with new events, allocates each org's cost
// in memory and writes every org's ledger, counters and rollups in one statement.
func (s *Service) chargeBatches(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch) error {
	var charged []*orgBatch
	var orgs []string
	for _, b := range batches {
		for _, e := range b.merged {
			if b.inserted[e.ID] {
				b.fresh = append(b.fresh, e)
			}
		}
		if len(b.fresh) > 0 {
			charged = append(charged, b)
			orgs = append(orgs, b.org)
		}
	}
	if len(charged) == 0 {
		return nil
	}
	var grants []struct {
		OrgID string `db:"org_id"`
		liveGrant
	}
	if err := s.Select(ctx, tx, &grants, queries.SelectLiveGrantsOfOrgs, pq.Array(orgs)); err != nil {
		return fmt.Errorf("billing: live grants: %w", err)
	}
	byOrg := map[string]*orgBatch{}
	for _, b := range charged {
		b.lt.grants = []*liveGrant{}
		byOrg[b.org] = b
	}
	for i := range grants {
		b := byOrg[grants[i].OrgID]
		b.lt.grants = append(b.lt.grants, &grants[i].liveGrant)
	}
	var w usageWrite
	for _, b := range charged {
		if err := b.lt.expireDue(ctx, b.lt.now); err != nil {
			return err
		}
		w.add(b, s.Location(b.lt.acct.Timezone))
	}
	args, err := w.args(charged[0].lt.now)
	if err != nil {
		return err
	}
	rows, err := s.Query(ctx, tx, queries.WriteUsage, args...)
	if err != nil {
		return fmt.Errorf("billing: write usage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m memberUsage
		if err := rows.StructScan(&m); err != nil {
			return fmt.Errorf("billing: write usage: %w", err)
		}
		if mu := byOrg[m.OrgID].members[m.UserID]; mu != nil {
			mu.Used = m.Used
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: write usage: %w", err)
	}
	return nil
}

// answer builds each of the batch's requests' results from the org's account after the charge.
func (b *orgBatch) answer(a *Account, answers map[*usageJob]*UsageResult) {
	reason := orgPauseReason(a)
	for _, j := range b.jobs {
		res := &UsageResult{Results: make([]EventResult, len(j.priced)), Balance: a.Balance, PauseReason: reason, Paused: reason != ""}
		seen := map[string]bool{}
		for i, e := range j.priced {
			r := EventResult{ID: e.ID, Credits: e.Cost}
			if o := b.owners[e.ID]; o.job != j || o.idx != i || !b.inserted[e.ID] {
				r.Duplicate = true
				if st, ok := b.stored[e.ID]; ok {
					r.Credits = st.Cost
				}
			}
			res.Results[i] = r
			if m := b.members[e.UserID]; !seen[e.UserID] && m.Limit != nil && m.Used >= *m.Limit {
				res.MembersPaused = append(res.MembersPaused, e.UserID)
			}
			seen[e.UserID] = true
		}
		sort.Strings(res.MembersPaused)
		answers[j] = res
	}
}

func timestamps(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339Nano)
	}
	return out
}
