package billing

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Grant kinds.
const (
	GrantPlanAllotment = "plan_allotment" // expires at the end of its cycle; no rollover
	GrantPurchase      = "purchase"       // never expires
	GrantFreeTier      = "free_tier"
	GrantPromo         = "promo"
	GrantAdjustment    = "adjustment"
)

// Account is an organization's ledger head: the row locked to serialise its ledger, with the
// org settings the ledger needs.
type Account struct {
	OrgID           string        `db:"org_id"`
	Balance         Millicredits  `db:"balance_mc"`
	Arrears         Millicredits  `db:"arrears_mc"`
	CycleStart      time.Time     `db:"cycle_start"`
	CycleEnd        time.Time     `db:"cycle_end"`
	CycleUsed       Millicredits  `db:"cycle_used_mc"`
	PlanCode        string        `db:"plan_code"`
	CustomAllotment *Millicredits `db:"custom_allotment_mc"`
	CycleAnchor     time.Time     `db:"cycle_anchor"`
	Timezone        string        `db:"timezone"`
	MonthlyLimit    *Millicredits `db:"monthly_limit_mc"`
	PlanCredits     *Millicredits `db:"plan_credits_mc"`
	// Thresholds are the percentages of MonthlyLimit that notify (threshold_reached).
	Thresholds pq.Int64Array `db:"threshold_percents"`
	// LowBalance is the balance at or below which admins are told (low_balance); nil: none.
	LowBalance *Millicredits `db:"low_balance_mc"`
}

// allotment is the credits the org's plan grants each cycle.
func (a *Account) allotment() Millicredits {
	if a.PlanCredits != nil {
		return *a.PlanCredits
	}
	if a.CustomAllotment != nil {
		return *a.CustomAllotment
	}
	return 0
}

// liveGrant is a grant with credit left, as consumption sees it.
type liveGrant struct {
	ID        int64        `db:"id"`
	Kind      string       `db:"kind"`
	Remaining Millicredits `db:"remaining_mc"`
	ExpiresAt *time.Time   `db:"expires_at"`
}

// allocation is the part of a cost paid by one grant.
type allocation struct {
	GrantID int64
	Amount  Millicredits
}

// allocate splits cost across grants in the order given (consumption order), taking from each
// until the cost is paid. It returns the parts and what no grant could pay (the deficit that
// becomes arrears). grants' Remaining are reduced in place.
func allocate(grants []*liveGrant, cost Millicredits) (parts []allocation, unfunded Millicredits) {
	left := cost
	for _, g := range grants {
		if left == 0 {
			break
		}
		take := min(g.Remaining, left)
		if take <= 0 {
			continue
		}
		g.Remaining -= take
		left -= take
		parts = append(parts, allocation{GrantID: g.ID, Amount: take})
	}
	return parts, left
}

// consumptionOrder sorts grants soonest-expiring first, then never-expiring oldest first.
func consumptionOrder(grants []*liveGrant) {
	sort.SliceStable(grants, func(i, j int) bool {
		a, b := grants[i].ExpiresAt, grants[j].ExpiresAt
		switch {
		case a != nil && b != nil && !a.Equal(*b):
			return a.Before(*b)
		case a != nil && b == nil:
			return true
		case a == nil && b != nil:
			return false
		}
		return grants[i].ID < grants[j].ID
	})
}

// ledgerTx is an organization's ledger inside one transaction, with its account row locked.
// Changes to grants and the account are kept in memory and written by flush.
type ledgerTx struct {
	tx      *sqlx.Tx
	store   *Store
	acct    Account
	now     time.Time
	grants  []*liveGrant // nil until loaded
	dirty   map[int64]*liveGrant
	allocs  []pendingAlloc
	touched bool     // the account row needs writing
	notices []Notice // queued for the outbox; written by flush

	prices   planPrices   // plan prices, for renewals charged at a cycle start
	invoicer PlanInvoicer // invoices plan charges; may be nil
}

type pendingAlloc struct {
	EntryID int64
	GrantID int64
	Amount  Millicredits
	Settled bool
}

// newLedgerTx is the one way a ledger transaction is made: with the plan prices and the
// invoicer, since any rollover it runs renews and invoices the plan.
func (s *Service) newLedgerTx(tx *sqlx.Tx, now time.Time) *ledgerTx {
	return &ledgerTx{tx: tx, store: s.Store, now: now, dirty: map[int64]*liveGrant{}, prices: s.planPrices, invoicer: s.planInvoicer}
}

// lockLedger locks org's account row and rolls its cycle over if it has ended.
func (s *Service) lockLedger(ctx context.Context, tx *sqlx.Tx, orgID string, now time.Time) (*ledgerTx, error) {
	lt := s.newLedgerTx(tx, now)
	if err := s.Get(ctx, tx, &lt.acct, queries.LockAccount, orgID); err != nil {
		return nil, NotFound(err, "organization not found", "lock account")
	}
	if !lt.acct.CycleEnd.After(now) {
		if err := lt.rollover(ctx); err != nil {
			return nil, err
		}
	}
	return lt, nil
}

// loadGrants reads the live grants once per transaction and expires those past their date.
func (lt *ledgerTx) loadGrants(ctx context.Context) error {
	if lt.grants != nil {
		return lt.expireDue(ctx, lt.now)
	}
	var gs []*liveGrant
	if err := lt.store.Select(ctx, lt.tx, &gs, queries.SelectLiveGrants, lt.acct.OrgID); err != nil {
		return fmt.Errorf("billing: live grants: %w", err)
	}
	if gs == nil {
		gs = []*liveGrant{}
	}
	lt.grants = gs
	return lt.expireDue(ctx, lt.now)
}

// expireDue forfeits the remainder of every grant that expired at or before at: an expiry entry
// per grant, so the ledger keeps what was lost.
func (lt *ledgerTx) expireDue(ctx context.Context, at time.Time) error {
	for _, g := range lt.grants {
		if g.ExpiresAt == nil || g.ExpiresAt.After(at) || g.Remaining == 0 {
			continue
		}
		amount := g.Remaining
		id, err := lt.insertEntry(ctx, 0, "expiry", -amount, &g.ID, 0, fmt.Sprintf("%s expired", GrantKindLabel(g.Kind)), *g.ExpiresAt)
		if err != nil {
			return err
		}
		lt.allocs = append(lt.allocs, pendingAlloc{EntryID: id, GrantID: g.ID, Amount: amount})
		g.Remaining = 0
		lt.dirty[g.ID] = g
		lt.acct.Balance -= amount
		lt.touched = true
	}
	return nil
}

// rollover moves the account into the cycle that contains now, one cycle at a time so that a
// server that was down for several cycles catches up exactly: each ended cycle's allotment
// expires, the plan change pending for the next one is applied and its allotment is granted once
// (grants_allotment_once makes a second grant for the same cycle impossible even across servers).
func (lt *ledgerTx) rollover(ctx context.Context) error {
	before := orgStateOf(&lt.acct)
	for !lt.acct.CycleEnd.After(lt.now) {
		if err := lt.loadGrants(ctx); err != nil {
			return err
		}
		if err := lt.expireDue(ctx, lt.acct.CycleEnd); err != nil {
			return err
		}
		start, end := NextCycle(lt.acct.CycleAnchor, lt.acct.CycleStart)
		lt.acct.CycleStart, lt.acct.CycleEnd, lt.acct.CycleUsed = start, end, 0
		lt.touched = true
		if err := lt.startCycle(ctx); err != nil {
			return err
		}
	}
	return lt.rolloverNotices(ctx, before)
}

// grantAllotment grants the current cycle's plan allotment, expiring at the cycle's end.
func (lt *ledgerTx) grantAllotment(ctx context.Context) error {
	amount := lt.acct.allotment()
	if amount <= 0 {
		return nil
	}
	end := lt.acct.CycleEnd
	_, err := lt.grant(ctx, GrantPlanAllotment, amount, &end, cycleRef(lt.acct.CycleStart), "Monthly plan allotment", lt.acct.CycleStart)
	return err
}

func cycleRef(start time.Time) string { return start.UTC().Format(time.RFC3339) }

// grant adds a grant and its ledger entry, then settles arrears from it. It returns 0 when a
// grant with the same once-only reference (an allotment's cycle, a purchase's payment) exists.
func (lt *ledgerTx) grant(ctx context.Context, kind string, amount Millicredits, expiresAt *time.Time, ref, memo string, at time.Time) (int64, error) {
	var id int64
	rows, err := lt.tx.QueryContext(ctx, queries.InsertGrant, lt.acct.OrgID, kind, amount, expiresAt, ref, at)
	if err != nil {
		return 0, fmt.Errorf("billing: insert grant: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("billing: insert grant: %w", err)
	}
	if id == 0 {
		return 0, nil
	}
	if _, err := lt.insertEntry(ctx, 0, "grant", amount, &id, 0, memo, at); err != nil {
		return 0, err
	}
	g := &liveGrant{ID: id, Kind: kind, Remaining: amount, ExpiresAt: expiresAt}
	lt.acct.Balance += amount
	lt.touched = true
	if lt.acct.Arrears > 0 {
		if err := lt.settleArrears(ctx, g); err != nil {
			return 0, err
		}
	}
	if lt.grants != nil {
		lt.grants = append(lt.grants, g)
		consumptionOrder(lt.grants)
	}
	lt.dirty[g.ID] = g
	return id, nil
}

// settleArrears pays the oldest unpaid usage from g. The balance does not change (the usage
// was already counted against it); the arrears shrink and g's remainder with them.
func (lt *ledgerTx) settleArrears(ctx context.Context, g *liveGrant) error {
	var open []struct {
		ID   int64        `db:"id"`
		Open Millicredits `db:"open_mc"`
	}
	// Earlier settlements in this transaction must be visible to the query.
	if err := lt.flushAllocations(ctx); err != nil {
		return err
	}
	if err := lt.tx.SelectContext(ctx, &open, queries.SelectUnfundedEntries, lt.acct.OrgID); err != nil {
		return fmt.Errorf("billing: unfunded entries: %w", err)
	}
	for _, e := range open {
		if g.Remaining == 0 || lt.acct.Arrears == 0 {
			break
		}
		take := min(e.Open, g.Remaining, lt.acct.Arrears)
		if take <= 0 {
			continue
		}
		lt.allocs = append(lt.allocs, pendingAlloc{EntryID: e.ID, GrantID: g.ID, Amount: take, Settled: true})
		g.Remaining -= take
		lt.acct.Arrears -= take
	}
	return nil
}

// allocateDebit charges cost to the ledger in memory as usage entry entryID: grants pay in
// consumption order, the rest becomes arrears. It returns the unfunded part. The caller writes
// the entry itself, with the allocations (takeAllocations) and grants (takeGrantRemainders).
// Grants must be loaded.
func (lt *ledgerTx) allocateDebit(entryID int64, cost Millicredits) (unfunded Millicredits) {
	live := lt.grants[:0:0]
	for _, g := range lt.grants {
		if g.Remaining > 0 {
			live = append(live, g)
		}
	}
	parts, unfunded := allocate(live, cost)
	for _, p := range parts {
		lt.allocs = append(lt.allocs, pendingAlloc{EntryID: entryID, GrantID: p.GrantID, Amount: p.Amount})
		for _, g := range live {
			if g.ID == p.GrantID {
				lt.dirty[g.ID] = g
			}
		}
	}
	lt.acct.Balance -= cost
	lt.acct.Arrears += unfunded
	lt.acct.CycleUsed += cost
	lt.touched = true
	return unfunded
}

// takeAllocations returns the pending allocations as statement arguments (entry ids, grant
// ids, amounts, settled flags) and forgets them.
func (lt *ledgerTx) takeAllocations() []any {
	n := len(lt.allocs)
	entries, grants, amounts := make([]int64, n), make([]int64, n), make([]int64, n)
	settled := make([]bool, n)
	for i, a := range lt.allocs {
		entries[i], grants[i], amounts[i], settled[i] = a.EntryID, a.GrantID, int64(a.Amount), a.Settled
	}
	lt.allocs = nil
	return []any{pq.Array(entries), pq.Array(grants), pq.Array(amounts), pq.Array(settled)}
}

// takeGrantRemainders returns the changed grants as statement arguments (ids, remainders),
// in id order, and forgets them.
func (lt *ledgerTx) takeGrantRemainders() []any {
	ids := make([]int64, 0, len(lt.dirty))
	for id := range lt.dirty {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	rem := make([]int64, len(ids))
	for i, id := range ids {
		rem[i] = int64(lt.dirty[id].Remaining)
	}
	lt.dirty = map[int64]*liveGrant{}
	return []any{pq.Array(ids), pq.Array(rem)}
}

func (lt *ledgerTx) insertEntry(ctx context.Context, id int64, kind string, amount Millicredits, grantID *int64, unfunded Millicredits, memo string, at time.Time) (int64, error) {
	var out int64
	err := lt.tx.QueryRowxContext(ctx, queries.InsertLedgerEntry, id, lt.acct.OrgID, kind, amount, grantID, unfunded, memo, at).Scan(&out)
	if err != nil {
		return 0, fmt.Errorf("billing: insert %s entry: %w", kind, err)
	}
	return out, nil
}

// flush writes the allocations, the grants' remainders, the account row and the queued notices.
func (lt *ledgerTx) flush(ctx context.Context) error {
	if err := lt.flushAllocations(ctx); err != nil {
		return err
	}
	if len(lt.dirty) > 0 {
		if _, err := lt.tx.ExecContext(ctx, queries.UpdateGrantRemainders, lt.takeGrantRemainders()...); err != nil {
			return fmt.Errorf("billing: update grants: %w", err)
		}
	}
	if lt.touched {
		a := lt.acct
		if _, err := lt.tx.ExecContext(ctx, queries.UpdateAccount, a.OrgID, a.Balance, a.Arrears, a.CycleStart, a.CycleEnd, a.CycleUsed, lt.now); err != nil {
			return fmt.Errorf("billing: update account: %w", err)
		}
		lt.touched = false
	}
	return lt.flushNotices(ctx)
}

func (lt *ledgerTx) flushAllocations(ctx context.Context) error {
	if len(lt.allocs) == 0 {
		return nil
	}
	args := append([]any{lt.acct.OrgID}, lt.takeAllocations()...)
	args = append(args, lt.now)
	if _, err := lt.tx.ExecContext(ctx, queries.InsertAllocations, args...); err != nil {
		return fmt.Errorf("billing: insert allocations: %w", err)
	}
	return nil
}

// GrantKindLabel names a kind of grant for people: "Plan allotment", "Purchased credits".
func GrantKindLabel(kind string) string {
	switch kind {
	case GrantPlanAllotment:
		return "Plan allotment"
	case GrantPurchase:
		return "Purchased credits"
	case GrantFreeTier:
		return "Free credits"
	case GrantPromo:
		return "Promotional credits"
	case GrantAdjustment:
		return "Adjustment"
	}
	return kind
}

// GrantCredits adds a grant of amount to org: a purchase, a promo, an adjustment. Arrears are
// settled from it first. ref makes a purchase once-only: granting the same purchase ref again
// returns (0, nil) and changes nothing. expiresAt nil means the credits never expire.
func (s *Service) GrantCredits(ctx context.Context, orgID, kind string, amount Millicredits, expiresAt *time.Time, ref, memo string) (int64, error) {
	var id int64
	err := s.WithLedger(ctx, orgID, func(l *LedgerTx) error {
		var err error
		id, err = l.Grant(ctx, kind, amount, expiresAt, ref, memo)
		return err
	})
	return id, err
}

// RollOverDue rolls over the cycles of up to limit organizations whose cycle has ended, so that
// allotments expire and renew on time even without traffic. It returns how many it rolled.
func (s *Service) RollOverDue(ctx context.Context, limit int) (int, error) {
	now := s.now()
	var orgs []string
	if err := s.db.SelectContext(ctx, &orgs, queries.SelectDueAccounts, now, limit); err != nil {
		return 0, fmt.Errorf("billing: due accounts: %w", err)
	}
	for _, org := range orgs {
		err := s.InTx(ctx, func(tx *sqlx.Tx) error {
			lt, err := s.lockLedger(ctx, tx, org, now)
			if err != nil {
				return err
			}
			return lt.flush(ctx)
		})
		if err != nil {
			return 0, err
		}
	}
	return len(orgs), nil
}
