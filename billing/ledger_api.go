package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// GrantRemainders returns what is left of each of org's grants among ids (a grant of another org
// is absent from the map). It reads without the ledger lock: a figure to show, not to act on.
func (s *Service) GrantRemainders(ctx context.Context, orgID string, ids []int64) (map[int64]Millicredits, error) {
	var rows []struct {
		ID        int64        `db:"id"`
		Remaining Millicredits `db:"remaining_mc"`
	}
	if err := s.db.SelectContext(ctx, &rows, queries.SelectGrantRemainders, orgID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("billing: grant remainders: %w", err)
	}
	out := make(map[int64]Millicredits, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Remaining
	}
	return out, nil
}

// LedgerTx is an organization's ledger inside one transaction, with its account row locked:
// what a capability (payments, plans) uses to move credits together with its own statements.
// It is valid only inside the function given to WithLedger.
type LedgerTx struct {
	lt *ledgerTx
}

// WithLedger opens a transaction, locks org's account row (the one lock that serialises its
// ledger: usage, grants and refunds of the org wait for each other), rolls its cycle over if it
// ended, and calls fn. When fn returns nil the ledger changes are written and the transaction
// commits; otherwise everything fn did, in the ledger and through l.Tx(), is rolled back.
// Notices queued with l.Emit are written to the outbox in the same transaction, with those of
// what changed: a pause that began or ended, a threshold reached under a new limit.
// An unknown org is ENOTFOUND.
//
// Lock order: the account row first, then the capability's own rows.
func (s *Service) WithLedger(ctx context.Context, orgID string, fn func(l *LedgerTx) error) error {
	return s.withLedger(ctx, orgID, func(lt *ledgerTx) error { return fn(&LedgerTx{lt: lt}) })
}

// Tx is the transaction, for the capability's own statements.
func (l *LedgerTx) Tx() *sqlx.Tx { return l.lt.tx }

// Now is the transaction's time: every entry it writes is dated now.
func (l *LedgerTx) Now() time.Time { return l.lt.now }

// OrgID is the organization whose ledger is locked.
func (l *LedgerTx) OrgID() string { return l.lt.acct.OrgID }

// Balance is the org's available balance as the transaction stands (grants' remainders minus
// arrears).
func (l *LedgerTx) Balance() Millicredits { return l.lt.acct.Balance }

// Grant adds a grant of amount (> 0) of kind (GrantPurchase, GrantPromo, GrantAdjustment,
// GrantFreeTier) with its ledger entry, then settles arrears from it first, so a paused org
// resumes at once. expiresAt nil means the credits never expire. A non-empty ref makes a
// purchase once-only (index grants_purchase_once): when a grant of that kind and ref exists,
// Grant returns (0, nil) and changes nothing.
func (l *LedgerTx) Grant(ctx context.Context, kind string, amount Millicredits, expiresAt *time.Time, ref, memo string) (int64, error) {
	switch kind {
	case GrantPurchase, GrantFreeTier, GrantPromo, GrantAdjustment:
	default:
		return 0, Errorf(EINVALID, "grant kind %q cannot be granted by hand", kind)
	}
	if amount <= 0 {
		return 0, Errorf(EINVALID, "a grant must be a positive amount of credits")
	}
	if expiresAt != nil && !expiresAt.After(l.lt.now) {
		return 0, Errorf(EINVALID, "a grant's expiry must be in the future")
	}
	if memo == "" {
		memo = GrantKindLabel(kind)
	}
	// Loaded first, so that the new grant joins the transaction's view of live grants.
	if err := l.lt.loadGrants(ctx); err != nil {
		return 0, err
	}
	return l.lt.grant(ctx, kind, amount, expiresAt, ref, memo, l.lt.now)
}

// GrantRemaining returns what is left of grant grantID of the locked org: 0 for a used-up or
// expired grant (a grant past its expiry is expired first) and for a grant of another org.
func (l *LedgerTx) GrantRemaining(ctx context.Context, grantID int64) (Millicredits, error) {
	g, err := l.liveGrant(ctx, grantID)
	if err != nil || g == nil {
		return 0, err
	}
	return g.Remaining, nil
}

// RemoveFromGrant takes amount (> 0) of the unused remainder of grant grantID away: a refund
// ledger entry of −amount, with an allocation against the grant, so the balance and the grant's
// remainder fall together. It returns the entry's id. Because the account row is locked, usage
// cannot spend the same credits meanwhile. More than the remainder (or a grant of another org)
// is ECONFLICT.
func (l *LedgerTx) RemoveFromGrant(ctx context.Context, grantID int64, amount Millicredits, memo string) (int64, error) {
	if amount <= 0 {
		return 0, Errorf(EINVALID, "a refund must be a positive amount of credits")
	}
	g, err := l.liveGrant(ctx, grantID)
	if err != nil {
		return 0, err
	}
	if g == nil || g.Remaining < amount {
		return 0, Errorf(ECONFLICT, "only %s credits of this grant are unused", remainingOf(g))
	}
	lt := l.lt
	id, err := lt.insertEntry(ctx, 0, "refund", -amount, &g.ID, 0, memo, lt.now)
	if err != nil {
		return 0, err
	}
	lt.allocs = append(lt.allocs, pendingAlloc{EntryID: id, GrantID: g.ID, Amount: amount})
	g.Remaining -= amount
	lt.dirty[g.ID] = g
	lt.acct.Balance -= amount
	lt.touched = true
	return id, nil
}

func remainingOf(g *liveGrant) Millicredits {
	if g == nil {
		return 0
	}
	return g.Remaining
}

// liveGrant returns the grant grantID of the org from its live grants (expiring those past
// their date first), or nil when it has nothing left or is not the org's.
func (l *LedgerTx) liveGrant(ctx context.Context, grantID int64) (*liveGrant, error) {
	if err := l.lt.loadGrants(ctx); err != nil {
		return nil, err
	}
	for _, g := range l.lt.grants {
		if g.ID == grantID {
			return g, nil
		}
	}
	return nil, nil
}
