-- Named queries of reports (package reports): usage reports, the execution drill-down, the
-- forecast and recent activity. Parsed once at start-up into queryText (queries.go); names are
-- verb-noun and unique. Queries with :name parameters run through sqlx's named binding, so
-- they spell casts CAST(x AS t) and keep colons out of their comments.
--
-- The rollups (usage_daily, usage_flow_daily) hold generations: every read of them takes the
-- one the org row names, in the same statement (billing/timezone.go builds the next one
-- beside it). The report queries are planned with their values, so the CASEs on the interval
-- and the grouping fold to one expression; a week's Monday is computed with date arithmetic
-- (2000-01-03 was a Monday), which costs less per row than date_trunc.

-- name: select-execution
-- One execution's credits by type (index execution_usage primary key).
SELECT type, flow_id, credits_mc FROM execution_usage
WHERE org_id = $1 AND execution_id = $2 ORDER BY type;

-- name: select-recent-activity
-- The org's latest ledger entries, newest first, with the kind of grant a grant entry added.
-- $1 org, $2 filter ('all', 'usage' or 'credits': everything but usage), $3 limit.
-- Walks ledger_entries_org_idx backwards. For 'credits' the walk skips usage entries; an index
-- ON ledger_entries (org_id, id) WHERE kind <> 'usage' would bound it for very busy orgs.
SELECT e.id, e.kind, COALESCE(g.kind, '') AS grant_kind, e.amount_mc, e.unfunded_mc, e.memo,
       e.created_at
FROM ledger_entries e
LEFT JOIN grants g ON g.id = e.grant_id
WHERE e.org_id = $1
  AND ($2 = 'all' OR ($2 = 'usage') = (e.kind = 'usage'))
ORDER BY e.id DESC
LIMIT $3;

-- name: select-org-zone
SELECT timezone, cycle_anchor FROM orgs WHERE id = $1;

-- name: select-report
-- A report filtered by member or type, in one read of the daily rollup (a range of its primary
-- key, org_id, gen and day), two aggregates of the same rows. Rows of kind 'cell' are the
-- report's cells, one per bucket and group key; rows of kind 'flow' are each flow's total over
-- the range, from which the caller picks the top flows. kind is GROUPING(flow_id), 1 for a cell
-- and 0 for a flow; a cell's bucket is given as days since the first bucket's start (the first
-- parameter). Unordered and unlabelled, so no text is sorted or joined and nothing needs
-- parsing but integers.
SELECT GROUPING(flow_id) AS kind,
       CAST(bucket - CAST(:first AS date) AS int) AS bucket,
       CASE WHEN GROUPING(flow_id) = 0 THEN flow_id ELSE key END AS key,
       CAST(sum(credits_mc) AS bigint) AS credits_mc,
       CAST(sum(quantity) AS bigint) AS quantity,
       CAST(sum(events) AS bigint) AS events
FROM (
    SELECT CASE CAST(:interval AS text)
               WHEN 'week'  THEN day - (day - DATE '2000-01-03') % 7
               WHEN 'month' THEN CAST(date_trunc('month', CAST(day AS timestamp)) AS date)
               ELSE day
           END AS bucket,
           CASE CAST(:group_by AS text)
               WHEN 'flow' THEN flow_id
               WHEN 'user' THEN user_id
               ELSE type
           END AS key,
           flow_id, credits_mc, quantity, events
    FROM usage_daily
    WHERE org_id = :org AND gen = (SELECT rollup_gen FROM orgs WHERE id = :org)
      AND day BETWEEN CAST(:from AS date) AND CAST(:to AS date)
      AND (CAST(:flow AS text) = '' OR flow_id = :flow)
      AND (CAST(:user AS text) = '' OR user_id = :user)
      AND (CAST(:type AS text) = '' OR type = :type)
) d
GROUP BY GROUPING SETS ((bucket, key), (flow_id));

-- name: select-report-by-flow
-- A report grouped by flow without a member or type filter, in the shape of select-report
-- (kind 1), unaggregated, from the per-flow rollups (usage_flow_cells in migrations/functions,
-- the full weeks week_from to week_to and the days around them). A row's bucket is its day (or
-- week's Monday) as days since the first bucket's start; the caller adds up the rows of a
-- bucket, and the top flows are the groups' totals.
SELECT 1 AS kind, CAST(day - CAST(:first AS date) AS int) AS bucket, flow_id AS key,
       credits_mc, quantity, events
FROM usage_flow_cells(:org, CAST(:week_from AS date), CAST(:week_to AS date), CAST(:from AS date),
                      CAST(:days_to AS date), CAST(:days_from AS date), CAST(:to AS date), CAST(:flow AS text)) r;

-- name: select-report-and-flows
-- A report grouped by type or member without a member or type filter, in the shape of
-- select-report, its cells (kind 1) from the daily rollup, then each flow's total (kind 0)
-- from the per-flow rollups, the full weeks week_from to week_to from the weekly one and the
-- days around them from the daily one. One round trip.
SELECT 1 AS kind,
       CAST(bucket - CAST(:first AS date) AS int) AS bucket,
       key,
       CAST(sum(credits_mc) AS bigint) AS credits_mc,
       CAST(sum(quantity) AS bigint) AS quantity,
       CAST(sum(events) AS bigint) AS events
FROM (
    SELECT CASE CAST(:interval AS text)
               WHEN 'week'  THEN day - (day - DATE '2000-01-03') % 7
               WHEN 'month' THEN CAST(date_trunc('month', CAST(day AS timestamp)) AS date)
               ELSE day
           END AS bucket,
           CASE CAST(:group_by AS text)
               WHEN 'user' THEN user_id
               ELSE type
           END AS key,
           credits_mc, quantity, events
    FROM usage_daily
    WHERE org_id = :org AND gen = (SELECT rollup_gen FROM orgs WHERE id = :org)
      AND day BETWEEN CAST(:from AS date) AND CAST(:to AS date)
      AND (CAST(:flow AS text) = '' OR flow_id = :flow)
) d
GROUP BY bucket, key
UNION ALL
SELECT 0, NULL, flow_id, CAST(sum(credits_mc) AS bigint), CAST(sum(quantity) AS bigint), CAST(sum(events) AS bigint)
FROM usage_flow_cells(:org, CAST(:week_from AS date), CAST(:week_to AS date), CAST(:from AS date),
                      CAST(:days_to AS date), CAST(:days_from AS date), CAST(:to AS date), CAST(:flow AS text)) r
GROUP BY flow_id;

-- name: select-flow-cells
-- The rows of a CSV grouped by flow without a member or type filter, from the per-flow rollups
-- as select-report-by-flow reads them, ordered by bucket then flow (byte order, the
-- collation of flow_id). The caller adds up consecutive rows of the same bucket and flow.
SELECT CAST(CASE CAST(:interval AS text)
                WHEN 'week'  THEN day - (day - DATE '2000-01-03') % 7
                WHEN 'month' THEN CAST(date_trunc('month', CAST(day AS timestamp)) AS date)
                ELSE day
            END AS text) AS bucket,
       flow_id, credits_mc, quantity, events
FROM usage_flow_cells(:org, CAST(:week_from AS date), CAST(:week_to AS date), CAST(:from AS date),
                      CAST(:days_to AS date), CAST(:days_from AS date), CAST(:to AS date), CAST(:flow AS text)) r
ORDER BY 1, r.flow_id COLLATE "C";

-- name: select-org-flow-names
-- Every flow of org $1 with its name (primary key of flows).
SELECT id, name FROM flows WHERE org_id = $1;

-- name: select-flow-names
-- Names of flows of org $1 among ids $2 (primary key of flows).
SELECT id, name FROM flows WHERE org_id = $1 AND id = ANY($2::text[]);

-- name: select-user-names
-- Names and emails of users $1 (primary key of users).
SELECT id, name, email FROM users WHERE id = ANY($1::text[]);

-- name: select-report-cells
-- The cells of a report with their labels, ordered by bucket then key (byte order), for the
-- CSV (a range of the primary key of usage_daily, as select-report; a CSV grouped by flow
-- without a member or type filter reads select-flow-cells instead).
WITH cells AS (
    SELECT CASE CAST(:interval AS text)
               WHEN 'week'  THEN day - (day - DATE '2000-01-03') % 7
               WHEN 'month' THEN CAST(date_trunc('month', CAST(day AS timestamp)) AS date)
               ELSE day
           END AS bucket,
           CASE CAST(:group_by AS text)
               WHEN 'flow' THEN flow_id
               WHEN 'user' THEN user_id
               ELSE type
           END AS key,
           CAST(sum(credits_mc) AS bigint) AS credits_mc,
           CAST(sum(quantity) AS bigint) AS quantity,
           CAST(sum(events) AS bigint) AS events
    FROM usage_daily
    WHERE org_id = :org AND gen = (SELECT rollup_gen FROM orgs WHERE id = :org)
      AND day BETWEEN CAST(:from AS date) AND CAST(:to AS date)
      AND (CAST(:flow AS text) = '' OR flow_id = :flow)
      AND (CAST(:user AS text) = '' OR user_id = :user)
      AND (CAST(:type AS text) = '' OR type = :type)
    GROUP BY 1, 2
)
SELECT CAST(c.bucket AS text), c.key,
       CASE CAST(:group_by AS text)
           WHEN 'flow' THEN COALESCE(NULLIF(f.name, ''), c.key)
           WHEN 'user' THEN COALESCE(NULLIF(u.name, ''), u.email, c.key)
           ELSE c.key
       END AS label,
       c.credits_mc, c.quantity, c.events
FROM cells c
LEFT JOIN flows f ON CAST(:group_by AS text) = 'flow' AND f.org_id = :org AND f.id = c.key
LEFT JOIN users u ON CAST(:group_by AS text) = 'user' AND u.id = c.key
ORDER BY c.bucket, c.key COLLATE "C";

-- name: select-flow-executions
-- A page of a flow's executions, newest first, after a keyset cursor (last_at, execution_id).
-- An execution has one execution_usage row per type; it is represented by its newest row
-- (ties broken by type), so each execution appears once and pages never overlap. Walks
-- execution_usage_flow_idx (org_id, flow_id, last_at DESC) and checks each candidate's other
-- rows through the primary key (org_id, execution_id, type).
SELECT e.execution_id, e.last_at
FROM execution_usage e
WHERE e.org_id = :org AND e.flow_id = :flow
  AND e.last_at <= CAST(:before_at AS timestamptz)
  AND (e.last_at < CAST(:before_at AS timestamptz) OR e.execution_id < :before_id)
  AND NOT EXISTS (
      SELECT 1 FROM execution_usage o
      WHERE o.org_id = e.org_id AND o.execution_id = e.execution_id
        AND (o.last_at > e.last_at OR (o.last_at = e.last_at AND o.type < e.type)))
ORDER BY e.last_at DESC, e.execution_id DESC
LIMIT :limit;

-- name: select-executions-usage
-- Every type row of the given executions ($1 org, $2 execution ids; primary key).
SELECT execution_id, type, flow_id, user_id, credits_mc, events, first_at, last_at
FROM execution_usage
WHERE org_id = $1 AND execution_id = ANY($2::text[])
ORDER BY execution_id, type;

-- name: select-execution-events
-- The events of one execution in the order they happened ($1 org, $2 execution, $3 limit;
-- index usage_events_execution_idx). The execution's first and last event times
-- (execution_usage, kept with ingestion) bound occurred_at, so that only the partitions of the
-- months it ran in are read (pruned when the statement runs), not every month's index.
SELECT id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at
FROM usage_events
WHERE org_id = $1 AND execution_id = $2
  AND occurred_at >= (SELECT min(x.first_at) FROM execution_usage x WHERE x.org_id = $1 AND x.execution_id = $2)
  AND occurred_at <= (SELECT max(x.last_at) FROM execution_usage x WHERE x.org_id = $1 AND x.execution_id = $2)
ORDER BY occurred_at, id
LIMIT $3;

-- name: declare-execution-events-cursor
-- A server-side cursor over one execution's events for the raw CSV ($1 org, $2 execution;
-- the months it ran in, as select-execution-events).
DECLARE execution_events NO SCROLL CURSOR FOR
SELECT id, flow_id, execution_id, user_id, type, model, quantity, cost_mc, occurred_at, received_at
FROM usage_events
WHERE org_id = $1 AND execution_id = $2
  AND occurred_at >= (SELECT min(x.first_at) FROM execution_usage x WHERE x.org_id = $1 AND x.execution_id = $2)
  AND occurred_at <= (SELECT max(x.last_at) FROM execution_usage x WHERE x.org_id = $1 AND x.execution_id = $2)
ORDER BY occurred_at, id;

-- name: fetch-execution-events
FETCH FORWARD 1000 FROM execution_events;

-- name: select-usage-since
-- Credits used from a day on ($1 org, $2 first day; primary key range of usage_flow_daily).
SELECT COALESCE(CAST(sum(credits_mc) AS bigint), 0) FROM usage_flow_daily
WHERE org_id = $1 AND gen = (SELECT rollup_gen FROM orgs WHERE id = $1) AND day >= $2;

-- name: select-usage-mix
-- What org $1 used per usage type and model over the org-local days $2 to $3, both included (a
-- range of usage_daily's primary key, org_id, gen and day), for the calculator's "start from my last
-- 30 days".
SELECT type, model,
       CAST(sum(credits_mc) AS bigint) AS credits_mc,
       CAST(sum(quantity) AS bigint) AS quantity,
       CAST(sum(events) AS bigint) AS events
FROM usage_daily
WHERE org_id = $1 AND gen = (SELECT rollup_gen FROM orgs WHERE id = $1) AND day BETWEEN $2 AND $3
GROUP BY type, model
ORDER BY type, model;
