package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
)

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "lux_"

// KeyIdentity is who an API key acts for.
type KeyIdentity struct {
	KeyID  int64  `db:"id"`
	OrgID  string `db:"org_id"`
	UserID string `db:"user_id"`
	Role   string `db:"role"`
}

func hashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateAPIKey makes a new key named name for user in org and returns its secret, which is
// shown once and never stored (only its SHA-256 is), and its id. A blank name becomes
// "API key"; a name over MaxAPIKeyName characters is EINVALID. The user must be a member of
// org (ENOTFOUND otherwise).
func (s *Service) CreateAPIKey(ctx context.Context, orgID, userID, name string) (string, int64, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API key"
	}
	if utf8.RuneCountInString(name) > MaxAPIKeyName {
		return "", 0, billing.Errorf(billing.EINVALID, "give the key a name of at most %d characters", MaxAPIKeyName)
	}
	if _, err := s.FindMembership(ctx, orgID, userID); err != nil {
		return "", 0, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", 0, fmt.Errorf("billing: random key: %w", err)
	}
	secret := APIKeyPrefix + hex.EncodeToString(b)
	var id int64
	err := s.store.DB().QueryRowxContext(ctx, queries.InsertAPIKey, orgID, userID, name, secret[:len(APIKeyPrefix)+6], hashKey(secret), s.store.Now()).Scan(&id)
	if err != nil {
		return "", 0, fmt.Errorf("billing: insert api key: %w", err)
	}
	return secret, id, nil
}

// AuthenticateKey returns who a key acts for. A missing, malformed, unknown or revoked key, or
// one whose user left the org, is EUNAUTHORIZED.
func (s *Service) AuthenticateKey(ctx context.Context, secret string) (*KeyIdentity, error) {
	if !strings.HasPrefix(secret, APIKeyPrefix) || len(secret) != len(APIKeyPrefix)+64 {
		return nil, billing.Errorf(billing.EUNAUTHORIZED, "send a valid API key as \"Authorization: Bearer lux_…\"")
	}
	hash := hashKey(secret)
	k0, ok, gen := s.keys.get(hash, s.store.Now())
	if ok {
		return k0, nil
	}
	var k KeyIdentity
	if err := s.store.Get(ctx, nil, &k, queries.SelectAPIKey, hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, billing.Errorf(billing.EUNAUTHORIZED, "this API key is not valid or was revoked: create a new one in Settings → API keys")
		}
		return nil, fmt.Errorf("billing: find api key: %w", err)
	}
	s.keys.put(hash, &k, s.store.Now(), gen)
	return &k, nil
}

// revokeKey revokes key id of org; ENOTFOUND if it is not the org's or already revoked.
func (s *Service) revokeKey(ctx context.Context, orgID string, id int64) error {
	res, err := s.store.DB().ExecContext(ctx, queries.RevokeAPIKey, orgID, id, s.store.Now())
	if err != nil {
		return fmt.Errorf("billing: revoke api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return billing.Errorf(billing.ENOTFOUND, "no active API key %d in this organization", id)
	}
	s.keys.clear() // other servers hear of it through lux_auth
	return nil
}

// keyCache remembers authenticated API keys briefly, so the hot path does not read the key
// table on every request. It is cleared whenever keys or memberships change (a trigger notifies
// channel lux_auth, see Service.Watch); the TTL bounds staleness should a notification be lost.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]cachedKey
	// gen counts clears: a look-up that read the key table before a clear must not put its
	// (possibly revoked) result into the cache after it.
	gen uint64
}

type cachedKey struct {
	id *KeyIdentity
	at time.Time
}

const (
	keyCacheTTL = 30 * time.Second
	keyCacheMax = 10000
)

// get returns the cached identity for hash, if fresh, and the cache generation to pass to put.
func (c *keyCache) get(hash []byte, now time.Time) (*KeyIdentity, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || now.Sub(e.at) > keyCacheTTL || now.Before(e.at) {
		return nil, false, c.gen
	}
	k := *e.id
	return &k, true, c.gen
}

// put caches id unless the cache was cleared since generation gen was read.
func (c *keyCache) put(hash []byte, id *KeyIdentity, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= keyCacheMax {
		c.entries = map[string]cachedKey{}
	}
	k := *id
	c.entries[string(hash)] = cachedKey{id: &k, at: now}
}

func (c *keyCache) clear() {
	c.mu.Lock()
	c.gen++
	c.entries = nil
	c.mu.Unlock()
}

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

// RevokeAPIKey revokes key id of m's org on behalf of m: an admin may revoke any key of the
// org, a member only their own (EFORBIDDEN otherwise). ENOTFOUND when the org has no such
// active key.
func (s *Service) RevokeAPIKey(ctx context.Context, m *Membership, id int64) error {
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
	return s.revokeKey(ctx, m.OrgID, id)
}
