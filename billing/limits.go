package billing

import (
	"context"
	_ "embed"
	"fmt"
	"time"
)

// MaxLimit is the largest monthly limit accepted: a billion credits.
const MaxLimit = 1_000_000_000 * Credit

func checkLimit(limit *Millicredits) error {
	if limit != nil && (*limit <= 0 || *limit > MaxLimit) {
		return Errorf(EINVALID, "a monthly limit must be more than 0 and at most %s credits; leave it empty for no limit", MaxLimit)
	}
	return nil
}

// SetMonthlyLimit sets the organization's monthly credit limit; nil removes it. Flows paused by
// the limit resume at once when it is raised above this cycle's usage (pause state is derived,
// never stored).
func (s *Service) SetMonthlyLimit(ctx context.Context, orgID string, limit *Millicredits) error {
	if err := checkLimit(limit); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, queries.SetOrgLimit, orgID, limit)
	if err != nil {
		return fmt.Errorf("billing: set monthly limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "organization not found")
	}
	return nil
}

// SetMemberLimit sets a member's own monthly credit limit; nil removes it. ENOTFOUND when the
// user is not a member of the org.
func (s *Service) SetMemberLimit(ctx context.Context, orgID, userID string, limit *Millicredits) error {
	if err := checkLimit(limit); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, queries.SetMemberLimit, orgID, userID, limit)
	if err != nil {
		return fmt.Errorf("billing: set member limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "that user is not a member of this organization")
	}
	return nil
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
