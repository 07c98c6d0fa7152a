-- Named queries of the usage partitions (partitions.go): usage_events is partitioned by month of
-- occurred_at (UTC), one partition usage_events_YYYY_MM per month and usage_events_default for
-- the rest (migration 00080). Partition names are made in Go from a month, never from input.

-- name: select-partitions
-- usage_events' partitions, by name (the default one included).
SELECT c.relname AS name
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'usage_events'::regclass
ORDER BY c.relname;

-- name: select-default-months
-- The months (first instant, UTC) of the rows in the default partition that were never
-- detached: each gets its own partition, its rows moved there.
SELECT DISTINCT date_trunc('month', u.occurred_at, 'UTC') AS month
FROM usage_events_default u
WHERE NOT EXISTS (SELECT 1 FROM usage_months_detached d
                  WHERE d.month = CAST(date_trunc('month', u.occurred_at, 'UTC') AT TIME ZONE 'UTC' AS date))
ORDER BY 1;

-- name: select-detached-months
SELECT month, table_name, events, detached_at FROM usage_months_detached ORDER BY month;

-- name: lock-partitions
-- One partition change at a time, whichever server or command makes it (this transaction).
SELECT pg_advisory_xact_lock(hashtext('lux:usage_events partitions'));

-- name: set-partition-lock-timeout
-- A partition change takes usage_events' ACCESS EXCLUSIVE lock, and ingestion waits behind a
-- waiting one: never wait long for it (the scheduler tries again the next minute).
SET LOCAL lock_timeout = '3s';

-- name: lock-usage-events
LOCK TABLE usage_events IN ACCESS EXCLUSIVE MODE;

-- name: relation-exists
SELECT to_regclass($1) IS NOT NULL;

-- name: month-is-detached
SELECT EXISTS (SELECT 1 FROM usage_months_detached WHERE month = $1::date);

-- name: create-moving-table
CREATE TEMP TABLE usage_events_moving (LIKE usage_events) ON COMMIT DROP;

-- name: move-default-rows
-- The default partition's rows of the month [$1, $2), taken out for their new partition.
WITH d AS (
    DELETE FROM usage_events_default WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *
)
INSERT INTO usage_events_moving SELECT * FROM d;

-- name: insert-moved-rows
INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc,
                          occurred_at, received_at, entry_id)
SELECT org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc,
       occurred_at, received_at, entry_id
FROM usage_events_moving
ORDER BY entry_id;

-- name: select-needed-events
-- Events of a partition ($1: its name, made in Go) that a statement not issued yet still needs:
-- received at or after the end of the org's latest statement (or its sign-up, for none), which
-- is where its next statement starts. One row per org, with the earliest such receipt.
WITH horizon AS MATERIALIZED (
    SELECT o.id AS org_id,
           COALESCE((SELECT max(d.period_end) FROM documents d
                     WHERE d.org_id = o.id AND d.kind = 'statement'), o.cycle_anchor) AS covered_to
    FROM orgs o
)
SELECT u.org_id, min(u.received_at) AS received_at, count(*) AS events
FROM %s u
JOIN horizon h ON h.org_id = u.org_id
WHERE u.received_at >= h.covered_to
GROUP BY u.org_id
ORDER BY u.org_id;

-- name: select-open-cycles-start
-- The start of the earliest open billing cycle, and whose it is.
SELECT org_id, cycle_start FROM accounts ORDER BY cycle_start, org_id LIMIT 1;

-- name: insert-detached-month
INSERT INTO usage_months_detached (month, table_name, events, detached_at) VALUES ($1::date, $2, $3, $4);

-- name: select-rollup-horizon
-- What a time zone change of org $1 keeps of its daily rollup when months of usage_events were
-- detached (their events are no longer there to rebuild from): the rows of the days before
-- keep_before, cut in the org's zone at the change, which is the first day of that zone that
-- starts after the end of the last detached month; the events from rebuild_from (that day's
-- first instant) on are rebuilt. Both '-infinity' when nothing was detached: all is rebuilt.
SELECT COALESCE(CAST(h.day AS text), '-infinity') AS keep_before,
       COALESCE(CAST(CAST(h.day AS timestamp) AT TIME ZONE o.timezone AS text), '-infinity') AS rebuild_from
FROM orgs o
LEFT JOIN LATERAL (
    SELECT CAST((CAST(max(d.month) AS timestamp) + interval '1 month') AT TIME ZONE 'UTC' AT TIME ZONE o.timezone AS date) + 1 AS day
    FROM usage_months_detached d) AS h ON true
WHERE o.id = $1;
