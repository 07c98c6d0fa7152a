-- +goose Up
-- The overview's "Credits added" list reads an org's newest non-usage entries; without this
-- index it would walk back through every usage entry first.
CREATE INDEX ledger_entries_credits_idx ON ledger_entries (org_id, id) WHERE kind <> 'usage';

-- +goose Down
SELECT 'forward-only';
