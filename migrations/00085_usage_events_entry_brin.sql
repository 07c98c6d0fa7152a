-- +goose Up
-- Recent events by ledger entry id, for a time zone change (billing/timezone.go): after
-- rebuilding an org's rollup from a snapshot, SetTimezone reads the events whose entry id is
-- above the highest the snapshot saw. Events are appended in entry id order, so a BRIN index
-- finds them in the last block ranges; it costs ingestion almost nothing (a new event lands in
-- a block range not yet summarised, which the index leaves alone), where a B-tree would be one
-- more index insertion per event.
CREATE INDEX usage_events_entry_idx ON usage_events USING brin (entry_id);

-- +goose Down
SELECT 'forward-only';
