package reports

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/luxstudio/lux-billing/billing"
)

// Page sizes of the execution drill-down.
const (
	DefaultExecutionPage = 50   // executions per page unless asked otherwise
	MaxExecutionPage     = 200  // executions per page at most
	DefaultEventLimit    = 500  // events ExecutionEvents returns unless asked otherwise
	MaxEventLimit        = 1000 // events ExecutionEvents returns at most (WriteExecutionEventsCSV has no limit)
)

// ExecutionSummary is one execution of a flow: what it cost so far (credits by
// type and total) with who ran it, when, and how many events it recorded.
type ExecutionSummary struct {
	ExecutionCost
	UserID  string    // the member the execution's usage is attributed to
	Events  int64     // usage events recorded for it
	FirstAt time.Time // when its first event happened
	LastAt  time.Time // when its latest event happened; pages are ordered by it
}

// ExecutionPage is a page of a flow's executions, newest first.
type ExecutionPage struct {
	Executions []ExecutionSummary
	// Next is the cursor of the following page, "" on the last page.
	Next string
}

// FlowExecutions returns a page of a flow's executions, newest (by latest event) first, each
// with its credits by type. cursor is "" for the first page, else a previous page's Next;
// limit is 0 for DefaultExecutionPage, at most MaxExecutionPage. Pages are keyset-paginated:
// usage recorded meanwhile never makes an execution appear twice or be skipped, except that an
// execution whose newest event arrives after its page was read moves to the top. It reads the
// per-execution rollup (execution_usage), not events. A flow without executions is an empty
// page; a malformed cursor or limit is EINVALID.
func (s *Service) FlowExecutions(ctx context.Context, orgID, flowID, cursor string, limit int) (*ExecutionPage, error) {
	if limit == 0 {
		limit = DefaultExecutionPage
	}
	if limit < 0 || limit > MaxExecutionPage {
		return nil, billing.Errorf(billing.EINVALID, "a page holds 1 to %d executions (got %d)", MaxExecutionPage, limit)
	}
	if flowID == "" {
		return nil, billing.Errorf(billing.EINVALID, "choose a flow")
	}
	beforeAt, beforeID := "infinity", ""
	if cursor != "" {
		t, id, err := decodeExecutionCursor(cursor)
		if err != nil {
			return nil, err
		}
		beforeAt, beforeID = t.UTC().Format(time.RFC3339Nano), id
	}
	params := map[string]any{"org": orgID, "flow": flowID, "before_at": beforeAt, "before_id": beforeID, "limit": limit + 1}
	var keys []struct {
		ExecutionID string    `db:"execution_id"`
		LastAt      time.Time `db:"last_at"`
	}
	query, args, err := sqlx.Named(queries.SelectFlowExecutions, params)
	if err != nil {
		return nil, fmt.Errorf("billing: flow executions: %w", err)
	}
	if err := s.store.DB().SelectContext(ctx, &keys, s.store.DB().Rebind(query), args...); err != nil {
		return nil, fmt.Errorf("billing: flow executions: %w", err)
	}
	page := &ExecutionPage{Executions: []ExecutionSummary{}}
	if len(keys) > limit {
		keys = keys[:limit]
		last := keys[limit-1]
		page.Next = encodeExecutionCursor(last.LastAt, last.ExecutionID)
	}
	if len(keys) == 0 {
		return page, nil
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ExecutionID
	}
	byID, err := s.executionSummaries(ctx, orgID, ids)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if e := byID[id]; e != nil {
			page.Executions = append(page.Executions, *e)
		}
	}
	return page, nil
}

// executionSummaries reads the per-type rows of executions and folds them per execution.
func (s *Service) executionSummaries(ctx context.Context, orgID string, ids []string) (map[string]*ExecutionSummary, error) {
	var rows []struct {
		ExecutionID string               `db:"execution_id"`
		Type        string               `db:"type"`
		FlowID      string               `db:"flow_id"`
		UserID      string               `db:"user_id"`
		Credits     billing.Millicredits `db:"credits_mc"`
		Events      int64                `db:"events"`
		FirstAt     time.Time            `db:"first_at"`
		LastAt      time.Time            `db:"last_at"`
	}
	if err := s.store.DB().SelectContext(ctx, &rows, queries.SelectExecutionsUsage, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("billing: executions usage: %w", err)
	}
	out := make(map[string]*ExecutionSummary, len(ids))
	for _, r := range rows {
		e := out[r.ExecutionID]
		if e == nil {
			e = &ExecutionSummary{
				ExecutionCost: ExecutionCost{FlowID: r.FlowID, ExecutionID: r.ExecutionID, ByType: map[string]billing.Millicredits{}},
				UserID:        r.UserID, FirstAt: r.FirstAt, LastAt: r.LastAt,
			}
			out[r.ExecutionID] = e
		}
		e.ByType[r.Type] += r.Credits
		e.Total += r.Credits
		e.Events += r.Events
		if r.FirstAt.Before(e.FirstAt) {
			e.FirstAt = r.FirstAt
		}
		if r.LastAt.After(e.LastAt) {
			e.LastAt = r.LastAt
		}
	}
	return out, nil
}

func encodeExecutionCursor(lastAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(lastAt.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeExecutionCursor(c string) (time.Time, string, error) {
	bad := billing.Errorf(billing.EINVALID, "the page cursor is not valid: start again from the first page")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", bad
	}
	return t, id, nil
}

// RecordedEvent is a usage event as it was recorded, with its cost.
type RecordedEvent struct {
	ID          string               `db:"id"`
	FlowID      string               `db:"flow_id"`
	ExecutionID string               `db:"execution_id"`
	UserID      string               `db:"user_id"`
	Type        string               `db:"type"`
	Model       string               `db:"model"`
	Quantity    int64                `db:"quantity"` // in the type's unit (tokens, emails, messages, seconds, characters)
	Credits     billing.Millicredits `db:"cost_mc"`
	OccurredAt  time.Time            `db:"occurred_at"`
	ReceivedAt  time.Time            `db:"received_at"`
}

// ExecutionEvents returns the usage events behind one execution, in the order they happened:
// at most limit of them (0 means DefaultEventLimit; at most MaxEventLimit; compare with the
// execution's ExecutionSummary.Events to tell whether there are more, and use
// WriteExecutionEventsCSV for all). An execution with no events in this organization (another
// org's included) is ENOTFOUND.
func (s *Service) ExecutionEvents(ctx context.Context, orgID, executionID string, limit int) ([]RecordedEvent, error) {
	if limit == 0 {
		limit = DefaultEventLimit
	}
	if limit < 0 || limit > MaxEventLimit {
		return nil, billing.Errorf(billing.EINVALID, "ask for 1 to %d events (got %d)", MaxEventLimit, limit)
	}
	var out []RecordedEvent
	if err := s.store.DB().SelectContext(ctx, &out, queries.SelectExecutionEvents, orgID, executionID, limit); err != nil {
		return nil, fmt.Errorf("billing: execution events: %w", err)
	}
	if len(out) == 0 {
		return nil, billing.Errorf(billing.ENOTFOUND, "no usage recorded for execution %q", executionID)
	}
	return out, nil
}

// EventsCSVHeader is the header row of WriteExecutionEventsCSV.
var EventsCSVHeader = []string{"id", "occurred_at", "received_at", "flow_id", "execution_id", "user_id", "type", "model", "quantity", "credits"}

// WriteExecutionEventsCSV writes every usage event of one execution to w as CSV (header
// EventsCSVHeader; times RFC 3339 in UTC; credits as decimals with up to three places), in the
// order they happened. Events are read through a server-side cursor a thousand at a time, so
// an execution of any size streams in constant memory. An execution with no events is
// ENOTFOUND and nothing is written.
func (s *Service) WriteExecutionEventsCSV(ctx context.Context, w io.Writer, orgID, executionID string) error {
	tx, err := s.store.DB().BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("billing: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to keep
	if _, err := tx.ExecContext(ctx, queries.DeclareExecutionEventsCursor, orgID, executionID); err != nil {
		return fmt.Errorf("billing: events cursor: %w", err)
	}
	cw := csv.NewWriter(w)
	rec := make([]string, len(EventsCSVHeader))
	total := 0
	for {
		var batch []RecordedEvent
		if err := tx.SelectContext(ctx, &batch, queries.FetchExecutionEvents); err != nil {
			return fmt.Errorf("billing: fetch events: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		if total == 0 {
			if err := cw.Write(EventsCSVHeader); err != nil {
				return err
			}
		}
		total += len(batch)
		for _, e := range batch {
			rec[0], rec[1], rec[2] = billing.CSVText(e.ID), e.OccurredAt.UTC().Format(time.RFC3339Nano), e.ReceivedAt.UTC().Format(time.RFC3339Nano)
			rec[3], rec[4], rec[5] = billing.CSVText(e.FlowID), billing.CSVText(e.ExecutionID), billing.CSVText(e.UserID)
			rec[6], rec[7] = billing.CSVText(e.Type), billing.CSVText(e.Model)
			rec[8], rec[9] = strconv.FormatInt(e.Quantity, 10), e.Credits.Decimal()
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	if total == 0 {
		return billing.Errorf(billing.ENOTFOUND, "no usage recorded for execution %q", executionID)
	}
	return nil
}
