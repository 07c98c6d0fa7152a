package billing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The common case in one round trip. Once the group's accounts are locked (lockLedgers), one
// call of the database function record_usage (migration 00070) checks the members, inserts the
// events and writes every org's charge: the statements the Go path sends one by one (members,
// insert-events, live grants, write-usage) run inside PostgreSQL, with the grants allocated
// there in the same consumption order. A single event costs BEGIN, lock-accounts, record_usage
// and COMMIT. The function declines — writes nothing and returns no row — when a user is not
// a member, an id was recorded before or a live grant has expired; the Go path then records
// the group in the same transaction and handles those cases (errors, duplicates, expiries).

// fastPathMaxEvents is the largest group record_usage records. Measured beside the Go path
// (docs/BENCHMARKS.md), batches of 100 cost PostgreSQL more CPU per event in the function
// (its sorts and aggregates) than the Go path's aggregation in memory and JSON rows, for no
// gain in round trips that matters at that size; groups of single events are what the saved
// round trips are for.
const fastPathMaxEvents = 32

// recordFast records batches with record_usage. It returns false, having written nothing, when
// the group is larger than the fast path takes or the function declined.
func (s *Service) recordFast(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, now time.Time) (bool, error) {
	limit := fastPathMaxEvents
	if s.fastMax > 0 {
		limit = s.fastMax
	}
	events := 0
	for _, b := range batches {
		events += len(b.merged)
	}
	if s.slowOnly || events > limit {
		return false, nil
	}
	orgs := make([]string, len(batches))
	memos := make([]string, len(batches))
	var c eventColumns
	for i, b := range batches {
		orgs[i], memos[i] = b.org, usageMemo(b.merged)
		users := 0
		seen := map[string]bool{}
		for _, e := range b.merged {
			c.add(b.org, e)
			if !seen[e.UserID] {
				seen[e.UserID] = true
				users++
			}
		}
		if users != len(b.users) {
			// A user only on a repeated id (sent without userId by another key's user): the
			// function checks only the recorded events' users, the Go path checks them all.
			return false, nil
		}
	}
	rows, err := s.Query(ctx, tx, queries.RecordUsage, now, pq.Array(orgs), pq.Array(memos),
		pq.Array(c.orgs), pq.Array(c.ids), pq.Array(c.flows), pq.Array(c.execs), pq.Array(c.users),
		pq.Array(c.types), pq.Array(c.models), pq.Array(c.qty), pq.Array(c.cost), pq.Array(c.occurred),
		pq.ByteaArray(c.hashes))
	if err != nil {
		return false, fmt.Errorf("billing: record usage: %w", err)
	}
	defer rows.Close()
	byOrg := make(map[string]*orgBatch, len(batches))
	for _, b := range batches {
		byOrg[b.org] = b
		b.members = map[string]*memberUsage{}
	}
	entries := 0
	unfunded := map[string]Millicredits{}
	for rows.Next() {
		var kind, org, user string
		var a sql.NullInt64
		var v int64
		if err := rows.Scan(&kind, &org, &user, &a, &v); err != nil {
			return false, fmt.Errorf("billing: record usage: %w", err)
		}
		b := byOrg[org]
		if b == nil {
			return false, fmt.Errorf("billing: record usage: a row for org %q that is not in the group", org)
		}
		switch kind {
		case "entry":
			b.entryID, unfunded[org] = a.Int64, Millicredits(v)
			entries++
		case "member":
			m := &memberUsage{OrgID: org, UserID: user, Used: Millicredits(v)}
			if a.Valid {
				l := Millicredits(a.Int64)
				m.Limit = &l
			}
			b.members[user] = m
		}
	}
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("billing: record usage: %w", err)
	}
	if entries == 0 {
		return false, nil // declined: nothing written
	}
	if entries != len(batches) {
		return false, fmt.Errorf("billing: record usage: %d usage entries for %d orgs", entries, len(batches))
	}
	// The state the Go path has before its charge: every merged event is new and is charged,
	// and each member's usage is what it was before (the function returned it after).
	for _, b := range batches {
		b.fresh = b.merged
		b.inserted = make(map[string]bool, len(b.merged))
		b.stored = map[string]storedEvent{}
		b.unfunded = unfunded[b.org]
		for _, e := range b.merged {
			b.inserted[e.ID] = true
		}
		for u := range b.users {
			if b.members[u] == nil {
				return false, fmt.Errorf("billing: record usage: no counter for member %q", u)
			}
		}
		for _, e := range b.merged {
			b.members[e.UserID].Used -= e.Cost
		}
	}
	s.fastRuns.Add(1)
	return true, nil
}

// applyCharge brings a batch recorded by recordFast to its state after the charge, as
// allocateDebit and write-usage leave the Go path's: the account's balance, arrears and cycle
// usage, and each member's usage.
func (b *orgBatch) applyCharge() {
	var total Millicredits
	for _, e := range b.fresh {
		total += e.Cost
		b.members[e.UserID].Used += e.Cost
	}
	a := &b.lt.acct
	a.Balance -= total
	a.Arrears += b.unfunded
	a.CycleUsed += total
}

// usageMemo describes a usage entry: the kind and flow of a single event, else the count.
func usageMemo(fresh []*pricedEvent) string {
	if len(fresh) == 1 {
		return fmt.Sprintf("Usage: %s (%s)", TypeLabel(fresh[0].Type), fresh[0].FlowID)
	}
	return fmt.Sprintf("Usage: %d events", len(fresh))
}
