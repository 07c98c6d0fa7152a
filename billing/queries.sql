-- Named queries of the billing domain, loaded once at start-up (see queries.go).
-- Positional parameters are used where arrays are passed to unnest, with each one's meaning
-- listed above the query.

-- name: select-rate-card
SELECT type, model, unit, unit_size, mc_per_unit, label, effective_from FROM rate_card;

-- name: insert-usage-events
-- Records a batch of events under one new ledger entry id. Ids already recorded for the org are
-- skipped; RETURNING lists the ones that are new. $1 org, $2 ids, $3 flows, $4 executions,
-- $5 users, $6 types, $7 models, $8 quantities, $9 costs, $10 occurred_at, $11 received_at,
-- $12 body hashes.
WITH entry AS (SELECT nextval('ledger_entries_id_seq') AS id)
INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity,
                          cost_mc, occurred_at, received_at, entry_id, body_hash)
SELECT $1, e.id, e.flow_id, e.execution_id, e.user_id, e.type, e.model, e.quantity, e.cost_mc,
       e.occurred_at, $11, (SELECT id FROM entry), e.body_hash
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::bigint[], $9::bigint[], $10::timestamptz[], $12::bytea[])
     AS e(id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, body_hash)
ON CONFLICT (org_id, id) DO NOTHING
RETURNING id, entry_id;

-- name: select-recorded-events
-- The stored hash and cost of events already recorded: $1 org, $2 ids.
SELECT id, body_hash, cost_mc FROM usage_events WHERE org_id = $1 AND id = ANY($2::text[]);

-- name: lock-account
-- The one lock that serialises an organization's ledger. Taken after event inserts, before any
-- grant is read or written; nothing else of the org is locked first.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       p.monthly_credits_mc AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
WHERE a.org_id = $1
FOR UPDATE OF a;

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

-- name: write-usage
-- Everything a usage transaction writes after pricing and allocation, in one statement (one
-- round trip): the usage ledger entry, the allocations and grant remainders (with any pending
-- from expiries in the same transaction), the account row, the member counters, the daily
-- rollup, the execution totals and the flows. Returns each member's new cycle total.
-- $1 org, $2 entry id, $3 amount, $4 unfunded, $5 memo, $6 now,
-- $7..$10 allocations (entry, grant, amount, settled), $11..$12 grants (id, remaining),
-- $13..$17 account (balance, arrears, cycle start, cycle end, cycle used),
-- $18..$19 members (user, amount), $20..$27 daily (day, flow, user, type, model, credits,
-- quantity, events), $28..$35 executions (execution, type, flow, user, credits, events, first,
-- last), $36 flows.
WITH entry AS (
    INSERT INTO ledger_entries (id, org_id, kind, amount_mc, unfunded_mc, memo, created_at)
    VALUES ($2, $1, 'usage', $3, $4, $5, $6)
), alloc AS (
    INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at)
    SELECT $1, e, g, a, s, $6
    FROM unnest($7::bigint[], $8::bigint[], $9::bigint[], $10::boolean[]) AS t(e, g, a, s)
), grant_rem AS (
    UPDATE grants g SET remaining_mc = t.r
    FROM unnest($11::bigint[], $12::bigint[]) AS t(id, r)
    WHERE g.id = t.id
), acct AS (
    UPDATE accounts SET balance_mc = $13, arrears_mc = $14, cycle_start = $15, cycle_end = $16,
           cycle_used_mc = $17, updated_at = $6
    WHERE org_id = $1
), daily AS (
    INSERT INTO usage_daily (org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT $1, d, f, u, t, m, c, q, n
    FROM unnest($20::date[], $21::text[], $22::text[], $23::text[], $24::text[], $25::bigint[],
                $26::bigint[], $27::bigint[]) AS x(d, f, u, t, m, c, q, n)
    ON CONFLICT (org_id, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
), execs AS (
    INSERT INTO execution_usage (org_id, execution_id, type, flow_id, user_id, credits_mc, events,
                                 first_at, last_at)
    SELECT $1, e, t, f, u, c, n, a, b
    FROM unnest($28::text[], $29::text[], $30::text[], $31::text[], $32::bigint[], $33::bigint[],
                $34::timestamptz[], $35::timestamptz[]) AS x(e, t, f, u, c, n, a, b)
    ON CONFLICT (org_id, execution_id, type) DO UPDATE SET
        credits_mc = execution_usage.credits_mc + EXCLUDED.credits_mc,
        events = execution_usage.events + EXCLUDED.events,
        first_at = LEAST(execution_usage.first_at, EXCLUDED.first_at),
        last_at = GREATEST(execution_usage.last_at, EXCLUDED.last_at)
), new_flows AS (
    INSERT INTO flows (org_id, id, created_at) SELECT $1, f, $6 FROM unnest($36::text[]) AS f
    ON CONFLICT DO NOTHING
)
INSERT INTO member_cycle_usage (org_id, user_id, cycle_start, used_mc)
SELECT $1, u, $15, a FROM unnest($18::text[], $19::bigint[]) AS t(u, a)
ON CONFLICT (org_id, user_id, cycle_start)
DO UPDATE SET used_mc = member_cycle_usage.used_mc + EXCLUDED.used_mc
RETURNING user_id, used_mc;
