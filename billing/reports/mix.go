package reports

import (
	"context"
	"fmt"
	"sort"

	"github.com/luxstudio/lux-billing/billing"
)

// TypeUsage is what an organization used of one usage type and model (model is "" for types
// without models) over a range of days.
type TypeUsage struct {
	Type  string
	Model string
	UsageSum
}

// UsageMix returns an organization's usage over the org-local days from and to (both
// included), per usage type and model, in the order of billing.Types, then by model. Like
// UsageReport it reads only the daily rollup. An invalid range is EINVALID; an unknown
// organization ENOTFOUND.
func (s *Service) UsageMix(ctx context.Context, orgID string, from, to Date) ([]TypeUsage, error) {
	if _, err := (Query{From: from, To: to}).Normalize(); err != nil {
		return nil, err
	}
	if _, _, err := s.orgZone(ctx, orgID); err != nil {
		return nil, err
	}
	rows, err := s.store.DB().QueryContext(ctx, queries.SelectUsageMix, orgID, from, to)
	if err != nil {
		return nil, fmt.Errorf("reports: usage mix: %w", err)
	}
	defer rows.Close()
	var out []TypeUsage
	for rows.Next() {
		var u TypeUsage
		if err := rows.Scan(&u.Type, &u.Model, &u.Credits, &u.Quantity, &u.Events); err != nil {
			return nil, fmt.Errorf("reports: usage mix: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reports: usage mix: %w", err)
	}
	rank := func(t string) int {
		for i, v := range billing.Types {
			if v == t {
				return i
			}
		}
		return len(billing.Types) // a type the code does not list yet goes last
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Type) < rank(out[j].Type) })
	return out, nil
}
