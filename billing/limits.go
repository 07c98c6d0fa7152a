package billing

import (
	"context"
	_ "embed"
	"fmt"
)

//go:embed limits.sql
var limitsSQL string

type limitQueries struct {
	setOrgLimit    string `query:"set-org-limit"`
	setMemberLimit string `query:"set-member-limit"`
}

var lq = mustLoadQueries[limitQueries](limitsSQL)

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
	res, err := s.db.ExecContext(ctx, lq.setOrgLimit, orgID, limit)
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
	res, err := s.db.ExecContext(ctx, lq.setMemberLimit, orgID, userID, limit)
	if err != nil {
		return fmt.Errorf("billing: set member limit: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "that user is not a member of this organization")
	}
	return nil
}
