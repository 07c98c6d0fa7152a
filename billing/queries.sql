-- Named queries of the billing domain, loaded once at start-up (see queries.go).
-- Positional parameters are used where arrays are passed to unnest, with each one's meaning
-- listed above the query.

-- name: select-rate-card
SELECT type, model, unit, unit_size, mc_per_unit, label, effective_from FROM rate_card;

-- name: lock-account
-- The one lock that serialises an organization's ledger. Taken after event inserts, before any
-- grant is read or written; nothing else of the org is locked first.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       p.monthly_credits_mc AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
WHERE a.org_id = $1
-- SHARE on the org row makes a statement that waited for the account lock read its latest
-- version (a time zone or limit changed meanwhile), not its start snapshot's. (KEY SHARE would
-- not: it is compatible with the change, so the old version is locked and returned.)
FOR UPDATE OF a FOR SHARE OF o;

-- name: select-account
-- The same figures without the lock, for reads.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       p.monthly_credits_mc AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
WHERE a.org_id = $1;

-- name: select-live-grants
-- Grants with credit left, in consumption order: soonest expiry first, never-expiring oldest
-- first (index grants_live_idx).
SELECT id, kind, remaining_mc, expires_at FROM grants
WHERE org_id = $1 AND remaining_mc > 0
ORDER BY expires_at NULLS LAST, id;

-- name: insert-ledger-entry
-- $1 id (0 to draw a new one), $2 org, $3 kind, $4 amount, $5 grant, $6 unfunded, $7 memo, $8 at.
INSERT INTO ledger_entries (id, org_id, kind, amount_mc, grant_id, unfunded_mc, memo, created_at)
VALUES (CASE WHEN $1::bigint = 0 THEN nextval('ledger_entries_id_seq') ELSE $1::bigint END,
        $2, $3, $4, $5, $6, $7, $8)
RETURNING id;

-- name: insert-allocations
-- $1 org, $2 entry ids, $3 grant ids, $4 amounts, $5 settled flags, $6 at.
INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at)
SELECT $1, e, g, a, s, $6
FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[]) AS t(e, g, a, s);

-- name: update-grant-remainders
-- $1 grant ids, $2 new remainders.
UPDATE grants g SET remaining_mc = t.r
FROM unnest($1::bigint[], $2::bigint[]) AS t(id, r)
WHERE g.id = t.id;

-- name: update-account
-- $1 org, $2 balance, $3 arrears, $4 cycle start, $5 cycle end, $6 cycle used, $7 at.
UPDATE accounts SET balance_mc = $2, arrears_mc = $3, cycle_start = $4, cycle_end = $5,
       cycle_used_mc = $6, updated_at = $7
WHERE org_id = $1;

-- name: select-member-limits
-- Members among $2 users of org $1 with their limits and this cycle's usage ($3 cycle start).
SELECT m.user_id, m.monthly_limit_mc, COALESCE(u.used_mc, 0) AS used_mc
FROM memberships m
LEFT JOIN member_cycle_usage u
  ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $3
WHERE m.org_id = $1 AND m.user_id = ANY($2::text[]);

-- name: insert-grant
-- $1 org, $2 kind, $3 amount, $4 expires_at, $5 source_ref, $6 at. Nothing is returned when the
-- allotment for that cycle or the purchase for that reference was already granted.
INSERT INTO grants (org_id, kind, amount_mc, remaining_mc, expires_at, source_ref, created_at)
VALUES ($1, $2, $3, $3, $4, $5, $6)
ON CONFLICT DO NOTHING
RETURNING id;

-- name: select-unfunded-entries
-- Usage entries with a part no grant has paid yet, oldest first: what arrears are made of.
SELECT e.id, e.unfunded_mc - COALESCE((SELECT sum(a.amount_mc) FROM allocations a
                                       WHERE a.entry_id = e.id AND a.settled), 0) AS open_mc
FROM ledger_entries e
WHERE e.org_id = $1 AND e.unfunded_mc > 0
ORDER BY e.id;

-- name: insert-org
INSERT INTO orgs (id, name, plan_code, custom_allotment_mc, cycle_anchor, timezone, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $5);

-- name: insert-account
INSERT INTO accounts (org_id, cycle_start, cycle_end, updated_at) VALUES ($1, $2, $3, $2);

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
SELECT m.org_id, o.name AS org_name, m.user_id, m.role, m.monthly_limit_mc
FROM memberships m JOIN orgs o ON o.id = m.org_id
WHERE m.user_id = $1 ORDER BY o.name, m.org_id;

-- name: select-membership
SELECT m.org_id, o.name AS org_name, m.user_id, m.role, m.monthly_limit_mc
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

-- name: select-execution
-- One execution's credits by type (index execution_usage primary key).
SELECT type, flow_id, credits_mc FROM execution_usage
WHERE org_id = $1 AND execution_id = $2 ORDER BY type;

-- name: select-credit-summary
-- What is left by kind of grant, and the current allotment. $1 org, $2 cycle start.
SELECT
  COALESCE(sum(remaining_mc) FILTER (WHERE kind = 'purchase'), 0) AS purchased_mc,
  COALESCE(sum(remaining_mc) FILTER (WHERE kind NOT IN ('purchase', 'plan_allotment')), 0) AS other_mc,
  COALESCE(sum(amount_mc) FILTER (WHERE kind = 'plan_allotment' AND source_ref = $2), 0) AS allotment_granted_mc,
  COALESCE(sum(remaining_mc) FILTER (WHERE kind = 'plan_allotment' AND source_ref = $2), 0) AS allotment_remaining_mc
FROM grants WHERE org_id = $1 AND remaining_mc >= 0 AND (remaining_mc > 0 OR source_ref = $2);

-- name: select-due-accounts
-- Organizations whose cycle has ended (index accounts_cycle_end_idx).
SELECT org_id FROM accounts WHERE cycle_end <= $1 ORDER BY cycle_end LIMIT $2;

-- name: select-org-plan
SELECT o.name AS org_name, p.code, p.name, p.monthly_credits_mc, p.price_cents, p.currency, p.best_for
FROM orgs o JOIN plans p ON p.code = o.plan_code WHERE o.id = $1;

-- name: select-plans
SELECT code, name, monthly_credits_mc, price_cents, currency, best_for FROM plans ORDER BY sort;

-- name: select-plan
SELECT code, name, monthly_credits_mc, price_cents, currency, best_for FROM plans WHERE code = $1;

-- name: upsert-flow
INSERT INTO flows (org_id, id, name, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, id) DO UPDATE SET name = EXCLUDED.name;

-- name: count-orgs
SELECT count(*) FROM orgs;
