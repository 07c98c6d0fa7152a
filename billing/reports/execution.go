package reports

import (
	"context"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
)

// ExecutionCost is what one execution cost so far: credits by usage type and the total.
type ExecutionCost struct {
	FlowID      string
	ExecutionID string
	ByType      map[string]billing.Millicredits // one key per type used
	Total       billing.Millicredits
}

// ExecutionCost returns what one execution of org has cost so far; ENOTFOUND when the org has
// no usage for it (another org's execution is not found either).
func (s *Service) ExecutionCost(ctx context.Context, orgID, executionID string) (*ExecutionCost, error) {
	var rows []struct {
		Type    string               `db:"type"`
		FlowID  string               `db:"flow_id"`
		Credits billing.Millicredits `db:"credits_mc"`
	}
	if err := s.store.DB().SelectContext(ctx, &rows, queries.SelectExecution, orgID, executionID); err != nil {
		return nil, fmt.Errorf("billing: execution %q: %w", executionID, err)
	}
	if len(rows) == 0 {
		return nil, billing.Errorf(billing.ENOTFOUND, "no usage recorded for execution %q", executionID)
	}
	out := &ExecutionCost{ExecutionID: executionID, FlowID: rows[0].FlowID, ByType: map[string]billing.Millicredits{}}
	for _, r := range rows {
		out.ByType[r.Type] += r.Credits
		out.Total += r.Credits
	}
	return out, nil
}
