-- +goose Up
-- Usage events partitioned by month (SPEC §12), with idempotency kept exact across partitions.
--
-- A partitioned table's unique constraints must contain the partition key, so (org_id, id) can
-- no longer be unique in usage_events itself. An event sent without occurredAt gets its receipt
-- time, so a retry of it next month would land in another month's partition. The key of an event
-- therefore lives in a narrow unpartitioned table, usage_event_keys, with everything
-- idempotency and the ledger checks need: the body hash, the cost, the ledger entry and
-- occurred_at (where the event row lives: a look-up by key prunes to one partition). Ingestion
-- inserts the key first (ON CONFLICT (org_id, id) DO NOTHING) and the event row only for a new
-- key, in the same statement. Keys are never detached: a retry of an event of an archived month
-- is still a duplicate, and the ledger invariants sum costs over keys (billing/check.sql).
--
-- The event row no longer carries the body hash (the key does). Months are cut in UTC:
-- partition usage_events_YYYY_MM holds occurred_at in [YYYY-MM-01, next month) UTC. Whatever
-- falls outside the created months (any past occurredAt is accepted) goes to
-- usage_events_default; `lux serve`'s scheduler (billing/partitions.go) creates this month and
-- the next three ahead and gives a month found in the default partition its own partition,
-- moving its rows. There was no foreign key to or from usage_events (entry_id is checked by the
-- ledger invariants, not by a constraint every insert would pay for); its checks are kept.

CREATE TABLE usage_event_keys (
    org_id       TEXT NOT NULL,
    id           TEXT NOT NULL,
    occurred_at  TIMESTAMPTZ NOT NULL,
    entry_id     BIGINT NOT NULL,
    cost_mc      BIGINT NOT NULL CHECK (cost_mc >= 0),
    body_hash    BYTEA NOT NULL,
    PRIMARY KEY (org_id, id)
);

INSERT INTO usage_event_keys (org_id, id, occurred_at, entry_id, cost_mc, body_hash)
SELECT org_id, id, occurred_at, entry_id, cost_mc, body_hash FROM usage_events ORDER BY org_id, id;

ALTER TABLE usage_events RENAME TO usage_events_unpartitioned;
ALTER INDEX usage_events_execution_idx RENAME TO usage_events_unpartitioned_execution_idx;
ALTER TABLE usage_events_unpartitioned RENAME CONSTRAINT usage_events_pkey TO usage_events_unpartitioned_pkey;
-- Migration 00085 (the entry id BRIN index of the time zone change) may have run first here:
-- its index moves aside and is made again on the partitioned table below.
ALTER INDEX IF EXISTS usage_events_entry_idx RENAME TO usage_events_unpartitioned_entry_idx;

CREATE TABLE usage_events (
    org_id         TEXT NOT NULL,
    id             TEXT NOT NULL,
    flow_id        TEXT NOT NULL,
    execution_id   TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    type           TEXT NOT NULL,
    model          TEXT NOT NULL DEFAULT '',
    quantity       BIGINT NOT NULL CHECK (quantity > 0),
    cost_mc        BIGINT NOT NULL CHECK (cost_mc >= 0),
    occurred_at    TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    entry_id       BIGINT NOT NULL
) PARTITION BY RANGE (occurred_at);

CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT;

-- Months detached from usage_events (`lux usage detach`): the table stays, as a plain table
-- named in table_name, for archiving. Their keys stay in usage_event_keys.
CREATE TABLE usage_months_detached (
    month        DATE PRIMARY KEY,  -- the month's first day (UTC)
    table_name   TEXT NOT NULL,
    events       BIGINT NOT NULL,
    detached_at  TIMESTAMPTZ NOT NULL
);

-- A partition for every month of the existing events, and for this month and the next three.
-- +goose StatementBegin
DO $$
DECLARE
    m    timestamp;
    last timestamp := date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months';
BEGIN
    SELECT LEAST(date_trunc('month', min(occurred_at) AT TIME ZONE 'UTC'), date_trunc('month', now() AT TIME ZONE 'UTC'))
    INTO m FROM usage_events_unpartitioned;
    IF m IS NULL THEN
        m := date_trunc('month', now() AT TIME ZONE 'UTC');
    END IF;
    WHILE m <= last LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF usage_events FOR VALUES FROM (%L) TO (%L)',
                       'usage_events_' || to_char(m, 'YYYY_MM'),
                       (m AT TIME ZONE 'UTC')::text, ((m + interval '1 month') AT TIME ZONE 'UTC')::text);
        m := m + interval '1 month';
    END LOOP;
END;
$$;
-- +goose StatementEnd

INSERT INTO usage_events (org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc,
                          occurred_at, received_at, entry_id)
SELECT org_id, id, flow_id, execution_id, user_id, type, model, quantity, cost_mc,
       occurred_at, received_at, entry_id
FROM usage_events_unpartitioned
ORDER BY entry_id;

-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('usage_events_unpartitioned_entry_idx') IS NOT NULL THEN
        CREATE INDEX usage_events_entry_idx ON usage_events USING brin (entry_id);
    END IF;
END;
$$;
-- +goose StatementEnd

DROP TABLE usage_events_unpartitioned;

-- The one index of the event rows: the execution drill-down, its CSV and GET
-- /api/v1/executions/{id} (docs/DESIGN.md, "Indexes every event pays for"). Built after the rows
-- are in, on every partition.
CREATE INDEX usage_events_execution_idx ON usage_events (org_id, execution_id);

ANALYZE usage_event_keys;
ANALYZE usage_events;

-- +goose Down
SELECT 'forward-only';
