-- Named queries of Settings → API keys: listing an org's keys and finding one to revoke.
-- Loaded once at start-up (see apikey_list.go).

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
