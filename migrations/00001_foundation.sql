-- +goose Up
-- The foundation schema: organizations and people, API keys, the rate card, flows and
-- executions, usage events, credit grants and the append-only ledger.
--
-- Units are in the column names: *_mc are millicredits (1 credit = 1,000 mc), *_cents are
-- minor currency units. Every balance change is a row in ledger_entries; grants.remaining_mc
-- and accounts.balance_mc are caches that tests check against the ledger.

CREATE TABLE plans (
    code                 TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    -- NULL for Enterprise: the allotment is set per organization by an operator.
    monthly_credits_mc   BIGINT CHECK (monthly_credits_mc >= 0),
    price_cents          BIGINT NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
    currency             TEXT NOT NULL DEFAULT 'usd',
    best_for             TEXT NOT NULL DEFAULT '',
    sort                 INT NOT NULL DEFAULT 0
);

INSERT INTO plans (code, name, monthly_credits_mc, price_cents, best_for, sort) VALUES
    ('free',       'Free',       1000000,   0,      'Testing',         1),
    ('starter',    'Starter',    10000000,  2900,   'Small projects',  2),
    ('pro',        'Pro',        100000000, 24900,  'Production apps', 3),
    ('enterprise', 'Enterprise', NULL,      0,      'Large scale',     4);

CREATE TABLE orgs (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    plan_code             TEXT NOT NULL REFERENCES plans (code),
    -- Enterprise allotment; ignored for other plans.
    custom_allotment_mc   BIGINT CHECK (custom_allotment_mc >= 0),
    -- The sign-up instant; cycles are calendar months from it (day clamped to month end).
    cycle_anchor          TIMESTAMPTZ NOT NULL,
    timezone              TEXT NOT NULL DEFAULT 'UTC',
    monthly_limit_mc      BIGINT CHECK (monthly_limit_mc > 0),
    threshold_percents    INT[] NOT NULL DEFAULT '{50,80,100}',
    low_balance_mc        BIGINT CHECK (low_balance_mc >= 0),
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    name           TEXT NOT NULL DEFAULT '',
    password_hash  TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE memberships (
    org_id            TEXT NOT NULL REFERENCES orgs (id),
    user_id           TEXT NOT NULL REFERENCES users (id),
    role              TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    -- Per-member monthly credit limit; NULL means no member limit.
    monthly_limit_mc  BIGINT CHECK (monthly_limit_mc > 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- API keys are shown once; only a SHA-256 of the secret is kept. Keys are 256-bit random,
-- so a fast hash is enough (no password stretching needed).
CREATE TABLE api_keys (
    id            BIGSERIAL PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL DEFAULT '',
    prefix        TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL UNIQUE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_org_idx ON api_keys (org_id);

-- The rate card: price per unit, effective from an instant. The price of an event is the row
-- with the latest effective_from at or before the event's time. unit_size groups units before
-- pricing: voice calls are billed per started minute (unit_size 60 seconds).
CREATE TABLE rate_card (
    id               BIGSERIAL PRIMARY KEY,
    type             TEXT NOT NULL,
    model            TEXT NOT NULL DEFAULT '',
    unit             TEXT NOT NULL,
    unit_size        BIGINT NOT NULL DEFAULT 1 CHECK (unit_size > 0),
    mc_per_unit      BIGINT NOT NULL CHECK (mc_per_unit >= 0),
    label            TEXT NOT NULL DEFAULT '',
    effective_from   TIMESTAMPTZ NOT NULL,
    UNIQUE (type, model, effective_from)
);

INSERT INTO rate_card (type, model, unit, unit_size, mc_per_unit, label, effective_from) VALUES
    ('ai', 'claude-haiku',  'tokens', 1, 1,  'Claude Haiku',  '2020-01-01T00:00:00Z'),
    ('ai', 'claude-sonnet', 'tokens', 1, 5,  'Claude Sonnet', '2020-01-01T00:00:00Z'),
    ('ai', 'claude-opus',   'tokens', 1, 15, 'Claude Opus',   '2020-01-01T00:00:00Z'),
    ('ai', 'gpt-4o',        'tokens', 1, 5,  'GPT-4o',        '2020-01-01T00:00:00Z'),
    ('ai', 'gpt-4o-mini',   'tokens', 1, 1,  'GPT-4o-mini',   '2020-01-01T00:00:00Z'),
    ('email', '',           'emails', 1, 1000, 'Email',       '2020-01-01T00:00:00Z'),
    ('sms', '',             'messages', 1, 2000, 'SMS',       '2020-01-01T00:00:00Z'),
    ('voice_call', '',      'seconds', 60, 5000, 'Voice call', '2020-01-01T00:00:00Z'),
    ('voice_synthesis', '', 'characters', 1, 1, 'Voice synthesis', '2020-01-01T00:00:00Z');

-- Any change to the rate card tells every server to reload its in-memory copy.
-- +goose StatementBegin
CREATE FUNCTION rate_card_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lux_rate_card', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER rate_card_notify AFTER INSERT OR UPDATE OR DELETE ON rate_card
    FOR EACH STATEMENT EXECUTE FUNCTION rate_card_changed();

-- One row per organization: the lock that serialises the org's ledger (SELECT ... FOR UPDATE)
-- and the cached figures the hot path needs.
CREATE TABLE accounts (
    org_id          TEXT PRIMARY KEY REFERENCES orgs (id),
    -- Sum of the org's ledger entries: live grants' remainders minus arrears.
    balance_mc      BIGINT NOT NULL DEFAULT 0,
    -- Usage that no grant could pay for yet; settled first from the next credits.
    arrears_mc      BIGINT NOT NULL DEFAULT 0 CHECK (arrears_mc >= 0),
    cycle_start     TIMESTAMPTZ NOT NULL,
    cycle_end       TIMESTAMPTZ NOT NULL,
    -- Credits used in the current cycle (by receipt time).
    cycle_used_mc   BIGINT NOT NULL DEFAULT 0,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- The rollover sweep: accounts whose cycle has ended.
CREATE INDEX accounts_cycle_end_idx ON accounts (cycle_end);

-- Per-member usage in a cycle, for member limits.
CREATE TABLE member_cycle_usage (
    org_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    cycle_start  TIMESTAMPTZ NOT NULL,
    used_mc      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, user_id, cycle_start)
);

-- The append-only ledger. amount_mc is signed: grants add, usage, expiries and refunds take away.
-- A usage entry covers one batch of usage events; unfunded_mc is the part of it no grant could
-- pay when it was recorded (it became arrears).
CREATE TABLE ledger_entries (
    id           BIGSERIAL PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    kind         TEXT NOT NULL CHECK (kind IN ('grant', 'usage', 'expiry', 'refund', 'adjustment')),
    amount_mc    BIGINT NOT NULL,
    grant_id     BIGINT,
    unfunded_mc  BIGINT NOT NULL DEFAULT 0 CHECK (unfunded_mc >= 0),
    memo         TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX ledger_entries_org_idx ON ledger_entries (org_id, id);
-- Arrears settlement looks for the oldest usage entries that are not fully paid.
CREATE INDEX ledger_entries_unfunded_idx ON ledger_entries (org_id, id) WHERE unfunded_mc > 0;

-- Credits arrive as grants. remaining_mc is what is left of the grant: amount_mc minus every
-- allocation against it.
CREATE TABLE grants (
    id             BIGSERIAL PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    kind           TEXT NOT NULL CHECK (kind IN ('plan_allotment', 'purchase', 'free_tier', 'promo', 'adjustment')),
    amount_mc      BIGINT NOT NULL CHECK (amount_mc > 0),
    remaining_mc   BIGINT NOT NULL CHECK (remaining_mc >= 0),
    expires_at     TIMESTAMPTZ,
    -- What the grant is for: the cycle start of an allotment, a checkout session, a memo.
    source_ref     TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    CHECK (remaining_mc <= amount_mc)
);
-- Consumption reads the live grants in order: soonest expiry first, never-expiring oldest first.
CREATE INDEX grants_live_idx ON grants (org_id, expires_at NULLS LAST, id) WHERE remaining_mc > 0;
-- An allotment is granted once per cycle, whatever happens.
CREATE UNIQUE INDEX grants_allotment_once ON grants (org_id, source_ref) WHERE kind = 'plan_allotment';
-- A purchase is granted once per payment reference.
CREATE UNIQUE INDEX grants_purchase_once ON grants (org_id, source_ref) WHERE kind = 'purchase' AND source_ref <> '';

ALTER TABLE ledger_entries ADD FOREIGN KEY (grant_id) REFERENCES grants (id);

-- Which grant paid for which ledger entry. For a usage entry: the grants its cost was drawn
-- from (when settled later from arrears, the settling grant). For an expiry or a refund: the
-- grant whose remainder it removed.
CREATE TABLE allocations (
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL,
    entry_id    BIGINT NOT NULL REFERENCES ledger_entries (id),
    grant_id    BIGINT NOT NULL REFERENCES grants (id),
    amount_mc   BIGINT NOT NULL CHECK (amount_mc > 0),
    settled     BOOLEAN NOT NULL DEFAULT false,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX allocations_entry_idx ON allocations (entry_id);
CREATE INDEX allocations_grant_idx ON allocations (grant_id);

CREATE TABLE flows (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

-- Usage events as received. The primary key is the idempotency key: an event id is recorded
-- once per organization. body_hash tells a retry (same body) from a conflicting reuse.
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
    entry_id       BIGINT NOT NULL,
    body_hash      BYTEA NOT NULL,
    PRIMARY KEY (org_id, id)
);
-- The execution drill-down and GET /api/v1/executions/{id}.
CREATE INDEX usage_events_execution_idx ON usage_events (org_id, execution_id);

-- Per-execution totals by type, maintained with ingestion: a flow's executions without
-- scanning events.
CREATE TABLE execution_usage (
    org_id         TEXT NOT NULL,
    execution_id   TEXT NOT NULL,
    type           TEXT NOT NULL,
    flow_id        TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    credits_mc     BIGINT NOT NULL,
    events         BIGINT NOT NULL,
    first_at       TIMESTAMPTZ NOT NULL,
    last_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, execution_id, type)
);
CREATE INDEX execution_usage_flow_idx ON execution_usage (org_id, flow_id, last_at DESC);

-- Daily usage rollup in the organization's time zone, maintained in the ingestion
-- transaction. Dashboards and reports read this, not usage_events.
CREATE TABLE usage_daily (
    org_id       TEXT NOT NULL,
    day          DATE NOT NULL,
    flow_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    type         TEXT NOT NULL,
    model        TEXT NOT NULL,
    credits_mc   BIGINT NOT NULL,
    quantity     BIGINT NOT NULL,
    events       BIGINT NOT NULL,
    PRIMARY KEY (org_id, day, flow_id, user_id, type, model)
);

-- +goose Down
SELECT 'forward-only';
