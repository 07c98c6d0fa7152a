package billing

import (
	"context"
	"fmt"
	"strings"
)

// NameFlow sets the display name of a flow of org, creating the flow if it has no usage yet.
func (s *Service) NameFlow(ctx context.Context, orgID, flowID, name string) error {
	name = strings.TrimSpace(name)
	if flowID == "" || len(flowID) > MaxIDLength || len(name) > 200 {
		return Errorf(EINVALID, "a flow needs an id of 1 to %d characters and a name of at most 200", MaxIDLength)
	}
	if _, err := s.db.ExecContext(ctx, queries.UpsertFlow, orgID, flowID, name, s.now()); err != nil {
		return fmt.Errorf("billing: name flow: %w", err)
	}
	return nil
}

// CountOrgs returns how many organizations exist (the demo seed runs only on an empty database).
func (s *Service) CountOrgs(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, queries.CountOrgs); err != nil {
		return 0, fmt.Errorf("billing: count orgs: %w", err)
	}
	return n, nil
}
