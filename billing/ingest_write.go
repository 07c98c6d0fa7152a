package billing

import (
	"fmt"
	"sort"
	"time"

	"github.com/lib/pq"
)

// usageWrite gathers the column arrays of write-usage for every charged org of a group.
// Rollup rows are aggregated in memory first: a few rows per org, not one per event.
type usageWrite struct {
	// ledger entries
	entryIDs                []int64
	entryOrgs, memos        []string
	entryAmounts, unfundeds []int64
	// allocations
	allocOrgs                 []string
	allocEntries, allocGrants []int64
	allocAmounts              []int64
	allocSettled              []bool
	// grants
	grantIDs, grantRemaining []int64
	// accounts
	acctOrgs                     []string
	balances, arrears, cycleUsed []int64
	cycleStarts, cycleEnds       []string
	// daily rollup
	dOrgs, dDays, dFlows, dUsers, dTypes, dModels []string
	dCredits, dQuantity, dEvents                  []int64
	// execution totals
	xOrgs, xExecs, xTypes, xFlows, xUsers []string
	xCredits, xEvents                     []int64
	xFirst, xLast                         []string
	// flows
	fOrgs, fFlows []string
	// member counters
	mOrgs, mUsers, mStarts []string
	mAmounts               []int64
}

// add charges b's new events to its ledger in memory and adds the org's rows.
func (w *usageWrite) add(b *orgBatch, loc *time.Location) {
	lt := b.lt
	var total Millicredits
	for _, e := range b.fresh {
		total += e.Cost
	}
	memo := fmt.Sprintf("Usage: %d events", len(b.fresh))
	if len(b.fresh) == 1 {
		memo = fmt.Sprintf("Usage: %s (%s)", TypeLabel(b.fresh[0].Type), b.fresh[0].FlowID)
	}
	unfunded := lt.allocateDebit(b.entryID, total)
	w.entryIDs, w.entryOrgs, w.memos = append(w.entryIDs, b.entryID), append(w.entryOrgs, b.org), append(w.memos, memo)
	w.entryAmounts, w.unfundeds = append(w.entryAmounts, int64(-total)), append(w.unfundeds, int64(unfunded))

	for _, a := range lt.allocs {
		w.allocOrgs, w.allocEntries, w.allocGrants = append(w.allocOrgs, b.org), append(w.allocEntries, a.EntryID), append(w.allocGrants, a.GrantID)
		w.allocAmounts, w.allocSettled = append(w.allocAmounts, int64(a.Amount)), append(w.allocSettled, a.Settled)
	}
	lt.allocs = nil
	ids := make([]int64, 0, len(lt.dirty))
	for id := range lt.dirty {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		w.grantIDs, w.grantRemaining = append(w.grantIDs, id), append(w.grantRemaining, int64(lt.dirty[id].Remaining))
	}
	lt.dirty = map[int64]*liveGrant{}

	a := &lt.acct
	w.acctOrgs, w.balances, w.arrears = append(w.acctOrgs, b.org), append(w.balances, int64(a.Balance)), append(w.arrears, int64(a.Arrears))
	w.cycleStarts, w.cycleEnds = append(w.cycleStarts, rfc3339(a.CycleStart)), append(w.cycleEnds, rfc3339(a.CycleEnd))
	w.cycleUsed = append(w.cycleUsed, int64(a.CycleUsed))
	lt.touched = false

	w.addDaily(b.org, b.fresh, loc)
	w.addExecutions(b.org, b.fresh)
	w.addFlowsAndMembers(b.org, b.fresh, a.CycleStart)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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
		w.dOrgs, w.dDays, w.dFlows, w.dUsers = append(w.dOrgs, org), append(w.dDays, k.Day), append(w.dFlows, k.Flow), append(w.dUsers, k.User)
		w.dTypes, w.dModels = append(w.dTypes, k.Type), append(w.dModels, k.Model)
		w.dCredits, w.dQuantity, w.dEvents = append(w.dCredits, s.credits), append(w.dQuantity, s.quantity), append(w.dEvents, s.events)
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
		w.xOrgs, w.xExecs, w.xTypes, w.xFlows, w.xUsers = append(w.xOrgs, org), append(w.xExecs, k.exec), append(w.xTypes, k.typ), append(w.xFlows, a.flow), append(w.xUsers, a.user)
		w.xCredits, w.xEvents = append(w.xCredits, a.credits), append(w.xEvents, a.n)
		w.xFirst, w.xLast = append(w.xFirst, rfc3339(a.first)), append(w.xLast, rfc3339(a.last))
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
		w.fOrgs, w.fFlows = append(w.fOrgs, org), append(w.fFlows, f)
	}
	users := make([]string, 0, len(perUser))
	for u := range perUser {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		w.mOrgs, w.mUsers, w.mStarts, w.mAmounts = append(w.mOrgs, org), append(w.mUsers, u), append(w.mStarts, rfc3339(cycleStart)), append(w.mAmounts, perUser[u])
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

// args returns the parameters of write-usage, in its order.
func (w *usageWrite) args(now time.Time) []any {
	a := pq.Array
	return []any{now,
		a(w.entryIDs), a(w.entryOrgs), a(w.entryAmounts), a(w.unfundeds), a(w.memos),
		a(w.allocOrgs), a(w.allocEntries), a(w.allocGrants), a(w.allocAmounts), a(w.allocSettled),
		a(w.grantIDs), a(w.grantRemaining),
		a(w.acctOrgs), a(w.balances), a(w.arrears), a(w.cycleStarts), a(w.cycleEnds), a(w.cycleUsed),
		a(w.dOrgs), a(w.dDays), a(w.dFlows), a(w.dUsers), a(w.dTypes), a(w.dModels), a(w.dCredits), a(w.dQuantity), a(w.dEvents),
		a(w.xOrgs), a(w.xExecs), a(w.xTypes), a(w.xFlows), a(w.xUsers), a(w.xCredits), a(w.xEvents), a(w.xFirst), a(w.xLast),
		a(w.fOrgs), a(w.fFlows),
		a(w.mOrgs), a(w.mUsers), a(w.mStarts), a(w.mAmounts),
	}
}
