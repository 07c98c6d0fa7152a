-- +goose Up
-- The audit log of limits: every change of an organization's monthly limit, alert thresholds,
-- low-balance alert or a member's monthly limit, with who made it, when, and the value before
-- and after. Written in the transaction that makes the change, under the org's ledger lock
-- (accounts row), so the entries of one org follow each other: each one's old value is the
-- previous one's new value.

CREATE TABLE limit_changes (
    id              BIGSERIAL PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    -- Who changed it (a user of the org, or 'operator' for the command line on the database).
    actor_id        TEXT NOT NULL,
    -- Where: 'page' (Settings → Billing → Limits), 'api' (an admin's API key), 'operator'.
    source          TEXT NOT NULL CHECK (source IN ('page', 'api', 'operator')),
    field           TEXT NOT NULL CHECK (field IN ('monthly_limit', 'thresholds', 'low_balance', 'member_limit')),
    -- The member whose limit changed (field member_limit only).
    member_id       TEXT,
    -- Before and after: credits in *_mc (NULL: none), percents for thresholds.
    old_mc          BIGINT,
    new_mc          BIGINT,
    old_percents    INT[],
    new_percents    INT[],
    created_at      TIMESTAMPTZ NOT NULL,
    CHECK ((field = 'member_limit') = (member_id IS NOT NULL))
);
-- The Limits page lists an org's latest changes.
CREATE INDEX limit_changes_org_idx ON limit_changes (org_id, id DESC);

-- Thresholds are whole percents from 1 to 100, at most 10 (duplicates are refused by the code,
-- which also keeps them sorted).
ALTER TABLE orgs ADD CONSTRAINT orgs_threshold_percents_range
    CHECK (cardinality(threshold_percents) <= 10 AND 1 <= ALL (threshold_percents) AND 100 >= ALL (threshold_percents));
