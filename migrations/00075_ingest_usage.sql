-- +goose Up
-- record_usage (00070) ran after the caller had locked the accounts in its own transaction; its
-- successor, ingest_usage, takes the locks itself and runs as one statement outside any
-- transaction. It is defined in migrations/functions/ingest_usage.sql, installed after the
-- migrations on every start.
DROP FUNCTION record_usage(timestamptz, text[], text[], text[], text[], text[], text[], text[],
                           text[], text[], bigint[], bigint[], timestamptz[], bytea[]);

-- +goose Down
SELECT 'forward-only';
