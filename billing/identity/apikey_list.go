package identity

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
)

// MaxAPIKeyName is the longest name an API key may have, in characters.
const MaxAPIKeyName = 100

// maxListedKeys bounds the keys one listing returns.
const maxListedKeys = 500

// APIKey is an API key as its list shows it; the secret itself is never stored.
type APIKey struct {
	ID        int64      `db:"id"`
	Name      string     `db:"name"`
	Prefix    string     `db:"prefix"` // the first characters of the secret, e.g. "lux_1a2b3c"
	UserID    string     `db:"user_id"`
	UserName  string     `db:"user_name"`
	UserEmail string     `db:"user_email"`
	CreatedAt time.Time  `db:"created_at"`
	RevokedAt *time.Time `db:"revoked_at"` // nil while the key works
}

// APIKeys lists the keys m may see: every key of the org for an admin, their own for a member.
// Active keys come first, newest first.
func (s *Service) APIKeys(ctx context.Context, m *Membership) ([]APIKey, error) {
	owner := m.UserID
	if m.IsAdmin() {
		owner = ""
	}
	out := []APIKey{}
	if err := s.store.DB().SelectContext(ctx, &out, queries.SelectAPIKeys, m.OrgID, owner, maxListedKeys); err != nil {
		return nil, fmt.Errorf("billing: list api keys: %w", err)
	}
	return out, nil
}

// IssueAPIKey creates a key named name for m's user in m's org and returns its secret, which is
// shown once. A blank name becomes "API key"; a name over MaxAPIKeyName characters is EINVALID.
func (s *Service) IssueAPIKey(ctx context.Context, m *Membership, name string) (string, int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API key"
	}
	if utf8.RuneCountInString(name) > MaxAPIKeyName {
		return "", 0, billing.Errorf(billing.EINVALID, "give the key a name of at most %d characters", MaxAPIKeyName)
	}
	return s.CreateAPIKey(ctx, m.OrgID, m.UserID, name)
}

// RevokeAPIKeyAs revokes key id of m's org on behalf of m: an admin may revoke any key of the
// org, a member only their own (EFORBIDDEN otherwise). ENOTFOUND when the org has no such
// active key.
func (s *Service) RevokeAPIKeyAs(ctx context.Context, m *Membership, id int64) error {
	var owner string
	if err := s.store.DB().GetContext(ctx, &owner, queries.SelectAPIKeyOwner, m.OrgID, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return billing.Errorf(billing.ENOTFOUND, "there is no active API key %d in this organization: it may have been revoked already", id)
		}
		return fmt.Errorf("billing: find api key owner: %w", err)
	}
	if owner != m.UserID && !m.IsAdmin() {
		return billing.Errorf(billing.EFORBIDDEN, "only an admin can revoke another member's API key")
	}
	return s.RevokeAPIKey(ctx, m.OrgID, id)
}
