package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// The common case in one round trip. One statement, sent outside any transaction, calls the
// database function ingest_usage (migrations/functions/ingest_usage.sql): it locks the group's
// accounts, checks the members, inserts the events and writes every org's charge, and its
// commit is the statement's own. The statements the Go path sends one by one (BEGIN,
// lock-accounts, members, insert-events, live grants, write-usage, COMMIT) run inside
// PostgreSQL, with the grants allocated there in the same consumption order.
//
// The function declines, with nothing written, whenever the Go path must decide: an ended
// cycle, a user who is not a member, an expired grant, a charge that notifies someone (a
// threshold, the low-balance alert, zero, a member's limit), an id recorded before. The Go
// path (ingest.go) then records the group in its own transaction; a decline costs one round
// trip, and only those groups pay it.

// fastPathMaxEvents is the largest group ingest_usage records. Measured beside the Go path
// (docs/BENCHMARKS.md), batches of 100 cost PostgreSQL more CPU per event in the function
// (its sorts and aggregates) than the Go path's aggregation in memory and JSON rows, for no
// gain in round trips that matters at that size; groups of single events are what the saved
// round trips are for.
const fastPathMaxEvents = 32

// errDuplicateID is the SQLSTATE ingest_usage raises when an event id was recorded before.
const errDuplicateID = "LXDUP"

// recordFast records batches with ingest_usage and writes each request's answer. It returns
// false, having written nothing, when the group is larger than the fast path takes or the
// function declined.
func (s *Service) recordFast(ctx context.Context, batches []*orgBatch, now time.Time, answers map[*usageJob]*UsageResult) (bool, error) {
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
	rows, err := s.Query(ctx, nil, queries.IngestUsage, now, pq.Array(orgs), pq.Array(memos),
		pq.Array(c.orgs), pq.Array(c.ids), pq.Array(c.flows), pq.Array(c.execs), pq.Array(c.users),
		pq.Array(c.types), pq.Array(c.models), pq.Array(c.qty), pq.Array(c.cost), pq.Array(c.occurred),
		pq.ByteaArray(c.hashes))
	if isDuplicateID(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("billing: ingest usage: %w", err)
	}
	defer rows.Close()
	byOrg := make(map[string]*orgBatch, len(batches))
	accts := make(map[string]*Account, len(batches))
	for _, b := range batches {
		byOrg[b.org] = b
		b.members = map[string]*memberUsage{}
	}
	for rows.Next() {
		var kind, org, user string
		var a int64
		var bv, cv sql.NullInt64
		if err := rows.Scan(&kind, &org, &user, &a, &bv, &cv); err != nil {
			return false, fmt.Errorf("billing: ingest usage: %w", err)
		}
		b := byOrg[org]
		if b == nil {
			return false, fmt.Errorf("billing: ingest usage: a row for org %q that is not in the group", org)
		}
		switch kind {
		case "account":
			acct := &Account{OrgID: org, Balance: Millicredits(a), CycleUsed: Millicredits(bv.Int64)}
			if cv.Valid {
				l := Millicredits(cv.Int64)
				acct.MonthlyLimit = &l
			}
			accts[org] = acct
		case "member":
			m := &memberUsage{OrgID: org, UserID: user, Used: Millicredits(a)}
			if bv.Valid {
				l := Millicredits(bv.Int64)
				m.Limit = &l
			}
			b.members[user] = m
		}
	}
	// The statement's commit is done once every row has been read (lib/pq reads up to
	// ReadyForQuery): an error here, the commit's included, means nothing may be answered.
	if err := rows.Err(); isDuplicateID(err) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("billing: ingest usage: %w", err)
	}
	if len(accts) == 0 {
		return false, nil // declined: nothing written
	}
	if len(accts) != len(batches) {
		return false, fmt.Errorf("billing: ingest usage: %d accounts charged for %d orgs", len(accts), len(batches))
	}
	for _, b := range batches {
		b.inserted = make(map[string]bool, len(b.merged))
		for _, e := range b.merged {
			b.inserted[e.ID] = true
		}
		for u := range b.users {
			if b.members[u] == nil {
				return false, fmt.Errorf("billing: ingest usage: no counter for member %q", u)
			}
		}
		b.answer(accts[b.org], answers)
	}
	s.fastRuns.Add(1)
	return true, nil
}

func isDuplicateID(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == errDuplicateID
}

// usageMemo describes a usage entry: the kind and flow of a single event, else the count.
func usageMemo(fresh []*pricedEvent) string {
	if len(fresh) == 1 {
		return fmt.Sprintf("Usage: %s (%s)", TypeLabel(fresh[0].Type), fresh[0].FlowID)
	}
	return fmt.Sprintf("Usage: %d events", len(fresh))
}
