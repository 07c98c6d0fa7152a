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
    -- usage_daily: the rollup rows, added to (days in the org's zone)
    INSERT INTO usage_daily (org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events
    FROM json_populate_recordset(NULL::usage_daily, $6::json)
    ON CONFLICT (org_id, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
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

-- name: select-account-org
SELECT org_id FROM accounts WHERE org_id = $1;

-- name: lock-account-row
-- The org's ledger lock, the row ingestion locks (lock-account in queries.sql).
SELECT org_id FROM accounts WHERE org_id = $1 FOR UPDATE;

-- name: check-timezone
-- Fails with 22023 when PostgreSQL does not know the zone $1.
SELECT CAST(now() AT TIME ZONE $1 AS text);

-- name: update-org-timezone
UPDATE orgs SET timezone = $2 WHERE id = $1;

-- name: set-rebuild-memory
-- A year of a busy org is a few hundred thousand groups: keep the rebuild's aggregate in
-- memory instead of spilling it to disk (this transaction only).
SET LOCAL work_mem = '128MB';

-- name: create-usage-daily-next
-- SetTimezone's scratch rollup, private to its session: usage_daily's columns and primary key.
CREATE TEMPORARY TABLE usage_daily_next (LIKE usage_daily INCLUDING INDEXES);

-- name: drop-usage-daily-next
DROP TABLE IF EXISTS pg_temp.usage_daily_next;

-- name: add-usage-daily-next
-- Adds org $1's events whose entry id is above $3 to the scratch rollup, days cut in zone $2,
-- and returns the highest entry id among them ($3 when there is none) and their number. One
-- statement, one snapshot: an org's usage entry ids are drawn under its ledger lock, so the
-- events it has committed are exactly those up to the returned id, and the next call adds
-- what came after.
-- $3 = 0 reads all of the org's events (a sequential scan); a high $3 reads the recent block
-- ranges through the BRIN index usage_events_entry_idx. Only events that occurred from $4 on
-- ('-infinity': all) are read: what is before is kept as it is (detached months,
-- select-rollup-horizon in partitions.sql).
WITH agg AS MATERIALIZED (
    SELECT org_id, CAST(occurred_at AT TIME ZONE $2 AS date) AS day, flow_id, user_id, type, model,
           sum(cost_mc) AS credits_mc, sum(quantity) AS quantity, count(*) AS events,
           max(entry_id) AS top
    FROM usage_events
    WHERE org_id = $1 AND entry_id > $3 AND occurred_at >= CAST($4 AS timestamptz)
    GROUP BY org_id, 2, flow_id, user_id, type, model
), ins AS (
    INSERT INTO usage_daily_next (org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events FROM agg
    ON CONFLICT (org_id, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily_next.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily_next.quantity + EXCLUDED.quantity,
        events = usage_daily_next.events + EXCLUDED.events
)
SELECT CAST(COALESCE(max(top), $3) AS bigint) AS seen, CAST(COALESCE(sum(events), 0) AS bigint) AS events
FROM agg;

-- name: summarize-entry-index
-- Summarises the block ranges of usage_events_entry_idx (every partition's) that were filled
-- since the last VACUUM, so that a scan for recent entry ids reads only the ranges written
-- after this.
SELECT count(brin_summarize_new_values(relid)) FROM pg_partition_tree('usage_events_entry_idx') WHERE isleaf;

-- name: delete-usage-daily
-- Org $1's rollup rows from day $2 on ('-infinity': all of them).
DELETE FROM usage_daily WHERE org_id = $1 AND day >= CAST($2 AS date);

-- name: insert-usage-daily-next
-- The scratch rollup into usage_daily, in day order as ingestion writes it, so that a report's
-- range is a contiguous part of the table. Added to a kept row of the same day (the day before
-- the kept rows end, when months were detached; see select-rollup-horizon).
INSERT INTO usage_daily (org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events)
SELECT org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events
FROM usage_daily_next
ORDER BY day, flow_id, user_id, type, model
ON CONFLICT (org_id, day, flow_id, user_id, type, model) DO UPDATE SET
    credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
    quantity = usage_daily.quantity + EXCLUDED.quantity,
    events = usage_daily.events + EXCLUDED.events;

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
