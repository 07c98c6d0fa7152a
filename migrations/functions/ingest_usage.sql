-- ingest_usage: the common case of ingestion in one statement, sent outside any transaction
-- (billing/ingest_fast.go), so that a group of usage batches costs one round trip, its commit
-- included. It locks the group's accounts, checks the members, inserts the events and writes
-- every org's charge: the same work as the Go path (lock-accounts … write-usage in
-- billing/queries.sql), for the common case only. It declines, writing nothing, when the Go
-- path must decide, in its own transaction:
--
--   * an org is unknown or its cycle has ended (the Go path rolls it over);
--   * a user is not a member of the org;
--   * a live grant has expired (the Go path expires it first);
--   * the charge would cross something that notifies: a threshold of the monthly limit, the
--     low-balance alert, the balance reaching zero, a member's limit (billing/notice.go decides
--     the notices; the conditions below are the same comparisons);
--   * an event id was recorded before (a retry or a conflict).
--
-- The first four are found before anything is written: no row is returned. The last is found
-- by the insert; the function then raises SQLSTATE LXDUP, which rolls the whole statement back.
--
-- Every statement of a VOLATILE function takes a new snapshot under READ COMMITTED, so the
-- grants and counters read after the lock are the latest committed ones.
--
-- Returns one 'account' row per org (r_a: its balance after the charge, r_b: its usage in the
-- cycle, r_c: its monthly limit or NULL) and one 'member' row per (org, user) of the group
-- (r_a: the member's usage in the cycle after the charge, r_b: their monthly limit or NULL).
--
-- This file is installed by migrations.Up after the migrations, on every start
-- (CREATE OR REPLACE): its text here is the one definition. A change that the previous
-- release's binaries could not call gets a new name.
CREATE OR REPLACE FUNCTION ingest_usage(
    p_now      timestamptz,
    p_orgs     text[],        -- the group's orgs, distinct
    p_memos    text[],        -- each org's usage entry memo
    p_org      text[],        -- then one element per event, ids distinct within an org
    p_id       text[],
    p_flow     text[],
    p_exec     text[],
    p_user     text[],
    p_type     text[],
    p_model    text[],
    p_qty      bigint[],
    p_cost     bigint[],
    p_occurred timestamptz[],
    p_hash     bytea[])
RETURNS TABLE (r_kind text, r_org text, r_user text, r_a bigint, r_b bigint, r_c bigint)
LANGUAGE plpgsql VOLATILE
-- One plan per statement and connection, kept: planning the charge for each call's arrays
-- cost more than running it.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_locked   bigint;
    v_entries  bigint[];
    v_inserted bigint;
BEGIN
    -- The ledger locks, in org id order as lock-accounts takes them (LockRows above the sort);
    -- SHARE on the org rows for the same reason as there. An account whose cycle has ended is
    -- not counted: the Go path rolls it over.
    SELECT count(*) INTO v_locked
    FROM (SELECT 1 FROM accounts a JOIN orgs o ON o.id = a.org_id
          WHERE a.org_id = ANY (p_orgs) AND a.cycle_end > p_now
          ORDER BY a.org_id
          FOR UPDATE OF a FOR SHARE OF o) AS l;
    IF v_locked <> cardinality(p_orgs) THEN
        RETURN;
    END IF;

    IF EXISTS (
        -- a user who is not a member
        SELECT 1 FROM (SELECT DISTINCT o, u FROM unnest(p_org, p_user) AS e(o, u)) AS p
        WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = p.o AND m.user_id = p.u)
    ) OR EXISTS (
        -- an expired grant still holding credits
        SELECT 1 FROM grants g
        WHERE g.org_id = ANY (p_orgs) AND g.remaining_mc > 0 AND g.expires_at <= p_now
    ) OR EXISTS (
        -- an org the charge takes across a threshold, the low-balance alert or zero (orgNotices)
        SELECT 1
        FROM (SELECT e.o, sum(e.c)::bigint AS c FROM unnest(p_org, p_cost) AS e(o, c) GROUP BY e.o) AS t
        JOIN accounts a ON a.org_id = t.o
        JOIN orgs o ON o.id = t.o
        WHERE t.c > 0 AND (
            (a.balance_mc > 0 AND a.balance_mc - t.c <= 0)
            OR (o.low_balance_mc IS NOT NULL AND a.balance_mc - t.c > 0
                AND a.balance_mc - t.c <= o.low_balance_mc AND a.balance_mc > o.low_balance_mc)
            OR (o.monthly_limit_mc IS NOT NULL AND EXISTS (
                SELECT 1 FROM unnest(o.threshold_percents || 100) AS p(pct)
                WHERE p.pct BETWEEN 1 AND 100
                  AND a.cycle_used_mc * 100 < p.pct * o.monthly_limit_mc
                  AND (a.cycle_used_mc + t.c) * 100 >= p.pct * o.monthly_limit_mc)))
    ) OR EXISTS (
        -- a member the charge takes to their limit (memberNotices)
        SELECT 1
        FROM (SELECT e.o, e.u, sum(e.c)::bigint AS c FROM unnest(p_org, p_user, p_cost) AS e(o, u, c)
              GROUP BY e.o, e.u) AS t
        JOIN memberships m ON m.org_id = t.o AND m.user_id = t.u
        JOIN accounts a ON a.org_id = t.o
        LEFT JOIN member_cycle_usage cu
               ON cu.org_id = t.o AND cu.user_id = t.u AND cu.cycle_start = a.cycle_start
        WHERE m.monthly_limit_mc IS NOT NULL
          AND COALESCE(cu.used_mc, 0) < m.monthly_limit_mc
          AND COALESCE(cu.used_mc, 0) + t.c >= m.monthly_limit_mc
    ) THEN
        RETURN;
    END IF;

    SELECT array_agg(nextval('ledger_entries_id_seq')) INTO v_entries
    FROM generate_series(1, cardinality(p_orgs));

    -- The keys first (usage_event_keys, the idempotency key whatever month an event lands
    -- in), in key order (org, id) as the Go path inserts them. An id recorded before (a retry
    -- or a conflict) is not inserted; the call then fails with LXDUP, rolling everything back,
    -- for the Go path to compare the bodies. Then the event rows, to their months' partitions.
    INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
    SELECT e.o, e.i, e.at, en.id, e.c, e.h
    FROM unnest(p_org, p_id, p_cost, p_occurred, p_hash) AS e(o, i, c, at, h)
    JOIN unnest(p_orgs, v_entries) AS en(o, id) ON en.o = e.o
    ORDER BY e.o COLLATE "C", e.i COLLATE "C"
    ON CONFLICT (org_id, id) DO NOTHING;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted <> cardinality(p_id) THEN
        RAISE EXCEPTION 'ingest_usage: an event id was recorded before' USING ERRCODE = 'LXDUP';
    END IF;
    INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity,
                              cost_mc, occurred_at, received_at, entry_id)
    SELECT e.o, e.i, e.f, e.x, e.u, e.t, e.m, e.q, e.c, e.at, p_now, en.id
    FROM unnest(p_org, p_id, p_flow, p_exec, p_user, p_type, p_model, p_qty, p_cost, p_occurred)
         AS e(o, i, f, x, u, t, m, q, c, at)
    JOIN unnest(p_orgs, v_entries) AS en(o, id) ON en.o = e.o;

    RETURN QUERY
    WITH ev AS (
        SELECT * FROM unnest(p_org, p_id, p_flow, p_exec, p_user, p_type, p_model, p_qty, p_cost, p_occurred)
                 AS e(o, i, f, x, u, t, m, q, c, at)
    ), tot AS (
        -- each org's entry and total cost
        SELECT en.o, en.id AS entry_id, en.memo, COALESCE(sum(ev.c), 0)::bigint AS total
        FROM unnest(p_orgs, v_entries, p_memos) AS en(o, id, memo)
        LEFT JOIN ev ON ev.o = en.o
        GROUP BY en.o, en.id, en.memo
    ), live AS (
        -- live grants in consumption order, with what the grants before each one hold
        SELECT g.id, g.org_id, g.remaining_mc,
               (sum(g.remaining_mc) OVER (PARTITION BY g.org_id ORDER BY g.expires_at NULLS LAST, g.id)
                - g.remaining_mc)::bigint AS ahead
        FROM grants g
        WHERE g.org_id = ANY (p_orgs) AND g.remaining_mc > 0
    ), take AS (
        -- what each grant pays: all it holds, or the rest of the cost
        SELECT l.id, l.org_id, t.entry_id, LEAST(l.remaining_mc, t.total - l.ahead) AS amount
        FROM live l JOIN tot t ON t.o = l.org_id
        WHERE t.total > l.ahead
    ), paid AS (
        SELECT t.o, t.entry_id, t.memo, t.total,
               t.total - COALESCE((SELECT sum(k.amount) FROM take k WHERE k.org_id = t.o), 0)::bigint AS unfunded
        FROM tot t
    ), entry AS (
        INSERT INTO ledger_entries (id, org_id, kind, amount_mc, unfunded_mc, memo, created_at)
        SELECT p.entry_id, p.o, 'usage', -p.total, p.unfunded, p.memo, p_now FROM paid p
    ), alloc AS (
        INSERT INTO allocations (org_id, entry_id, grant_id, amount_mc, settled, created_at)
        SELECT k.org_id, k.entry_id, k.id, k.amount, false, p_now FROM take k ORDER BY k.id
    ), grant_rem AS (
        UPDATE grants g SET remaining_mc = g.remaining_mc - k.amount
        FROM take k WHERE g.id = k.id
    ), acct AS (
        UPDATE accounts a SET balance_mc = a.balance_mc - p.total, arrears_mc = a.arrears_mc + p.unfunded,
               cycle_used_mc = a.cycle_used_mc + p.total, updated_at = p_now
        FROM paid p WHERE a.org_id = p.o
        RETURNING a.org_id, a.balance_mc, a.cycle_used_mc
    ), daily AS (
        -- days cut in the org's zone, as rebuild-usage-daily cuts them, in the rollup
        -- generation the org row names (read after the lock: a zone change switches both)
        INSERT INTO usage_daily (org_id, gen, day, flow_id, user_id, type, model, credits_mc, quantity, events)
        SELECT ev.o, o.rollup_gen, CAST(ev.at AT TIME ZONE o.timezone AS date), ev.f, ev.u, ev.t, ev.m,
               sum(ev.c), sum(ev.q), count(*)
        FROM ev JOIN orgs o ON o.id = ev.o
        GROUP BY 1, 2, 3, 4, 5, 6, 7
        ORDER BY 1, 2, 3, 4, 5, 6, 7
        ON CONFLICT (org_id, gen, day, flow_id, user_id, type, model) DO UPDATE SET
            credits_mc = usage_daily.credits_mc + EXCLUDED.credits_mc,
            quantity = usage_daily.quantity + EXCLUDED.quantity,
            events = usage_daily.events + EXCLUDED.events
    ), flow_daily AS (
        -- the same per flow and day
        INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
        SELECT ev.o, o.rollup_gen, CAST(ev.at AT TIME ZONE o.timezone AS date), ev.f,
               sum(ev.c), sum(ev.q), count(*)
        FROM ev JOIN orgs o ON o.id = ev.o
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, gen, day, flow_id) DO UPDATE SET
            credits_mc = usage_flow_daily.credits_mc + EXCLUDED.credits_mc,
            quantity = usage_flow_daily.quantity + EXCLUDED.quantity,
            events = usage_flow_daily.events + EXCLUDED.events
    ), flow_weekly AS (
        -- and per flow and week (its Monday; 2000-01-03 was one)
        INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
        SELECT ev.o, o.rollup_gen, CAST(ev.at AT TIME ZONE o.timezone AS date)
                                   - (CAST(ev.at AT TIME ZONE o.timezone AS date) - DATE '2000-01-03') % 7,
               ev.f, sum(ev.c), sum(ev.q), count(*)
        FROM ev JOIN orgs o ON o.id = ev.o
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (org_id, gen, week, flow_id) DO UPDATE SET
            credits_mc = usage_flow_weekly.credits_mc + EXCLUDED.credits_mc,
            quantity = usage_flow_weekly.quantity + EXCLUDED.quantity,
            events = usage_flow_weekly.events + EXCLUDED.events
    ), execs AS (
        -- a new execution row takes the flow and user of its first event by id
        INSERT INTO execution_usage (org_id, execution_id, type, flow_id, user_id, credits_mc, events,
                                     first_at, last_at)
        SELECT ev.o, ev.x, ev.t, (array_agg(ev.f ORDER BY ev.i COLLATE "C"))[1],
               (array_agg(ev.u ORDER BY ev.i COLLATE "C"))[1], sum(ev.c), count(*), min(ev.at), max(ev.at)
        FROM ev
        GROUP BY ev.o, ev.x, ev.t
        ORDER BY 1, 2, 3
        ON CONFLICT (org_id, execution_id, type) DO UPDATE SET
            credits_mc = execution_usage.credits_mc + EXCLUDED.credits_mc,
            events = execution_usage.events + EXCLUDED.events,
            first_at = LEAST(execution_usage.first_at, EXCLUDED.first_at),
            last_at = GREATEST(execution_usage.last_at, EXCLUDED.last_at)
    ), new_flows AS (
        INSERT INTO flows (org_id, id, created_at)
        SELECT DISTINCT ev.o, ev.f, p_now FROM ev
        ORDER BY 1, 2
        ON CONFLICT DO NOTHING
    ), member AS (
        INSERT INTO member_cycle_usage (org_id, user_id, cycle_start, used_mc)
        SELECT ev.o, ev.u, a.cycle_start, sum(ev.c)
        FROM ev JOIN accounts a ON a.org_id = ev.o
        GROUP BY ev.o, ev.u, a.cycle_start
        ORDER BY 1, 2
        ON CONFLICT (org_id, user_id, cycle_start)
        DO UPDATE SET used_mc = member_cycle_usage.used_mc + EXCLUDED.used_mc
        RETURNING member_cycle_usage.org_id, member_cycle_usage.user_id, member_cycle_usage.used_mc
    )
    SELECT 'account'::text, x.org_id, ''::text, x.balance_mc, x.cycle_used_mc, o.monthly_limit_mc
    FROM acct x JOIN orgs o ON o.id = x.org_id
    UNION ALL
    SELECT 'member'::text, m.org_id, m.user_id, m.used_mc, ms.monthly_limit_mc, NULL::bigint
    FROM member m JOIN memberships ms ON ms.org_id = m.org_id AND ms.user_id = m.user_id;
END;
$$;
