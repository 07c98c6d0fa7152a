-- Named queries of the core (package billing): the rate card, accounts, grants, the ledger,
-- ingestion, cycles, limits and time zones. Parsed once at start-up into queryText (queries.go);
-- names are verb-noun and unique. Positional parameters are used where arrays are passed to
-- unnest, with each one's meaning listed above the query. Ingestion records the queued batches
-- of any number of organizations with six statements (lock-accounts … write-usage), whatever the
-- number of events.

-- name: select-rate-card
SELECT type, model, unit, unit_size, mc_per_unit, label, effective_from FROM rate_card;

-- name: lock-account
-- The one lock that serialises an organization's ledger. Taken after event inserts, before any
-- grant is read or written; nothing else of the org is locked first.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       o.threshold_percents, o.low_balance_mc,
       (SELECT p.monthly_credits_mc FROM plans p WHERE p.code = o.plan_code) AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id
WHERE a.org_id = $1
-- The plan is a subquery, not a join: a statement that waited while the plan changed rechecks
-- the org row's new version, and a joined plans row from before would no longer match it (the
-- org would seem not to exist).
-- SHARE on the org row makes a statement that waited for the account lock read its latest
-- version (a time zone or limit changed meanwhile), not its start snapshot's. (KEY SHARE would
-- not: it is compatible with the change, so the old version is locked and returned.)
FOR UPDATE OF a FOR SHARE OF o;

-- name: select-account
-- The same figures without the lock, for reads.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       o.threshold_percents, o.low_balance_mc,
       p.monthly_credits_mc AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
WHERE a.org_id = $1;

-- name: select-authorize
-- select-account and the member's limit and usage in the account's cycle, in one round trip
-- for Authorize: $1 org, $2 user. is_member is false when the user is not a member of the org.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       o.threshold_percents, o.low_balance_mc,
       p.monthly_credits_mc AS plan_credits_mc,
       m.user_id IS NOT NULL AS is_member, m.monthly_limit_mc AS member_limit_mc,
       COALESCE(u.used_mc, 0) AS member_used_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
LEFT JOIN memberships m ON m.org_id = a.org_id AND m.user_id = $2
LEFT JOIN member_cycle_usage u
  ON u.org_id = a.org_id AND u.user_id = $2 AND u.cycle_start = a.cycle_start
WHERE a.org_id = $1;

-- name: select-authorize-many
-- select-authorize for many requests at once: $1 orgs, $2 users, pairwise; n is the pair's
-- position (from 1). A pair whose org does not exist has no row.
SELECT r.n, a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       o.threshold_percents, o.low_balance_mc,
       p.monthly_credits_mc AS plan_credits_mc,
       m.user_id IS NOT NULL AS is_member, m.monthly_limit_mc AS member_limit_mc,
       COALESCE(u.used_mc, 0) AS member_used_mc
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(org_id, user_id, n)
JOIN accounts a ON a.org_id = r.org_id JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
LEFT JOIN memberships m ON m.org_id = a.org_id AND m.user_id = r.user_id
LEFT JOIN member_cycle_usage u
  ON u.org_id = a.org_id AND u.user_id = r.user_id AND u.cycle_start = a.cycle_start;

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

-- name: select-credit-summary
-- What is left by kind of grant, and the current allotment: the cycle's allotment and its
-- upgrade top-ups ('<cycle start>/top-up/<level>'). $1 org, $2 cycle start.
SELECT
  COALESCE(sum(remaining_mc) FILTER (WHERE kind = 'purchase'), 0) AS purchased_mc,
  COALESCE(sum(remaining_mc) FILTER (WHERE kind NOT IN ('purchase', 'plan_allotment')), 0) AS other_mc,
  COALESCE(sum(amount_mc) FILTER (WHERE kind = 'plan_allotment' AND split_part(source_ref, '/', 1) = $2), 0) AS allotment_granted_mc,
  COALESCE(sum(remaining_mc) FILTER (WHERE kind = 'plan_allotment' AND split_part(source_ref, '/', 1) = $2), 0) AS allotment_remaining_mc
FROM grants WHERE org_id = $1 AND remaining_mc >= 0 AND (remaining_mc > 0 OR split_part(source_ref, '/', 1) = $2);

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

-- name: lock-accounts
-- Locks the accounts of the orgs in $1, in org id order (LockRows runs above the sort), so that
-- two transactions never wait on each other in a cycle.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       o.threshold_percents, o.low_balance_mc,
       (SELECT p.monthly_credits_mc FROM plans p WHERE p.code = o.plan_code) AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id
WHERE a.org_id = ANY($1::text[])
ORDER BY a.org_id
-- SHARE on the org rows makes a statement that waited for the account locks read their latest
-- versions (a time zone or limit changed meanwhile), not its start snapshot's. (KEY SHARE would
-- not: it is compatible with the change, so the old version is locked and returned.) The plan
-- is a subquery, not a join, so that a plan changed meanwhile does not drop the org's row.
FOR UPDATE OF a FOR SHARE OF o;

-- name: select-members
-- Which (org, user) pairs are memberships, with each member's limit and usage in the cycle
-- that starts at the given instant. $1 orgs, $2 users, $3 cycle starts.
SELECT m.org_id, m.user_id, m.monthly_limit_mc, COALESCE(u.used_mc, 0) AS used_mc
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS p(org_id, user_id, cycle_start)
JOIN memberships m ON m.org_id = p.org_id AND m.user_id = p.user_id
LEFT JOIN member_cycle_usage u
  ON u.org_id = p.org_id AND u.user_id = p.user_id AND u.cycle_start = p.cycle_start;

-- name: insert-events
-- Records events; each org's new events share one new ledger entry id. The key goes to
-- usage_event_keys (the idempotency key, unpartitioned: a retry lands on it whatever month it
-- arrives in), the event row to its month's partition of usage_events, only for a key that is
-- new. Ids an org recorded before are skipped; RETURNING lists the new ones. $1 orgs (distinct),
-- then per event: $2 org, $3 id, $4 flow, $5 execution, $6 user, $7 type, $8 model,
-- $9 quantity, $10 cost, $11 occurred_at, $13 body hash; $12 received_at.
WITH entry AS (
    SELECT o, nextval('ledger_entries_id_seq') AS id FROM unnest($1::text[]) AS o
), e AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::bigint[], $10::bigint[], $11::timestamptz[], $13::bytea[])
         AS e(org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, body_hash)
), k AS (
    INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
    SELECT e.org_id, e.id, e.occurred_at, entry.id, e.cost_mc, e.body_hash
    FROM e JOIN entry ON entry.o = e.org_id
    ON CONFLICT (org_id, id) DO NOTHING
    RETURNING org_id, id, entry_id
)
INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity,
                          cost_mc, occurred_at, received_at, entry_id)
SELECT e.org_id, e.id, e.flow_id, e.execution_id, e.user_id, e.type, e.model, e.quantity,
       e.cost_mc, e.occurred_at, $12, k.entry_id
FROM k JOIN e ON e.org_id = k.org_id AND e.id = k.id
RETURNING org_id, id, entry_id;

-- name: select-recorded
-- The stored hash and cost of events recorded before: $1 orgs, $2 ids (pairs; the key table's
-- primary key, whatever partition holds the event).
SELECT k.org_id, k.id, k.body_hash, k.cost_mc
FROM unnest($1::text[], $2::text[]) AS p(org_id, id)
JOIN usage_event_keys k ON k.org_id = p.org_id AND k.id = p.id;

-- name: select-live-grants-of-orgs
-- The orgs' grants with credit left, each org's in consumption order: soonest expiry first,
-- never-expiring oldest first (index grants_live_idx).
SELECT org_id, id, kind, remaining_mc, expires_at FROM grants
WHERE org_id = ANY($1::text[]) AND remaining_mc > 0
ORDER BY org_id, expires_at NULLS LAST, id;

-- name: write-usage
-- Everything the transaction writes after allocation, for every org at once, in one statement.
-- $1 is now; $2 … $9 are JSON arrays of rows, one per table (usageWrite in ingest_write.go),
-- each read with json_populate_recordset into the table's own row type: a row's JSON field is
-- named for its column, so a new column is a field of the Go row and a name in the lists below.
-- The member counters come back.
WITH entry AS (
    -- ledger_entries: each org's usage entry (signed amount, unfunded part)
    INSERT INTO ledger_entries (id, org_id, kind, amount_mc, unfunded_mc, memo, created_at)
    SELECT id, org_id, 'usage', amount_mc, unfunded_mc, memo, $1
    FROM json_populate_recordset(NULL::ledger_entries, $2::json)
), alloc AS (
    -- allocations: which grant paid which entry (settled: arrears paid by a grant)
    INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at)
    SELECT org_id, entry_id, grant_id, amount_mc, settled, $1
    FROM json_populate_recordset(NULL::allocations, $3::json)
), grant_rem AS (
    -- grants: the new remainder of every grant touched (usage, expiries, settlements)
    UPDATE grants g SET remaining_mc = t.remaining_mc
    FROM json_populate_recordset(NULL::grants, $4::json) AS t
    WHERE g.id = t.id
), acct AS (
    -- accounts: each org's balance, arrears, cycle and cycle usage
    UPDATE accounts a SET balance_mc = t.balance_mc, arrears_mc = t.arrears_mc,
           cycle_start = t.cycle_start, cycle_end = t.cycle_end, cycle_used_mc = t.cycle_used_mc,
           updated_at = $1
    FROM json_populate_recordset(NULL::accounts, $5::json) AS t
    WHERE a.org_id = t.org_id
), daily AS (
    -- usage_daily: the rollup rows, added to (days in the org's zone), in the generation the
    -- org row names (read after the lock: a time zone change switches it under the lock)
    INSERT INTO usage_daily (org_id, gen, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT d.org_id, (SELECT o.rollup_gen FROM orgs o WHERE o.id = d.org_id), d.day, d.flow_id, d.user_id,
           d.type, d.model, d.credits_mc, d.quantity, d.events
    FROM json_populate_recordset(NULL::usage_daily, $6::json) AS d
    ON CONFLICT (org_id, gen, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
), flow_daily AS (
    -- usage_flow_daily: the same rows summed per flow and day
    INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
    SELECT d.org_id, (SELECT o.rollup_gen FROM orgs o WHERE o.id = d.org_id), d.day, d.flow_id,
           sum(d.credits_mc), sum(d.quantity), sum(d.events)
    FROM json_populate_recordset(NULL::usage_daily, $6::json) AS d
    GROUP BY d.org_id, d.day, d.flow_id
    ORDER BY d.org_id, d.day, d.flow_id
    ON CONFLICT (org_id, gen, day, flow_id) DO UPDATE SET
        credits_mc = usage_flow_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_daily.quantity + EXCLUDED.quantity,
        events = usage_flow_daily.events + EXCLUDED.events
), flow_weekly AS (
    -- usage_flow_weekly: the same per flow and week (its Monday; 2000-01-03 was one)
    INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
    SELECT d.org_id, (SELECT o.rollup_gen FROM orgs o WHERE o.id = d.org_id),
           d.day - (d.day - DATE '2000-01-03') % 7, d.flow_id,
           sum(d.credits_mc), sum(d.quantity), sum(d.events)
    FROM json_populate_recordset(NULL::usage_daily, $6::json) AS d
    GROUP BY 1, 3, 4
    ORDER BY 1, 3, 4
    ON CONFLICT (org_id, gen, week, flow_id) DO UPDATE SET
        credits_mc = usage_flow_weekly.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_weekly.quantity + EXCLUDED.quantity,
        events = usage_flow_weekly.events + EXCLUDED.events
), execs AS (
    -- execution_usage: per execution and type totals, added to, with first and last event
    INSERT INTO execution_usage (org_id, execution_id, type, flow_id, user_id, credits_mc, events,
                                 first_at, last_at)
    SELECT org_id, execution_id, type, flow_id, user_id, credits_mc, events, first_at, last_at
    FROM json_populate_recordset(NULL::execution_usage, $7::json)
    ON CONFLICT (org_id, execution_id, type) DO UPDATE SET
        credits_mc = execution_usage.credits_mc + EXCLUDED.credits_mc,
        events = execution_usage.events + EXCLUDED.events,
        first_at = LEAST(execution_usage.first_at, EXCLUDED.first_at),
        last_at = GREATEST(execution_usage.last_at, EXCLUDED.last_at)
), new_flows AS (
    -- flows: flows seen for the first time (named later, if ever)
    INSERT INTO flows (org_id, id, created_at)
    SELECT org_id, id, $1 FROM json_populate_recordset(NULL::flows, $8::json)
    ON CONFLICT DO NOTHING
)
-- member_cycle_usage: what each member used this cycle, added to and returned
INSERT INTO member_cycle_usage (org_id, user_id, cycle_start, used_mc)
SELECT org_id, user_id, cycle_start, used_mc
FROM json_populate_recordset(NULL::member_cycle_usage, $9::json)
ON CONFLICT (org_id, user_id, cycle_start)
DO UPDATE SET used_mc = member_cycle_usage.used_mc + EXCLUDED.used_mc
RETURNING org_id, user_id, used_mc;

-- name: select-limit-settings
-- The org's limits and alert settings. $1 org.
SELECT monthly_limit_mc, threshold_percents, low_balance_mc FROM orgs WHERE id = $1;

-- name: update-limit-settings
-- $1 org, $2 monthly limit, $3 thresholds, $4 low-balance alert (NULL: none).
UPDATE orgs SET monthly_limit_mc = $2, threshold_percents = $3, low_balance_mc = $4 WHERE id = $1;

-- name: select-member-usage
-- Every member of org $1 with their role, own limit and usage in the cycle starting $2, admins
-- first, then in the order they joined.
SELECT m.user_id, m.role, m.monthly_limit_mc, COALESCE(u.used_mc, 0) AS used_mc
FROM memberships m
LEFT JOIN member_cycle_usage u
  ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $2
WHERE m.org_id = $1
ORDER BY m.role = 'admin' DESC, m.created_at, m.user_id;

-- name: ingest-usage
-- The common case of ingestion in one statement, outside any transaction (ingest_fast.go; the
-- function is in migrations/functions/ingest_usage.sql): $1 now, $2 orgs, $3 their entry memos,
-- then per event $4 org, $5 id, $6 flow, $7 execution, $8 user, $9 type, $10 model,
-- $11 quantity, $12 cost, $13 occurred_at, $14 body hash. No row: declined, nothing written;
-- SQLSTATE LXDUP: an id was recorded before, nothing written.
SELECT r_kind, r_org, r_user, r_a, r_b, r_c
FROM ingest_usage($1, $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                  $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::timestamptz[], $14::bytea[]);

-- name: set-member-limit
UPDATE memberships SET monthly_limit_mc = $3 WHERE org_id = $1 AND user_id = $2;

-- name: select-member-standing
-- A member's role, monthly limit and usage in the cycle starting $3 (member_cycle_usage key).
-- $1 org, $2 user.
SELECT m.user_id, m.role, m.monthly_limit_mc, COALESCE(u.used_mc, 0) AS used_mc
FROM memberships m
LEFT JOIN member_cycle_usage u
  ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $3
WHERE m.org_id = $1 AND m.user_id = $2;

-- name: select-rollup-gen
-- The org's live rollup generation and the zone it is cut in (no row: no such org with an
-- account).
SELECT o.rollup_gen, o.timezone FROM orgs o JOIN accounts a ON a.org_id = o.id WHERE o.id = $1;

-- name: lock-rollup-change
-- One time zone change of an org at a time (a session lock on the change's own connection).
SELECT pg_advisory_lock(hashtext('usage rollup'), hashtext($1));

-- name: unlock-rollup-change
SELECT pg_advisory_unlock(hashtext('usage rollup'), hashtext($1));

-- name: lock-account-row
-- The org's ledger lock, the row ingestion locks (lock-account in queries.sql).
SELECT org_id FROM accounts WHERE org_id = $1 FOR UPDATE;

-- name: check-timezone
-- Fails with 22023 when PostgreSQL does not know the zone $1.
SELECT CAST(now() AT TIME ZONE $1 AS text);

-- name: update-org-timezone
-- The switch: the zone and the rollup generation cut in it ($1 org, $2 zone, $3 generation).
UPDATE orgs SET timezone = $2, rollup_gen = $3 WHERE id = $1;

-- name: set-catch-up-plan
-- A catch-up reads the recent block ranges through the BRIN index, never the whole table, and
-- is not compiled (JIT): its estimate may be the whole table, which would make compiling it
-- look worth far more than the few events it reads (this transaction only; see
-- catch-up-rollup-generation).
SET LOCAL enable_seqscan = off; SET LOCAL jit = off;

-- name: set-rebuild-memory
-- A year of a busy org is a few hundred thousand groups: keep the rebuild's aggregate in
-- memory instead of spilling it to disk (this transaction only).
SET LOCAL work_mem = '128MB';

-- name: add-rollup-generation
-- Adds org $1's events that occurred from $5 on to its rollups' generation $4 (usage_daily,
-- usage_flow_daily, usage_flow_weekly), days cut in zone $2, and returns the highest entry id
-- among them ($3, 0, when there is none) and their number: the build of a time zone change.
-- $5 is '-infinity' (all), or the first instant after the detached months, whose days are
-- copied as they are (copy-kept-rollup; select-rollup-horizon in partitions.sql). Rows are
-- written in day order, as ingestion writes them, so that a report's range is a contiguous
-- part of the table.
WITH agg AS MATERIALIZED (
    SELECT org_id, CAST(occurred_at AT TIME ZONE $2 AS date) AS day, flow_id, user_id, type, model,
           sum(cost_mc) AS credits_mc, sum(quantity) AS quantity, count(*) AS events,
           max(entry_id) AS top
    FROM usage_events
    WHERE org_id = $1 AND entry_id > $3 AND occurred_at >= CAST($5 AS timestamptz)
    GROUP BY org_id, 2, flow_id, user_id, type, model
), daily AS (
    INSERT INTO usage_daily (org_id, gen, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT org_id, $4, day, flow_id, user_id, type, model, credits_mc, quantity, events FROM agg
    ORDER BY day, flow_id, user_id, type, model
    ON CONFLICT (org_id, gen, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
), flow_daily AS (
    INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
    SELECT org_id, $4, day, flow_id, sum(credits_mc), sum(quantity), sum(events) FROM agg
    GROUP BY org_id, day, flow_id
    ORDER BY day, flow_id
    ON CONFLICT (org_id, gen, day, flow_id) DO UPDATE SET
        credits_mc = usage_flow_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_daily.quantity + EXCLUDED.quantity,
        events = usage_flow_daily.events + EXCLUDED.events
), flow_weekly AS (
    INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
    SELECT org_id, $4, day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc), sum(quantity), sum(events)
    FROM agg
    GROUP BY 1, 3, 4
    ORDER BY 3, 4
    ON CONFLICT (org_id, gen, week, flow_id) DO UPDATE SET
        credits_mc = usage_flow_weekly.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_weekly.quantity + EXCLUDED.quantity,
        events = usage_flow_weekly.events + EXCLUDED.events
)
SELECT CAST(COALESCE(max(top), $3) AS bigint) AS seen, CAST(COALESCE(sum(events), 0) AS bigint) AS events
FROM agg;

-- name: catch-up-rollup-generation
-- The events of org $1 with an entry id above $3 added to its rollups' generation $4, and the
-- highest entry id among them ($3 when there is none) and their number. One statement, one
-- snapshot: an org's usage entry ids are drawn under its ledger lock, so the events it has
-- committed are exactly those up to the returned id, and the next call adds what came after.
-- Days are cut in the new zone $2 from instant $6 on, and before it (late events of detached
-- months, whose days are kept) in the zone $5 the kept days were cut in. The events lie in the
-- last block ranges of usage_events, which the BRIN index usage_events_entry_idx finds: the
-- org is filtered outside the subquery (OFFSET 0 keeps it there), so that the only index the
-- scan can use is the BRIN one, and the caller turns sequential scans off (set-catch-up-plan),
-- as missing or stale statistics would otherwise make a scan of the whole table look cheaper.
WITH agg AS MATERIALIZED (
    SELECT org_id,
           CAST(occurred_at AT TIME ZONE CASE WHEN occurred_at >= CAST($6 AS timestamptz) THEN $2 ELSE $5 END AS date) AS day,
           flow_id, user_id, type, model,
           sum(cost_mc) AS credits_mc, sum(quantity) AS quantity, count(*) AS events,
           max(entry_id) AS top
    FROM (SELECT * FROM usage_events WHERE entry_id > $3 OFFSET 0) AS e
    WHERE org_id = $1
    GROUP BY org_id, 2, flow_id, user_id, type, model
), daily AS (
    INSERT INTO usage_daily (org_id, gen, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT org_id, $4, day, flow_id, user_id, type, model, credits_mc, quantity, events FROM agg
    ORDER BY day, flow_id, user_id, type, model
    ON CONFLICT (org_id, gen, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
), flow_daily AS (
    INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
    SELECT org_id, $4, day, flow_id, sum(credits_mc), sum(quantity), sum(events) FROM agg
    GROUP BY org_id, day, flow_id
    ORDER BY day, flow_id
    ON CONFLICT (org_id, gen, day, flow_id) DO UPDATE SET
        credits_mc = usage_flow_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_daily.quantity + EXCLUDED.quantity,
        events = usage_flow_daily.events + EXCLUDED.events
), flow_weekly AS (
    INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
    SELECT org_id, $4, day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc), sum(quantity), sum(events)
    FROM agg
    GROUP BY 1, 3, 4
    ORDER BY 3, 4
    ON CONFLICT (org_id, gen, week, flow_id) DO UPDATE SET
        credits_mc = usage_flow_weekly.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_flow_weekly.quantity + EXCLUDED.quantity,
        events = usage_flow_weekly.events + EXCLUDED.events
)
SELECT CAST(COALESCE(max(top), $3) AS bigint) AS seen, CAST(COALESCE(sum(events), 0) AS bigint) AS events
FROM agg;

-- name: copy-kept-rollup
-- The daily rollup rows of org $1's live generation $2 for the days before $4 (the detached
-- months' days, select-rollup-horizon), as they are, into generation $3 of the three rollups.
WITH kept AS MATERIALIZED (
    SELECT org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events
    FROM usage_daily
    WHERE org_id = $1 AND gen = $2 AND day < CAST($4 AS date)
), daily AS (
    INSERT INTO usage_daily (org_id, gen, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT org_id, $3, day, flow_id, user_id, type, model, credits_mc, quantity, events FROM kept
    ORDER BY day, flow_id, user_id, type, model
), flow_daily AS (
    INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
    SELECT org_id, $3, day, flow_id, sum(credits_mc), sum(quantity), sum(events) FROM kept
    GROUP BY org_id, day, flow_id
    ORDER BY day, flow_id
), flow_weekly AS (
    INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
    SELECT org_id, $3, day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc), sum(quantity), sum(events)
    FROM kept
    GROUP BY 1, 3, 4
    ORDER BY 3, 4
)
SELECT count(*) FROM kept;

-- name: select-usage-entry-top
-- The highest usage entry id of org $1 (index ledger_entries_org_idx, walked backwards).
SELECT COALESCE(max(id), 0) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage';

-- name: summarize-entry-index
-- Summarises the block ranges of usage_events_entry_idx (every partition's) that were filled
-- since the last VACUUM, so that a scan for recent entry ids reads only the ranges written
-- after this.
-- The index itself when usage_events is a plain table, its partitions' indexes when it is
-- partitioned (pg_partition_tree lists nothing for a plain index). Returns the ranges
-- summarised.
SELECT COALESCE(sum(brin_summarize_new_values(i)), 0) FROM (
    SELECT c.oid AS i FROM pg_class c WHERE c.oid = 'usage_events_entry_idx'::regclass AND c.relkind = 'i'
    UNION ALL
    SELECT relid FROM pg_partition_tree('usage_events_entry_idx') WHERE isleaf
) AS leaves;

-- name: delete-other-daily-gens
-- The org's rollup rows of every generation but $2: the one a change replaced, or the rest of
-- a change that did not finish.
DELETE FROM usage_daily WHERE org_id = $1 AND gen <> $2;

-- name: delete-other-flow-daily-gens
DELETE FROM usage_flow_daily WHERE org_id = $1 AND gen <> $2;

-- name: delete-other-flow-weekly-gens
DELETE FROM usage_flow_weekly WHERE org_id = $1 AND gen <> $2;

-- name: rebuild-usage-daily
-- The daily rollup of org $1 computed from its events, days cut in zone $2: what usage_daily
-- must hold (tests compare the two).
SELECT org_id, CAST(occurred_at AT TIME ZONE $2 AS date) AS day, flow_id, user_id, type, model,
       CAST(sum(cost_mc) AS bigint) AS credits_mc, CAST(sum(quantity) AS bigint) AS quantity,
       count(*) AS events
FROM usage_events
WHERE org_id = $1
GROUP BY org_id, 2, flow_id, user_id, type, model;

-- Plans: plan changes, subscriptions, checkouts and plan charges (plan_change.go, planQ).

-- name: select-allotment-level
-- What this cycle's allotment grants add up to: the base allotment (source_ref = $2, the cycle
-- start) and its top-ups ('$2/top-up/<level>'). Few rows per org (grants_allotment_once).
SELECT COALESCE(sum(amount_mc), 0) FROM grants
WHERE org_id = $1 AND kind = 'plan_allotment' AND split_part(source_ref, '/', 1) = $2;

-- name: apply-due-plan-change
-- Applies the org's pending change due at or before $2 (the new cycle's start), under the
-- account lock: marks it applied, moves the org to its plan and returns the plan's figures.
-- No row when nothing is due. $1 org, $2 cycle start, $3 at.
WITH c AS (
    UPDATE plan_changes SET status = 'applied', applied_at = $3
    WHERE org_id = $1 AND status = 'pending' AND effective_at <= $2
    RETURNING to_plan, custom_allotment_mc
), o AS (
    UPDATE orgs SET plan_code = c.to_plan, custom_allotment_mc = c.custom_allotment_mc
    FROM c WHERE orgs.id = $1
    RETURNING orgs.plan_code, orgs.custom_allotment_mc
)
SELECT o.plan_code, o.custom_allotment_mc, p.monthly_credits_mc AS plan_credits_mc
FROM o JOIN plans p ON p.code = o.plan_code;

-- name: set-org-plan
-- $1 org, $2 plan, $3 custom allotment (Enterprise) or NULL.
UPDATE orgs SET plan_code = $2, custom_allotment_mc = $3 WHERE id = $1;

-- name: select-pending-plan-change
SELECT id, org_id, from_plan, to_plan, custom_allotment_mc, reason, status, effective_at,
       requested_by, created_at
FROM plan_changes WHERE org_id = $1 AND status = 'pending';

-- name: cancel-pending-plan-change
-- $1 org, $2 at, $3 by. Returns the cancelled change's id, if there was one.
UPDATE plan_changes SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3
WHERE org_id = $1 AND status = 'pending'
RETURNING id;

-- name: insert-plan-change
-- $1 org, $2 from, $3 to, $4 custom allotment, $5 reason, $6 status, $7 effective at,
-- $8 requested by, $9 at.
INSERT INTO plan_changes (org_id, from_plan, to_plan, custom_allotment_mc, reason, status,
                          effective_at, requested_by, created_at, applied_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $6 = 'applied' THEN $9::timestamptz END)
RETURNING id;

-- name: select-subscription
SELECT org_id, plan_code, provider, status, customer_ref, subscription_ref, event_at
FROM subscriptions WHERE org_id = $1;

-- name: select-subscription-by-ref
SELECT org_id, plan_code, provider, status, customer_ref, subscription_ref, event_at
FROM subscriptions WHERE provider = $1 AND subscription_ref = $2;

-- name: upsert-subscription
-- $1 org, $2 plan, $3 provider, $4 status, $5 customer ref, $6 subscription ref, $7 event at,
-- $8 at. Empty refs keep the ones stored.
INSERT INTO subscriptions (org_id, plan_code, provider, status, customer_ref, subscription_ref, event_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (org_id) DO UPDATE SET
    plan_code = EXCLUDED.plan_code, provider = EXCLUDED.provider, status = EXCLUDED.status,
    customer_ref = COALESCE(NULLIF(EXCLUDED.customer_ref, ''), subscriptions.customer_ref),
    subscription_ref = COALESCE(NULLIF(EXCLUDED.subscription_ref, ''), subscriptions.subscription_ref),
    event_at = GREATEST(EXCLUDED.event_at, subscriptions.event_at),
    updated_at = EXCLUDED.updated_at;

-- name: insert-plan-charge
-- $1 org, $2 plan, $3 kind, $4 amount, $5 currency, $6 period start, $7 period end,
-- $8 provider, $9 provider ref, $10 grant, $11 entry, $12 at. Nothing is returned when the
-- same provider reference was charged already (exactly once).
INSERT INTO plan_charges (org_id, plan_code, kind, amount_cents, currency, period_start, period_end,
                          provider, provider_ref, grant_id, entry_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (provider, provider_ref) DO NOTHING
RETURNING id;

-- name: select-allotment-grant-entry
-- The grant and ledger entry of this cycle's allotment at a given level: $1 org, $2 source_ref.
SELECT g.id AS grant_id, e.id AS entry_id FROM grants g
JOIN ledger_entries e ON e.grant_id = g.id AND e.kind = 'grant'
WHERE g.org_id = $1 AND g.kind = 'plan_allotment' AND g.source_ref = $2;

-- name: insert-plan-checkout
INSERT INTO plan_checkouts (id, org_id, plan_code, amount_cents, currency, cycle_start, provider,
                            session_ref, status, created_by, created_at)
VALUES (:id, :org_id, :plan_code, :amount_cents, :currency, :cycle_start, :provider,
        :session_ref, 'open', :created_by, :created_at);

-- name: set-plan-checkout-session
UPDATE plan_checkouts SET session_ref = $2 WHERE id = $1;

-- name: select-plan-checkout
SELECT id, org_id, plan_code, amount_cents, currency, cycle_start, provider, session_ref, status,
       created_by, created_at, paid_at
FROM plan_checkouts WHERE id = $1;

-- name: lock-plan-checkout
-- The checkout row serialises its fulfilment: a second delivery waits, then sees it paid.
SELECT id, org_id, plan_code, amount_cents, currency, cycle_start, provider, session_ref, status,
       created_by, created_at, paid_at
FROM plan_checkouts WHERE id = $1 FOR UPDATE;

-- name: mark-plan-checkout-paid
UPDATE plan_checkouts SET status = 'paid', paid_at = $2 WHERE id = $1;

-- name: expire-open-plan-checkouts
-- A new checkout replaces the org's open ones: only the latest quote can be paid.
UPDATE plan_checkouts SET status = 'expired' WHERE org_id = $1 AND status = 'open' AND provider = 'demo';

-- name: select-plan-charges
-- The org's latest plan charges, newest first (index plan_charges_org_idx).
SELECT id, org_id, plan_code, kind, amount_cents, currency, period_start, period_end, provider,
       provider_ref, grant_id, entry_id, created_at
FROM plan_charges WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2;

-- name: select-plan-charge
SELECT id, org_id, plan_code, kind, amount_cents, currency, period_start, period_end, provider,
       provider_ref, grant_id, entry_id, created_at
FROM plan_charges WHERE id = $1;

-- name: select-cycle-usage
-- Credits used in each of the cycles starting at $2 (member_cycle_usage is kept per member and
-- cycle by ingestion, so this reads a few rows per cycle, never the events).
SELECT cycle_start, sum(used_mc) AS used_mc FROM member_cycle_usage
WHERE org_id = $1 AND cycle_start = ANY($2::timestamptz[])
GROUP BY cycle_start;

-- name: set-subscription-status
-- $1 org, $2 status, $3 at.
-- status is one of the table's: a provider's other states (unpaid, incomplete_expired) are past_due.
UPDATE subscriptions SET status = CASE WHEN $2 IN ('active', 'past_due', 'canceled') THEN $2 ELSE 'past_due' END,
       updated_at = $3
WHERE org_id = $1;

-- name: touch-subscription
-- Remembers the provider's time of the latest event applied. $1 org, $2 event at.
UPDATE subscriptions SET event_at = $2 WHERE org_id = $1;

-- name: select-plan-name
SELECT name FROM plans WHERE code = $1;

-- name: select-grant-remainders
-- What is left of grants $2 of org $1 (grants primary key).
SELECT id, remaining_mc FROM grants WHERE org_id = $1 AND id = ANY($2::bigint[]);
