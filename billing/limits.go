package billing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"
)

// MaxLimit is the largest monthly limit (or low-balance alert) accepted: a billion credits.
const MaxLimit = 1_000_000_000 * Credit

// MaxThresholds is how many alert thresholds an organization may have.
const MaxThresholds = 10

// DefaultThresholds are a new organization's alert thresholds, in percent of its monthly limit.
var DefaultThresholds = []int{50, 80, 100}

// LimitSettings are an organization's spending limit and alert settings.
type LimitSettings struct {
	MonthlyLimit *Millicredits // nil: no monthly limit
	Thresholds   []int         // percents of the monthly limit, ascending, each 1–100, no duplicates
	LowBalance   *Millicredits // nil: no low-balance alert
}

// CheckMonthlyLimit checks a monthly limit (the org's or a member's): nil (no limit), or more
// than 0 and at most MaxLimit. EINVALID says what is wrong.
func CheckMonthlyLimit(limit *Millicredits) error {
	switch {
	case limit == nil:
		return nil
	case *limit < 0:
		return Errorf(EINVALID, "a monthly limit cannot be negative; leave it empty for no limit")
	case *limit == 0:
		return Errorf(EINVALID, "a monthly limit must be more than 0 credits; leave it empty for no limit")
	case *limit > MaxLimit:
		return Errorf(EINVALID, "a monthly limit can be at most %s credits", MaxLimit)
	}
	return nil
}

// CheckLowBalance checks a low-balance alert: nil (none), or more than 0 and at most MaxLimit.
func CheckLowBalance(alert *Millicredits) error {
	switch {
	case alert == nil:
		return nil
	case *alert < 0:
		return Errorf(EINVALID, "a low-balance alert cannot be negative; leave it empty for none")
	case *alert == 0:
		return Errorf(EINVALID, "a low-balance alert must be more than 0 credits (flows pause at 0 anyway); leave it empty for none")
	case *alert > MaxLimit:
		return Errorf(EINVALID, "a low-balance alert can be at most %s credits", MaxLimit)
	}
	return nil
}

// CheckThresholds checks alert thresholds: whole percents from 1 to 100, each once, at most
// MaxThresholds of them. An empty list is valid (no alerts).
func CheckThresholds(ps []int) error {
	if len(ps) > MaxThresholds {
		return Errorf(EINVALID, "at most %d thresholds are allowed", MaxThresholds)
	}
	seen := map[int]bool{}
	for _, p := range ps {
		switch {
		case p > 100:
			return Errorf(EINVALID, "%d%% is over 100: a threshold is a percent of the monthly limit, from 1 to 100", p)
		case p < 1:
			return Errorf(EINVALID, "%d%% is under 1: a threshold is a percent of the monthly limit, from 1 to 100", p)
		case seen[p]:
			return Errorf(EINVALID, "%d%% is listed twice: each threshold once", p)
		}
		seen[p] = true
	}
	return nil
}

type limitRow struct {
	MonthlyLimit *Millicredits `db:"monthly_limit_mc"`
	Thresholds   pq.Int64Array `db:"threshold_percents"`
	LowBalance   *Millicredits `db:"low_balance_mc"`
}

func (r *limitRow) settings() *LimitSettings {
	ps := make([]int, len(r.Thresholds))
	for i, p := range r.Thresholds {
		ps[i] = int(p)
	}
	return &LimitSettings{MonthlyLimit: r.MonthlyLimit, Thresholds: ps, LowBalance: r.LowBalance}
}

// LimitSettings returns org's limit and alert settings (read without the ledger lock: a figure
// to show). ENOTFOUND for an unknown org.
func (s *Service) LimitSettings(ctx context.Context, orgID string) (*LimitSettings, error) {
	var r limitRow
	if err := s.Get(ctx, nil, &r, queries.SelectLimitSettings, orgID); err != nil {
		return nil, NotFound(err, "organization not found", "select limit settings")
	}
	return r.settings(), nil
}

// LimitSettings returns the locked org's limit and alert settings as the transaction stands.
func (l *LedgerTx) LimitSettings(ctx context.Context) (*LimitSettings, error) {
	var r limitRow
	if err := l.lt.store.Get(ctx, l.lt.tx, &r, queries.SelectLimitSettings, l.OrgID()); err != nil {
		return nil, NotFound(err, "organization not found", "select limit settings")
	}
	return r.settings(), nil
}

// SetLimitSettings replaces the locked org's limit and alert settings (thresholds are stored
// ascending). Invalid settings are EINVALID and change nothing. Because pause state is derived
// from the limit and the counters on every call, flows a raised limit unpauses resume as soon
// as the transaction commits.
func (l *LedgerTx) SetLimitSettings(ctx context.Context, set LimitSettings) error {
	if err := CheckMonthlyLimit(set.MonthlyLimit); err != nil {
		return err
	}
	if err := CheckThresholds(set.Thresholds); err != nil {
		return err
	}
	if err := CheckLowBalance(set.LowBalance); err != nil {
		return err
	}
	ps := make(pq.Int64Array, len(set.Thresholds))
	for i, p := range set.Thresholds {
		ps[i] = int64(p)
	}
	slices.Sort(ps)
	if _, err := l.lt.tx.ExecContext(ctx, queries.UpdateLimitSettings, l.OrgID(), set.MonthlyLimit, ps, set.LowBalance); err != nil {
		return fmt.Errorf("billing: set limits: %w", err)
	}
	l.lt.acct.MonthlyLimit, l.lt.acct.Thresholds, l.lt.acct.LowBalance = set.MonthlyLimit, ps, set.LowBalance
	return nil
}

// CycleUsed is the credits the locked org used in its current cycle.
func (l *LedgerTx) CycleUsed() Millicredits { return l.lt.acct.CycleUsed }

// MonthlyLimit is the locked org's monthly limit as the transaction stands (nil: none).
func (l *LedgerTx) MonthlyLimit() *Millicredits { return l.lt.acct.MonthlyLimit }

// MemberStanding returns user's role, limit and usage in the locked org's current cycle.
// ENOTFOUND when user is not a member of the org.
func (l *LedgerTx) MemberStanding(ctx context.Context, userID string) (*MemberStanding, error) {
	var m MemberStanding
	if err := l.lt.store.Get(ctx, l.lt.tx, &m, queries.SelectMemberStanding, l.OrgID(), userID, l.lt.acct.CycleStart); err != nil {
		return nil, NotFound(err, "that user is not a member of this organization", "select member standing")
	}
	m.CycleStart, m.CycleEnd = l.lt.acct.CycleStart, l.lt.acct.CycleEnd
	return &m, nil
}

// SetMemberLimit sets a member's own monthly credit limit in the locked org; nil removes it.
// EINVALID for an invalid limit, ENOTFOUND when user is not a member of the org. Usage of the
// org waits for this transaction (it holds the account lock), so no batch is judged against a
// limit that is half-changed.
func (l *LedgerTx) SetMemberLimit(ctx context.Context, userID string, limit *Millicredits) error {
	if err := CheckMonthlyLimit(limit); err != nil {
		return err
	}
	res, err := l.lt.tx.ExecContext(ctx, queries.SetMemberLimit, l.OrgID(), userID, limit)
	if err != nil {
		return fmt.Errorf("billing: set member limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "that user is not a member of this organization")
	}
	return nil
}

// SetMonthlyLimit sets the organization's monthly credit limit (nil removes it) under its
// ledger lock, leaving thresholds and the low-balance alert as they are. It writes no audit
// entry: people change limits through billing/limits, which does.
func (s *Service) SetMonthlyLimit(ctx context.Context, orgID string, limit *Millicredits) error {
	return s.WithLedger(ctx, orgID, func(l *LedgerTx) error {
		cur, err := l.LimitSettings(ctx)
		if err != nil {
			return err
		}
		cur.MonthlyLimit = limit
		return l.SetLimitSettings(ctx, *cur)
	})
}

// SetMemberLimit sets a member's own monthly credit limit (nil removes it) under the org's
// ledger lock. ENOTFOUND when the user is not a member of the org. No audit entry (see
// SetMonthlyLimit).
func (s *Service) SetMemberLimit(ctx context.Context, orgID, userID string, limit *Millicredits) error {
	return s.WithLedger(ctx, orgID, func(l *LedgerTx) error { return l.SetMemberLimit(ctx, userID, limit) })
}

// MemberStanding is a member's own position in the current billing cycle.
type MemberStanding struct {
	UserID string        `db:"user_id"`
	Role   string        `db:"role"`
	Limit  *Millicredits `db:"monthly_limit_mc"` // nil: no member limit
	Used   Millicredits  `db:"used_mc"`          // credits this member's flows used this cycle
	// CycleStart and CycleEnd bound the cycle Used counts.
	CycleStart time.Time `db:"-"`
	CycleEnd   time.Time `db:"-"`
}

// Paused reports whether the member's own monthly limit is reached, which pauses their flows.
func (m *MemberStanding) Paused() bool { return m.Limit != nil && m.Used >= *m.Limit }

// MemberStanding returns user's limit and usage in org's current cycle (rolling the cycle over
// first if it ended). ENOTFOUND when user is not a member of org.
func (s *Service) MemberStanding(ctx context.Context, orgID, userID string) (*MemberStanding, error) {
	a, err := s.currentAccount(ctx, orgID, s.now())
	if err != nil {
		return nil, err
	}
	var m MemberStanding
	if err := s.db.GetContext(ctx, &m, queries.SelectMemberStanding, orgID, userID, a.CycleStart); err != nil {
		return nil, NotFound(err, "you are not a member of this organization", "select member standing")
	}
	m.CycleStart, m.CycleEnd = a.CycleStart, a.CycleEnd
	return &m, nil
}

// MemberStandings returns every member of org with their role, own limit and usage in the
// current cycle (rolling it over first if it ended): admins first, then in the order they
// joined.
func (s *Service) MemberStandings(ctx context.Context, orgID string) ([]MemberStanding, error) {
	a, err := s.currentAccount(ctx, orgID, s.now())
	if err != nil {
		return nil, err
	}
	out := []MemberStanding{}
	if err := s.db.SelectContext(ctx, &out, queries.SelectMemberUsage, orgID, a.CycleStart); err != nil {
		return nil, fmt.Errorf("billing: member usage: %w", err)
	}
	for i := range out {
		out[i].CycleStart, out[i].CycleEnd = a.CycleStart, a.CycleEnd
	}
	return out, nil
}
