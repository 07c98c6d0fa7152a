-- +goose Up
-- Rollups in generations, and a daily rollup per flow (issue 14, billing/timezone.go and
-- billing/reports).
--
-- A time zone change builds the org's new rollup beside the live one, as the next generation,
-- then switches by updating orgs.rollup_gen with its zone, under the org's ledger lock; the old
-- generation is deleted after. Ingestion writes the generation the org row names when it holds
-- the lock; readers read the generation the org row names in their own snapshot.
ALTER TABLE orgs ADD COLUMN rollup_gen integer NOT NULL DEFAULT 0;

ALTER TABLE usage_daily ADD COLUMN gen integer NOT NULL DEFAULT 0;
ALTER TABLE usage_daily ALTER COLUMN gen DROP DEFAULT;
ALTER TABLE usage_daily DROP CONSTRAINT usage_daily_pkey,
    ADD PRIMARY KEY (org_id, gen, day, flow_id, user_id, type, model);

-- Each flow's usage per org-local day, and per org-local week (Monday to Sunday, keyed by its
-- Monday): usage_daily without the member, type and model, a third of its rows, and a seventh
-- of that for weeks. Reports grouped by flow, their CSV, and the top flows of every report
-- without a member or type filter read them (full weeks from the weekly table, the days
-- around them from the daily one). Maintained by ingestion beside usage_daily (both paths)
-- and rebuilt with it. flow_id is byte-ordered (COLLATE "C"), the order of the CSV, so that
-- the primary key gives a day's flows in the order they are written.
CREATE TABLE usage_flow_daily (
    org_id      TEXT NOT NULL,
    gen         INTEGER NOT NULL,
    day         DATE NOT NULL,
    flow_id     TEXT COLLATE "C" NOT NULL,
    credits_mc  BIGINT NOT NULL,
    quantity    BIGINT NOT NULL,
    events      BIGINT NOT NULL,
    PRIMARY KEY (org_id, gen, day, flow_id)
);
INSERT INTO usage_flow_daily (org_id, gen, day, flow_id, credits_mc, quantity, events)
SELECT org_id, gen, day, flow_id, sum(credits_mc), sum(quantity), sum(events)
FROM usage_daily
GROUP BY org_id, gen, day, flow_id
ORDER BY org_id, gen, day, flow_id;

CREATE TABLE usage_flow_weekly (
    org_id      TEXT NOT NULL,
    gen         INTEGER NOT NULL,
    week        DATE NOT NULL CHECK (extract(isodow FROM week) = 1),
    flow_id     TEXT COLLATE "C" NOT NULL,
    credits_mc  BIGINT NOT NULL,
    quantity    BIGINT NOT NULL,
    events      BIGINT NOT NULL,
    PRIMARY KEY (org_id, gen, week, flow_id)
);
INSERT INTO usage_flow_weekly (org_id, gen, week, flow_id, credits_mc, quantity, events)
SELECT org_id, gen, day - (day - DATE '2000-01-03') % 7, flow_id, sum(credits_mc), sum(quantity), sum(events)
FROM usage_daily
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4;

-- +goose Down
SELECT 'forward-only';
