-- +goose Up
-- Payments: purchases of credits through a payment provider (Stripe Checkout or the demo
-- provider), the provider events already processed, and refunds of unused purchased credits.
-- These tables belong to billing/payments; credits themselves move only through the core's
-- ledger (grants, ledger_entries, allocations).

-- A purchase exists (pending) before the buyer is sent to the payment page. It is granted once:
-- grant_id is set in the transaction that marks it paid, and is unique.
CREATE TABLE purchases (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    user_id              TEXT NOT NULL REFERENCES users (id),
    credits_mc           BIGINT NOT NULL CHECK (credits_mc > 0),
    unit_price_cents     BIGINT NOT NULL CHECK (unit_price_cents >= 0),
    price_cents          BIGINT NOT NULL CHECK (price_cents >= 0),
    currency             TEXT NOT NULL DEFAULT 'usd',
    status               TEXT NOT NULL DEFAULT 'pending'
                         CHECK (status IN ('pending', 'paid', 'failed', 'cancelled')),
    provider             TEXT NOT NULL CHECK (provider IN ('stripe', 'demo')),
    -- The provider's checkout session (Stripe: cs_…), and the payment to refund (pi_…).
    provider_session_id  TEXT NOT NULL DEFAULT '',
    provider_payment_id  TEXT NOT NULL DEFAULT '',
    checkout_url         TEXT NOT NULL DEFAULT '',
    grant_id             BIGINT UNIQUE REFERENCES grants (id),
    created_at           TIMESTAMPTZ NOT NULL,
    paid_at              TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL,
    CHECK ((status = 'paid') = (grant_id IS NOT NULL)),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
-- The purchases list of an org, newest first.
CREATE INDEX purchases_org_idx ON purchases (org_id, created_at DESC);

-- Provider events already processed: a replayed event id is acknowledged and ignored. Inserted
-- in the transaction that acts on the event, so a failed attempt leaves no trace and Stripe's
-- retry is processed.
CREATE TABLE payment_events (
    id           TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    type         TEXT NOT NULL,
    purchase_id  TEXT REFERENCES purchases (id),
    received_at  TIMESTAMPTZ NOT NULL
);

-- A refund of the unused part of a purchase: its ledger entry removed those credits from the
-- purchase's grant in the same transaction. One refund per purchase (it takes all that is left).
CREATE TABLE refunds (
    id                   BIGSERIAL PRIMARY KEY,
    purchase_id          TEXT NOT NULL UNIQUE REFERENCES purchases (id),
    org_id               TEXT NOT NULL REFERENCES orgs (id),
    credits_mc           BIGINT NOT NULL CHECK (credits_mc > 0),
    amount_cents         BIGINT NOT NULL CHECK (amount_cents >= 0),
    currency             TEXT NOT NULL,
    entry_id             BIGINT NOT NULL UNIQUE REFERENCES ledger_entries (id),
    provider_refund_id   TEXT NOT NULL DEFAULT '',
    -- Who asked: a user id, or 'support' for `lux refund`.
    requested_by         TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX refunds_org_idx ON refunds (org_id, created_at DESC);

-- +goose Down
SELECT 'forward-only';
