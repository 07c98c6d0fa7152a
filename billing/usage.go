package billing

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"
	"unicode"
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
		// PostgreSQL keeps microseconds: cut here too, so the day the rollup sees is the day
		// the stored event has.
		e.OccurredAt = e.OccurredAt.Truncate(time.Microsecond)
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
// Concurrent batches are coalesced: they queue behind the transaction in flight and the next
// transaction records all of them, of any number of organizations (see coalesce.go and
// ingest.go), so one commit answers many requests. Each batch still succeeds or fails on its
// own.
func (s *Service) RecordUsage(ctx context.Context, orgID, keyUser string, events []UsageEvent) (*UsageResult, error) {
	now := s.now()
	priced, err := s.price(ctx, events, keyUser, now)
	if err != nil {
		return nil, err
	}
	job := &usageJob{org: orgID, priced: priced, first: make(map[string]int, len(priced)), done: make(chan outcome[*UsageResult], 1)}
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
	r := s.usage.do(job, func(jobs []*usageJob) { s.recordJobs(ctx, jobs) })
	return r.res, r.err
}

// usageJob is one RecordUsage call waiting to be recorded.
type usageJob struct {
	org    string
	priced []pricedEvent
	first  map[string]int // event id → index of its first occurrence in priced
	done   chan outcome[*UsageResult]
}

func (j *usageJob) laneKey() string                     { return j.org }
func (j *usageJob) weight() int                         { return len(j.priced) }
func (j *usageJob) results() chan outcome[*UsageResult] { return j.done }
