package billing

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// usageWrite gathers the rows write-usage writes for every charged org of a group, one slice
// per table. Each slice goes to the statement as one JSON array read into the table's row type,
// so a row's json tags are its column names: a new column is a field here and a name in the
// query. Rollup rows are aggregated in memory first: a few rows per org, not one per event.
// Amounts are plain int64 millicredits (Millicredits would marshal as decimal credits).
type usageWrite struct {
	entries     []entryRow
	allocations []allocationRow
	grants      []grantRow
	accounts    []accountRow
	daily       []dailyRow
	executions  []executionRow
	flows       []flowRow
	members     []memberRow
}

// entryRow is a usage entry of ledger_entries.
type entryRow struct {
	ID       int64  `json:"id"`
	OrgID    string `json:"org_id"`
	Amount   int64  `json:"amount_mc"` // negative: usage takes credits away
	Unfunded int64  `json:"unfunded_mc"`
	Memo     string `json:"memo"`
}

// allocationRow is a row of allocations.
type allocationRow struct {
	OrgID   string `json:"org_id"`
	EntryID int64  `json:"entry_id"`
	GrantID int64  `json:"grant_id"`
	Amount  int64  `json:"amount_mc"`
	Settled bool   `json:"settled"`
}

// grantRow is a grant's new remainder.
type grantRow struct {
	ID        int64 `json:"id"`
	Remaining int64 `json:"remaining_mc"`
}

// accountRow is an org's account row after the group.
type accountRow struct {
	OrgID      string    `json:"org_id"`
	Balance    int64     `json:"balance_mc"`
	Arrears    int64     `json:"arrears_mc"`
	CycleStart time.Time `json:"cycle_start"`
	CycleEnd   time.Time `json:"cycle_end"`
	CycleUsed  int64     `json:"cycle_used_mc"`
}

// dailyRow is what to add to a row of usage_daily.
type dailyRow struct {
	OrgID    string `json:"org_id"`
	Day      string `json:"day"` // YYYY-MM-DD in the org's zone
	FlowID   string `json:"flow_id"`
	UserID   string `json:"user_id"`
	Type     string `json:"type"`
	Model    string `json:"model"`
	Credits  int64  `json:"credits_mc"`
	Quantity int64  `json:"quantity"`
	Events   int64  `json:"events"`
}

// executionRow is what to add to a row of execution_usage.
type executionRow struct {
	OrgID       string    `json:"org_id"`
	ExecutionID string    `json:"execution_id"`
	Type        string    `json:"type"`
	FlowID      string    `json:"flow_id"`
	UserID      string    `json:"user_id"`
	Credits     int64     `json:"credits_mc"`
	Events      int64     `json:"events"`
	FirstAt     time.Time `json:"first_at"`
	LastAt      time.Time `json:"last_at"`
}

// flowRow is a flow with usage, inserted when new.
type flowRow struct {
	OrgID string `json:"org_id"`
	ID    string `json:"id"`
}

// memberRow is what to add to a member's usage in the cycle.
type memberRow struct {
	OrgID      string    `json:"org_id"`
	UserID     string    `json:"user_id"`
	CycleStart time.Time `json:"cycle_start"`
	Used       int64     `json:"used_mc"`
}

// add charges b's new events to its ledger in memory and adds the org's rows.
func (w *usageWrite) add(b *orgBatch, loc *time.Location) {
	lt := b.lt
	var total Millicredits
	for _, e := range b.fresh {
		total += e.Cost
	}
	memo := usageMemo(b.fresh)
	unfunded := lt.allocateDebit(b.entryID, total)
	w.entries = append(w.entries, entryRow{ID: b.entryID, OrgID: b.org, Amount: int64(-total), Unfunded: int64(unfunded), Memo: memo})
	for _, a := range lt.allocs {
		w.allocations = append(w.allocations, allocationRow{OrgID: b.org, EntryID: a.EntryID, GrantID: a.GrantID, Amount: int64(a.Amount), Settled: a.Settled})
	}
	lt.allocs = nil
	ids := make([]int64, 0, len(lt.dirty))
	for id := range lt.dirty {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		w.grants = append(w.grants, grantRow{ID: id, Remaining: int64(lt.dirty[id].Remaining)})
	}
	lt.dirty = map[int64]*liveGrant{}

	a := &lt.acct
	w.accounts = append(w.accounts, accountRow{OrgID: b.org, Balance: int64(a.Balance), Arrears: int64(a.Arrears),
		CycleStart: a.CycleStart.UTC(), CycleEnd: a.CycleEnd.UTC(), CycleUsed: int64(a.CycleUsed)})
	lt.touched = false

	w.addDaily(b.org, b.fresh, loc)
	w.addExecutions(b.org, b.fresh)
	w.addFlowsAndMembers(b.org, b.fresh, a.CycleStart)
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

// addDaily aggregates an org's events into daily rollup rows; days are cut in the org's zone.
func (w *usageWrite) addDaily(org string, fresh []*pricedEvent, loc *time.Location) {
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
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) }) // one row-lock order
	for _, k := range keys {
		s := sums[k]
		w.daily = append(w.daily, dailyRow{OrgID: org, Day: k.Day, FlowID: k.Flow, UserID: k.User, Type: k.Type, Model: k.Model,
			Credits: s.credits, Quantity: s.quantity, Events: s.events})
	}
}

// addExecutions aggregates an org's events into per-execution, per-type totals.
func (w *usageWrite) addExecutions(org string, fresh []*pricedEvent) {
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
	for _, k := range keys {
		a := sums[k]
		w.executions = append(w.executions, executionRow{OrgID: org, ExecutionID: k.exec, Type: k.typ, FlowID: a.flow, UserID: a.user,
			Credits: a.credits, Events: a.n, FirstAt: a.first.UTC(), LastAt: a.last.UTC()})
	}
}

// addFlowsAndMembers lists the org's flows with usage and sums its events' cost per user.
func (w *usageWrite) addFlowsAndMembers(org string, fresh []*pricedEvent, cycleStart time.Time) {
	flows := map[string]bool{}
	perUser := map[string]int64{}
	for _, e := range fresh {
		flows[e.FlowID] = true
		perUser[e.UserID] += int64(e.Cost)
	}
	for _, f := range sortedKeys(flows) {
		w.flows = append(w.flows, flowRow{OrgID: org, ID: f})
	}
	users := make([]string, 0, len(perUser))
	for u := range perUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		w.members = append(w.members, memberRow{OrgID: org, UserID: u, CycleStart: cycleStart.UTC(), Used: perUser[u]})
	}
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// args returns the parameters of write-usage: now, then each table's rows as a JSON array.
func (w *usageWrite) args(now time.Time) ([]any, error) {
	out := []any{now}
	for _, rows := range []any{w.entries, w.allocations, w.grants, w.accounts, w.daily, w.executions, w.flows, w.members} {
		b, err := json.Marshal(rows)
		if err != nil {
			return nil, fmt.Errorf("billing: encode usage rows: %w", err)
		}
		if string(b) == "null" {
			b = []byte("[]")
		}
		out = append(out, string(b)) // text, not bytea: lib/pq sends []byte in binary
	}
	return out, nil
}
