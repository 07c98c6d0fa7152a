-- +goose Up
-- Plan changes and plan charges.
--
-- An upgrade takes effect at once: the running cycle's allotment is topped up to the new plan's
-- amount by a plan_allotment grant whose source_ref is '<cycle start>/top-up/<level>' (the
-- allotment level it brings the cycle to; grants_allotment_once makes each level once-only). A
-- downgrade, an operator's change for the next cycle and the move to Free after a failed renewal
-- wait here as a pending change, applied by the cycle rollover under the account lock.

CREATE TABLE plan_changes (
    id                   BIGSERIAL PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    from_plan            TEXT NOT NULL REFERENCES plans (code),
    to_plan              TEXT NOT NULL REFERENCES plans (code),
    -- Enterprise allotment of the new plan; NULL for the standard plans.
    custom_allotment_mc  BIGINT CHECK (custom_allotment_mc >= 0),
    reason               TEXT NOT NULL CHECK (reason IN ('upgrade', 'downgrade', 'operator', 'renewal_failed')),
    status               TEXT NOT NULL CHECK (status IN ('pending', 'applied', 'cancelled')),
    -- When it takes effect: a cycle start for a pending change, the instant for an upgrade.
    effective_at         TIMESTAMPTZ NOT NULL,
    -- A user id, 'operator' (lux org set-plan) or 'payments' (a payment provider's event).
    requested_by         TEXT NOT NULL DEFAULT '',
    created_at           TIMESTAMPTZ NOT NULL,
    applied_at           TIMESTAMPTZ,
    cancelled_at         TIMESTAMPTZ,
    cancelled_by         TEXT NOT NULL DEFAULT ''
);
-- At most one change waits per organization: a new one replaces it (the old is cancelled).
CREATE UNIQUE INDEX plan_changes_one_pending ON plan_changes (org_id) WHERE status = 'pending';
-- The plans page lists an org's recent changes.
CREATE INDEX plan_changes_org_idx ON plan_changes (org_id, id DESC);

-- An organization's paid plan: who collects its price (the demo provider or Stripe) and the
-- provider's references. The demo provider's renewals are charged by the rollover; Stripe's
-- arrive as invoice.paid.
CREATE TABLE subscriptions (
    org_id            TEXT PRIMARY KEY REFERENCES orgs (id),
    plan_code         TEXT NOT NULL REFERENCES plans (code),
    provider          TEXT NOT NULL CHECK (provider IN ('demo', 'stripe')),
    status            TEXT NOT NULL CHECK (status IN ('active', 'past_due', 'canceled')),
    customer_ref      TEXT NOT NULL DEFAULT '',
    subscription_ref  TEXT NOT NULL DEFAULT '',
    -- The provider's time of the last event applied: an older event delivered late is ignored.
    event_at          TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX subscriptions_ref_key ON subscriptions (provider, subscription_ref) WHERE subscription_ref <> '';

-- A checkout for an upgrade: the price quoted when the admin chose the plan, paid through the
-- provider, fulfilled once.
CREATE TABLE plan_checkouts (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    plan_code     TEXT NOT NULL REFERENCES plans (code),
    amount_cents  BIGINT NOT NULL CHECK (amount_cents >= 0),
    currency      TEXT NOT NULL DEFAULT 'usd',
    cycle_start   TIMESTAMPTZ NOT NULL,
    provider      TEXT NOT NULL CHECK (provider IN ('demo', 'stripe')),
    -- The provider's session id (Stripe Checkout); the checkout's own id for the demo provider.
    session_ref   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('open', 'paid', 'expired')),
    created_by    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    paid_at       TIMESTAMPTZ
);
CREATE INDEX plan_checkouts_org_idx ON plan_checkouts (org_id, created_at DESC);
CREATE UNIQUE INDEX plan_checkouts_session_key ON plan_checkouts (provider, session_ref) WHERE session_ref <> '';

-- Money collected for plans: an upgrade's pro-rata price, or a cycle's renewal. Each is
-- ledger-visible: grant_id is the allotment grant it paid for (the upgrade's top-up, the
-- cycle's allotment) and entry_id that grant's ledger entry. History issues an invoice per row.
CREATE TABLE plan_charges (
    id            BIGSERIAL PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    plan_code     TEXT NOT NULL REFERENCES plans (code),
    kind          TEXT NOT NULL CHECK (kind IN ('upgrade', 'renewal')),
    amount_cents  BIGINT NOT NULL CHECK (amount_cents >= 0),
    currency      TEXT NOT NULL DEFAULT 'usd',
    -- The part of the cycle paid for: [period_start, period_end).
    period_start  TIMESTAMPTZ NOT NULL,
    period_end    TIMESTAMPTZ NOT NULL,
    provider      TEXT NOT NULL CHECK (provider IN ('demo', 'stripe')),
    -- Exactly once: a checkout id, a Stripe invoice id, or a renewal's cycle start.
    provider_ref  TEXT NOT NULL,
    grant_id      BIGINT REFERENCES grants (id),
    entry_id      BIGINT REFERENCES ledger_entries (id),
    created_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (provider, provider_ref)
);
CREATE INDEX plan_charges_org_idx ON plan_charges (org_id, created_at DESC);

-- +goose Down
SELECT 'forward-only';
