-- Named queries of identity (package identity): users, memberships and API keys. Parsed once at
-- start-up into queryText (queries.go); names are verb-noun and unique.

-- name: insert-user
INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5);

-- name: insert-membership
INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role;

-- name: select-user-by-email
SELECT id, email, name, password_hash, created_at FROM users WHERE lower(email) = lower($1);

-- name: select-user
SELECT id, email, name, password_hash, created_at FROM users WHERE id = $1;

-- name: select-memberships-of-user
SELECT m.org_id, o.name AS org_name, o.timezone AS org_timezone, o.plan_code, m.user_id, m.role,
       m.monthly_limit_mc
FROM memberships m JOIN orgs o ON o.id = m.org_id
WHERE m.user_id = $1 ORDER BY o.name, m.org_id;

-- name: select-membership
SELECT m.org_id, o.name AS org_name, o.timezone AS org_timezone, o.plan_code, m.user_id, m.role,
       m.monthly_limit_mc
FROM memberships m JOIN orgs o ON o.id = m.org_id
WHERE m.org_id = $1 AND m.user_id = $2;

-- name: insert-api-key
INSERT INTO api_keys (org_id, user_id, name, prefix, secret_hash, created_at)
VALUES ($1, $2, $3, $4, $5, $6) RETURNING id;

-- name: select-api-key
-- The key for a secret hash, with its owner's current membership: a key stops working when
-- it is revoked or its user leaves the org.
SELECT k.id, k.org_id, k.user_id, m.role
FROM api_keys k JOIN memberships m ON m.org_id = k.org_id AND m.user_id = k.user_id
WHERE k.secret_hash = $1 AND k.revoked_at IS NULL;

-- name: revoke-api-key
UPDATE api_keys SET revoked_at = $3 WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL;

-- name: select-org-admins
-- The admins of org $1, by name (memberships primary key, then users primary key).
SELECT u.id, u.email, u.name
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1 AND m.role = 'admin'
ORDER BY lower(u.name), u.email;

-- name: select-org-members
-- Every member of org $1 with their email and name (memberships primary key, then users
-- primary key).
SELECT u.id, u.email, u.name
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1;

-- name: select-api-keys
-- The keys of org $1, active first, newest first; only user $2's when $2 is not empty
-- (index api_keys_org_idx).
SELECT k.id, k.name, k.prefix, k.user_id, u.name AS user_name, u.email AS user_email,
       k.created_at, k.revoked_at
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.org_id = $1 AND ($2 = '' OR k.user_id = $2)
ORDER BY k.revoked_at IS NOT NULL, k.id DESC
LIMIT $3;

-- name: select-api-key-owner
-- Who owns active key $2 of org $1.
SELECT user_id FROM api_keys WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL;
