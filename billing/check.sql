-- Ledger invariants, checked by CheckLedger (lux check, and billingtest.AssertLedger after every
-- test scenario). Each query returns the organizations that break the invariant, as
-- (org_id, off): off is by how much (or how many rows) it is broken. $1 is an org id, or NULL
-- for every organization.

-- name: balance-is-ledger-sum
SELECT a.org_id, a.balance_mc - COALESCE(e.total, 0) AS off
FROM accounts a
LEFT JOIN (SELECT org_id, sum(amount_mc) AS total FROM ledger_entries GROUP BY org_id) e ON e.org_id = a.org_id
WHERE ($1::text IS NULL OR a.org_id = $1) AND a.balance_mc <> COALESCE(e.total, 0);

-- name: balance-is-grants-minus-arrears
SELECT a.org_id, a.balance_mc - (COALESCE(g.total, 0) - a.arrears_mc) AS off
FROM accounts a
LEFT JOIN (SELECT org_id, sum(remaining_mc) AS total FROM grants GROUP BY org_id) g ON g.org_id = a.org_id
WHERE ($1::text IS NULL OR a.org_id = $1) AND a.balance_mc <> COALESCE(g.total, 0) - a.arrears_mc;

-- name: grant-remainder-is-amount-minus-allocations
SELECT g.org_id, count(*) AS off FROM grants g
WHERE ($1::text IS NULL OR g.org_id = $1)
  AND g.remaining_mc <> g.amount_mc - COALESCE((SELECT sum(amount_mc) FROM allocations a WHERE a.grant_id = g.id), 0)
GROUP BY g.org_id;

-- name: no-grant-below-zero
SELECT org_id, count(*) AS off FROM grants
WHERE ($1::text IS NULL OR org_id = $1) AND remaining_mc < 0
GROUP BY org_id;

-- name: arrears-are-unfunded-minus-settled
SELECT a.org_id, a.arrears_mc - (COALESCE(u.total, 0) - COALESCE(s.total, 0)) AS off
FROM accounts a
LEFT JOIN (SELECT org_id, sum(unfunded_mc) AS total FROM ledger_entries GROUP BY org_id) u ON u.org_id = a.org_id
LEFT JOIN (SELECT org_id, sum(amount_mc) AS total FROM allocations WHERE settled GROUP BY org_id) s ON s.org_id = a.org_id
WHERE ($1::text IS NULL OR a.org_id = $1) AND a.arrears_mc <> COALESCE(u.total, 0) - COALESCE(s.total, 0);

-- name: usage-entry-is-allocations-plus-unfunded
SELECT e.org_id, count(*) AS off FROM ledger_entries e
WHERE ($1::text IS NULL OR e.org_id = $1) AND e.kind = 'usage'
  AND -e.amount_mc <> e.unfunded_mc + COALESCE((SELECT sum(amount_mc) FROM allocations a WHERE a.entry_id = e.id AND NOT a.settled), 0)
GROUP BY e.org_id;

-- Usage is summed over usage_event_keys, which holds every recorded event's cost and entry and
-- is never detached (usage_events' old months can be, `lux partitions detach`);
-- events-are-their-keys ties the attached event rows to their keys.

-- name: usage-entries-are-event-costs
SELECT o.id AS org_id, COALESCE(l.total, 0) - COALESCE(u.total, 0) AS off
FROM orgs o
LEFT JOIN (SELECT org_id, -sum(amount_mc) AS total FROM ledger_entries WHERE kind = 'usage' GROUP BY org_id) l ON l.org_id = o.id
LEFT JOIN (SELECT org_id, sum(cost_mc) AS total FROM usage_event_keys GROUP BY org_id) u ON u.org_id = o.id
WHERE ($1::text IS NULL OR o.id = $1) AND COALESCE(l.total, 0) <> COALESCE(u.total, 0);

-- name: usage-entry-is-its-events
SELECT e.org_id, count(*) AS off FROM ledger_entries e
LEFT JOIN (SELECT org_id, entry_id, sum(cost_mc) AS total FROM usage_event_keys
           WHERE ($1::text IS NULL OR org_id = $1) GROUP BY org_id, entry_id) u
  ON u.org_id = e.org_id AND u.entry_id = e.id
WHERE ($1::text IS NULL OR e.org_id = $1) AND e.kind = 'usage' AND -e.amount_mc <> COALESCE(u.total, 0)
GROUP BY e.org_id;

-- name: events-are-their-keys
-- Every event row (in a month's partition or the default one) has its key, with the same month,
-- cost and entry, and is the only row of that key; every key has its event row, unless its
-- month was detached (the row is in the archived table).
SELECT COALESCE(k.org_id, u.org_id) AS org_id, count(*) AS off
FROM (SELECT org_id, id, occurred_at, cost_mc, entry_id FROM usage_event_keys
      WHERE ($1::text IS NULL OR org_id = $1)) k
FULL JOIN (SELECT org_id, id, min(occurred_at) AS occurred_at, max(occurred_at) AS last_at,
                  min(cost_mc) AS cost_mc, max(cost_mc) AS max_cost, min(entry_id) AS entry_id,
                  max(entry_id) AS max_entry, count(*) AS n
           FROM usage_events WHERE ($1::text IS NULL OR org_id = $1) GROUP BY org_id, id) u
  ON u.org_id = k.org_id AND u.id = k.id
WHERE CASE
    WHEN u.id IS NULL THEN NOT EXISTS (
        SELECT 1 FROM usage_months_detached d
        WHERE d.month = CAST(date_trunc('month', k.occurred_at, 'UTC') AT TIME ZONE 'UTC' AS date))
    WHEN k.id IS NULL THEN true
    ELSE u.n <> 1 OR u.occurred_at <> k.occurred_at OR u.last_at <> k.occurred_at
         OR u.cost_mc <> k.cost_mc OR u.max_cost <> k.cost_mc OR u.entry_id <> k.entry_id OR u.max_entry <> k.entry_id
    END
GROUP BY 1;

-- name: daily-rollup-is-events
-- The org's live rollup generation (a time zone change builds the next one beside it).
SELECT o.id AS org_id, COALESCE(d.total, 0) - COALESCE(u.total, 0) AS off
FROM orgs o
LEFT JOIN (SELECT org_id, gen, sum(credits_mc) AS total FROM usage_daily GROUP BY org_id, gen) d
       ON d.org_id = o.id AND d.gen = o.rollup_gen
LEFT JOIN (SELECT org_id, sum(cost_mc) AS total FROM usage_event_keys GROUP BY org_id) u ON u.org_id = o.id
WHERE ($1::text IS NULL OR o.id = $1) AND COALESCE(d.total, 0) <> COALESCE(u.total, 0);

-- name: flow-rollup-is-daily-rollup
-- Each flow's day in usage_flow_daily is the sum of its usage_daily rows (live generation);
-- off is the number of (day, flow) rows that differ.
SELECT o.id AS org_id, count(*) AS off
FROM orgs o
CROSS JOIN LATERAL (
    (SELECT day, flow_id, sum(credits_mc)::bigint, sum(quantity)::bigint, sum(events)::bigint
     FROM usage_daily WHERE org_id = o.id AND gen = o.rollup_gen GROUP BY day, flow_id
     EXCEPT ALL
     SELECT day, flow_id, credits_mc, quantity, events
     FROM usage_flow_daily WHERE org_id = o.id AND gen = o.rollup_gen)
    UNION ALL
    (SELECT day, flow_id, credits_mc, quantity, events
     FROM usage_flow_daily WHERE org_id = o.id AND gen = o.rollup_gen
     EXCEPT ALL
     SELECT day, flow_id, sum(credits_mc)::bigint, sum(quantity)::bigint, sum(events)::bigint
     FROM usage_daily WHERE org_id = o.id AND gen = o.rollup_gen GROUP BY day, flow_id)
) x
WHERE ($1::text IS NULL OR o.id = $1)
GROUP BY o.id;

-- name: weekly-flow-rollup-is-daily
-- Each flow's week in usage_flow_weekly (keyed by its Monday) is the sum of its days in
-- usage_flow_daily (live generation); off is the number of (week, flow) rows that differ.
SELECT o.id AS org_id, count(*) AS off
FROM orgs o
CROSS JOIN LATERAL (
    (SELECT day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc)::bigint, sum(quantity)::bigint, sum(events)::bigint
     FROM usage_flow_daily WHERE org_id = o.id AND gen = o.rollup_gen GROUP BY 1, 2
     EXCEPT ALL
     SELECT week, flow_id, credits_mc, quantity, events
     FROM usage_flow_weekly WHERE org_id = o.id AND gen = o.rollup_gen)
    UNION ALL
    (SELECT week, flow_id, credits_mc, quantity, events
     FROM usage_flow_weekly WHERE org_id = o.id AND gen = o.rollup_gen
     EXCEPT ALL
     SELECT day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc)::bigint, sum(quantity)::bigint, sum(events)::bigint
     FROM usage_flow_daily WHERE org_id = o.id AND gen = o.rollup_gen GROUP BY 1, 2)
) x
WHERE ($1::text IS NULL OR o.id = $1)
GROUP BY o.id;

-- name: execution-totals-are-events
SELECT o.id AS org_id, COALESCE(x.total, 0) - COALESCE(u.total, 0) AS off
FROM orgs o
LEFT JOIN (SELECT org_id, sum(credits_mc) AS total FROM execution_usage GROUP BY org_id) x ON x.org_id = o.id
LEFT JOIN (SELECT org_id, sum(cost_mc) AS total FROM usage_event_keys GROUP BY org_id) u ON u.org_id = o.id
WHERE ($1::text IS NULL OR o.id = $1) AND COALESCE(x.total, 0) <> COALESCE(u.total, 0);

-- name: allotment-grants-add-up
-- Plans: a cycle's allotment grants (the first and any upgrade top-ups, source_ref
-- "<cycle>/top-up/<level>") add up to the highest allotment level reached in it.
SELECT org_id, count(*) AS off FROM (
    SELECT org_id, sum(amount_mc) AS total,
           max(CASE WHEN source_ref LIKE '%/top-up/%' THEN split_part(source_ref, '/', 3)::bigint ELSE amount_mc END) AS level
    FROM grants WHERE ($1::text IS NULL OR org_id = $1) AND kind = 'plan_allotment'
    GROUP BY org_id, split_part(source_ref, '/', 1)) c
WHERE total <> level
GROUP BY org_id;

-- name: allotment-grants-expire-together
SELECT org_id, count(*) AS off FROM (
    SELECT org_id, count(DISTINCT expires_at) AS ends
    FROM grants WHERE ($1::text IS NULL OR org_id = $1) AND kind = 'plan_allotment'
    GROUP BY org_id, split_part(source_ref, '/', 1)) c
WHERE ends <> 1
GROUP BY org_id;

-- name: no-grant-expires-twice
SELECT org_id, count(*) AS off FROM (
    SELECT org_id, grant_id FROM ledger_entries
    WHERE ($1::text IS NULL OR org_id = $1) AND kind = 'expiry'
    GROUP BY org_id, grant_id HAVING count(*) > 1) x
GROUP BY org_id;

-- name: no-allotment-outlives-its-cycle
SELECT g.org_id, count(*) AS off FROM grants g JOIN accounts a ON a.org_id = g.org_id
WHERE ($1::text IS NULL OR g.org_id = $1) AND g.kind = 'plan_allotment'
  AND g.expires_at <= a.cycle_start AND g.remaining_mc > 0
GROUP BY g.org_id;

-- name: one-renewal-charge-per-cycle
SELECT org_id, count(*) AS off FROM (
    SELECT org_id, period_start FROM plan_charges
    WHERE ($1::text IS NULL OR org_id = $1) AND kind = 'renewal'
    GROUP BY org_id, period_start HAVING count(*) > 1) x
GROUP BY org_id;

-- name: plan-charge-points-at-its-allotment
SELECT c.org_id, count(*) AS off FROM plan_charges c
LEFT JOIN grants g ON g.id = c.grant_id
LEFT JOIN ledger_entries e ON e.id = c.entry_id
WHERE ($1::text IS NULL OR c.org_id = $1) AND c.grant_id IS NOT NULL
  AND (g.org_id <> c.org_id OR g.kind <> 'plan_allotment' OR e.grant_id IS DISTINCT FROM g.id)
GROUP BY c.org_id;

-- name: paid-purchase-has-its-grant
-- Payments: a purchase is paid exactly when it has a grant, of its own amount, kind, reference
-- and organization.
SELECT p.org_id, count(*) AS off FROM purchases p LEFT JOIN grants g ON g.id = p.grant_id
WHERE ($1::text IS NULL OR p.org_id = $1)
  AND ((p.status = 'paid') <> (g.id IS NOT NULL)
       OR g.amount_mc <> p.credits_mc OR g.kind <> 'purchase' OR g.source_ref <> p.id OR g.org_id <> p.org_id)
GROUP BY p.org_id;

-- name: no-purchase-granted-twice
SELECT p.org_id, count(*) AS off FROM purchases p
WHERE ($1::text IS NULL OR p.org_id = $1)
  AND (SELECT count(*) FROM grants g WHERE g.org_id = p.org_id AND g.kind = 'purchase' AND g.source_ref = p.id) > 1
GROUP BY p.org_id;

-- name: paid-purchase-has-its-event
-- A purchase is granted only by acting on a provider's event, recorded in the same transaction
-- (payment_events): a paid purchase without one was granted by something else.
SELECT p.org_id, count(*) AS off FROM purchases p
WHERE ($1::text IS NULL OR p.org_id = $1) AND p.status = 'paid'
  AND NOT EXISTS (SELECT 1 FROM payment_events v WHERE v.purchase_id = p.id AND v.provider = p.provider)
GROUP BY p.org_id;

-- name: refund-took-unused-credits-of-its-purchase
-- Each refund removed its credits from its purchase's grant (a refund entry of that grant,
-- allocated to it), and no more than was unused.
SELECT r.org_id, count(*) AS off FROM refunds r
JOIN purchases p ON p.id = r.purchase_id
JOIN ledger_entries e ON e.id = r.entry_id
WHERE ($1::text IS NULL OR r.org_id = $1)
  AND (e.kind <> 'refund' OR e.amount_mc <> -r.credits_mc OR e.grant_id IS DISTINCT FROM p.grant_id
       OR r.org_id <> p.org_id OR e.org_id <> r.org_id
       OR r.credits_mc > p.credits_mc - COALESCE((SELECT sum(a.amount_mc) FROM allocations a
                                                    WHERE a.grant_id = p.grant_id AND a.entry_id <> r.entry_id), 0)
       OR (SELECT sum(a.amount_mc) FROM allocations a WHERE a.entry_id = e.id AND a.grant_id = p.grant_id) IS DISTINCT FROM r.credits_mc)
GROUP BY r.org_id;

-- name: refund-money-within-its-share
-- A refund returns no more money than its credits' share of the price (rounded half up).
SELECT r.org_id, count(*) AS off FROM refunds r JOIN purchases p ON p.id = r.purchase_id
WHERE ($1::text IS NULL OR r.org_id = $1)
  AND 2 * r.amount_cents * p.credits_mc > 2 * p.price_cents * r.credits_mc + p.credits_mc
GROUP BY r.org_id;

-- name: refund-entry-is-a-refund
SELECT e.org_id, count(*) AS off FROM ledger_entries e
WHERE ($1::text IS NULL OR e.org_id = $1) AND e.kind = 'refund'
  AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.entry_id = e.id)
GROUP BY e.org_id;

-- name: select-org-exists
SELECT EXISTS (SELECT 1 FROM orgs WHERE id = $1);
