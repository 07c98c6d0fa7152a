-- Named queries of usage ingestion (ingest.go). One transaction records the queued batches of
-- any number of organizations with these six statements, whatever the number of events.

-- name: lock-accounts
-- Locks the accounts of the orgs in $1, in org id order (LockRows runs above the sort), so that
-- two transactions never wait on each other in a cycle.
SELECT a.org_id, a.balance_mc, a.arrears_mc, a.cycle_start, a.cycle_end, a.cycle_used_mc,
       o.plan_code, o.custom_allotment_mc, o.cycle_anchor, o.timezone, o.monthly_limit_mc,
       p.monthly_credits_mc AS plan_credits_mc
FROM accounts a JOIN orgs o ON o.id = a.org_id JOIN plans p ON p.code = o.plan_code
WHERE a.org_id = ANY($1::text[])
ORDER BY a.org_id
-- SHARE on the org rows makes a statement that waited for the account locks read their latest
-- versions (a time zone or limit changed meanwhile), not its start snapshot's. (KEY SHARE would
-- not: it is compatible with the change, so the old version is locked and returned.)
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
-- Records events; each org's new events share one new ledger entry id. Ids an org recorded
-- before are skipped; RETURNING lists the new ones. $1 orgs (distinct), then per event:
-- $2 org, $3 id, $4 flow, $5 execution, $6 user, $7 type, $8 model, $9 quantity, $10 cost,
-- $11 occurred_at, $13 body hash; $12 received_at.
WITH entry AS (
    SELECT o, nextval('ledger_entries_id_seq') AS id FROM unnest($1::text[]) AS o
)
INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity,
                          cost_mc, occurred_at, received_at, entry_id, body_hash)
SELECT e.org_id, e.id, e.flow_id, e.execution_id, e.user_id, e.type, e.model, e.quantity,
       e.cost_mc, e.occurred_at, $12, entry.id, e.body_hash
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
            $9::bigint[], $10::bigint[], $11::timestamptz[], $13::bytea[])
     AS e(org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, body_hash)
JOIN entry ON entry.o = e.org_id
ON CONFLICT (org_id, id) DO NOTHING
RETURNING org_id, id, entry_id;

-- name: select-recorded
-- The stored hash and cost of events recorded before: $1 orgs, $2 ids (pairs).
SELECT u.org_id, u.id, u.body_hash, u.cost_mc
FROM unnest($1::text[], $2::text[]) AS p(org_id, id)
JOIN usage_events u ON u.org_id = p.org_id AND u.id = p.id;

-- name: select-live-grants
-- The orgs' grants with credit left, each org's in consumption order: soonest expiry first,
-- never-expiring oldest first (index grants_live_idx).
SELECT org_id, id, kind, remaining_mc, expires_at FROM grants
WHERE org_id = ANY($1::text[]) AND remaining_mc > 0
ORDER BY org_id, expires_at NULLS LAST, id;

-- name: write-usage
-- Everything the transaction writes after allocation, for every org at once, in one statement:
-- usage entries, allocations and grant remainders (with any pending from expiries), account
-- rows, the daily rollup, execution totals, new flows and member counters (returned).
-- $1 now; entries $2..$6 (id, org, amount, unfunded, memo); allocations $7..$11 (org, entry,
-- grant, amount, settled); grants $12..$13 (id, remaining); accounts $14..$19 (org, balance,
-- arrears, cycle start, cycle end, cycle used); daily $20..$28 (org, day, flow, user, type,
-- model, credits, quantity, events); executions $29..$37 (org, execution, type, flow, user,
-- credits, events, first, last); flows $38..$39 (org, flow); members $40..$43 (org, user,
-- cycle start, amount).
WITH entry AS (
    INSERT INTO ledger_entries (id, org_id, kind, amount_mc, unfunded_mc, memo, created_at)
    SELECT id, o, 'usage', a, u, m, $1
    FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::bigint[], $6::text[]) AS t(id, o, a, u, m)
), alloc AS (
    INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at)
    SELECT o, e, g, a, s, $1
    FROM unnest($7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[]) AS t(o, e, g, a, s)
), grant_rem AS (
    UPDATE grants g SET remaining_mc = t.r
    FROM unnest($12::bigint[], $13::bigint[]) AS t(id, r)
    WHERE g.id = t.id
), acct AS (
    UPDATE accounts a SET balance_mc = t.b, arrears_mc = t.ar, cycle_start = t.cs,
           cycle_end = t.ce, cycle_used_mc = t.cu, updated_at = $1
    FROM unnest($14::text[], $15::bigint[], $16::bigint[], $17::timestamptz[], $18::timestamptz[],
                $19::bigint[]) AS t(o, b, ar, cs, ce, cu)
    WHERE a.org_id = t.o
), daily AS (
    INSERT INTO usage_daily (org_id, day, flow_id, user_id, type, model, credits_mc, quantity, events)
    SELECT o, d, f, u, t, m, c, q, n
    FROM unnest($20::text[], $21::date[], $22::text[], $23::text[], $24::text[], $25::text[],
                $26::bigint[], $27::bigint[], $28::bigint[]) AS x(o, d, f, u, t, m, c, q, n)
    ON CONFLICT (org_id, day, flow_id, user_id, type, model) DO UPDATE SET
        credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
        quantity = usage_daily.quantity + EXCLUDED.quantity,
        events = usage_daily.events + EXCLUDED.events
), execs AS (
    INSERT INTO execution_usage (org_id, execution_id, type, flow_id, user_id, credits_mc, events,
                                 first_at, last_at)
    SELECT o, e, t, f, u, c, n, a, b
    FROM unnest($29::text[], $30::text[], $31::text[], $32::text[], $33::text[], $34::bigint[],
                $35::bigint[], $36::timestamptz[], $37::timestamptz[]) AS x(o, e, t, f, u, c, n, a, b)
    ON CONFLICT (org_id, execution_id, type) DO UPDATE SET
        credits_mc = execution_usage.credits_mc + EXCLUDED.credits_mc,
        events = execution_usage.events + EXCLUDED.events,
        first_at = LEAST(execution_usage.first_at, EXCLUDED.first_at),
        last_at = GREATEST(execution_usage.last_at, EXCLUDED.last_at)
), new_flows AS (
    INSERT INTO flows (org_id, id, created_at)
    SELECT o, f, $1 FROM unnest($38::text[], $39::text[]) AS t(o, f)
    ON CONFLICT DO NOTHING
)
INSERT INTO member_cycle_usage (org_id, user_id, cycle_start, used_mc)
SELECT o, u, cs, a FROM unnest($40::text[], $41::text[], $42::timestamptz[], $43::bigint[]) AS t(o, u, cs, a)
ON CONFLICT (org_id, user_id, cycle_start)
DO UPDATE SET used_mc = member_cycle_usage.used_mc + EXCLUDED.used_mc
RETURNING org_id, user_id, used_mc;
