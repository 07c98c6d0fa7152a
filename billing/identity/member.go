package identity

import (
	"context"
	"fmt"
)

// Contact is a person to ask, such as an admin who can add credits.
type Contact struct {
	UserID string `db:"id"`
	Email  string `db:"email"`
	Name   string `db:"name"`
}

// OrgAdmins returns the admins of org, by name.
func (s *Service) OrgAdmins(ctx context.Context, orgID string) ([]Contact, error) {
	out := []Contact{}
	if err := s.store.DB().SelectContext(ctx, &out, queries.SelectOrgAdmins, orgID); err != nil {
		return nil, fmt.Errorf("billing: org admins: %w", err)
	}
	return out, nil
}

// OrgMembers returns every member of org (admins and members), keyed by user id.
func (s *Service) OrgMembers(ctx context.Context, orgID string) (map[string]Contact, error) {
	var rows []Contact
	if err := s.store.DB().SelectContext(ctx, &rows, queries.SelectOrgMembers, orgID); err != nil {
		return nil, fmt.Errorf("billing: org members: %w", err)
	}
	out := make(map[string]Contact, len(rows))
	for _, c := range rows {
		out[c.UserID] = c
	}
	return out, nil
}
