-- +goose Up
-- Billing documents: invoices (a purchase, a plan charge), credit notes (a refund) and monthly
-- statements (an org's cycle). A document is issued once and never changes: its seller and
-- bill-to blocks, lines and totals are stored as issued, and its PDF is rendered from them.

-- Each series numbers its documents per calendar year (UTC), without gaps: the counter row is
-- incremented in the transaction that issues the document, so a rolled-back issue gives its
-- number back. Series: 'LUX' invoices, 'LUX-CN' credit notes, 'LUX-ST' statements.
CREATE TABLE document_counters (
    series  TEXT NOT NULL,
    year    INT NOT NULL,
    last    BIGINT NOT NULL CHECK (last > 0),
    PRIMARY KEY (series, year)
);

CREATE TABLE documents (
    id              BIGSERIAL PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note', 'statement')),
    -- What the document is for: 'purchase' or 'plan_charge' (invoices), 'refund' (credit
    -- notes), 'cycle' (statements); source_ref is the payment's, refund's or cycle's reference.
    source          TEXT NOT NULL CHECK (source IN ('purchase', 'plan_charge', 'refund', 'cycle')),
    source_ref      TEXT NOT NULL CHECK (source_ref <> ''),
    number          TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL,
    period_start    TIMESTAMPTZ,
    period_end      TIMESTAMPTZ,
    -- paid (invoice), refunded (credit note), issued (statement).
    status          TEXT NOT NULL,
    -- ISO currency in lower case for invoices and credit notes; statements are in credits.
    currency        TEXT NOT NULL,
    subtotal_cents  BIGINT NOT NULL DEFAULT 0,
    tax_cents       BIGINT NOT NULL DEFAULT 0,
    total_cents     BIGINT NOT NULL DEFAULT 0,
    -- Credits bought (invoice), removed (credit note) or used in the cycle (statement).
    credits_mc      BIGINT NOT NULL DEFAULT 0,
    payment_method  TEXT NOT NULL DEFAULT '',
    -- The invoice a credit note corrects.
    corrects_id     BIGINT REFERENCES documents (id),
    -- Seller, bill-to, lines and (statements) the cycle's figures, as issued.
    body            JSONB NOT NULL,
    CHECK (subtotal_cents + tax_cents = total_cents),
    CHECK ((kind = 'credit_note') = (corrects_id IS NOT NULL))
);
-- A payment, refund or cycle gets one document, however often its issue is retried.
CREATE UNIQUE INDEX documents_source_once ON documents (org_id, source, source_ref);
-- History: an org's documents newest first, keyset-paginated on (issued_at, id).
CREATE INDEX documents_history_idx ON documents (org_id, issued_at DESC, id DESC);
-- The credit notes of an invoice (its refunded amount in History).
CREATE INDEX documents_corrects_idx ON documents (corrects_id) WHERE corrects_id IS NOT NULL;
-- The statement sweep: an org's latest statement.
CREATE INDEX documents_statements_idx ON documents (org_id, period_end DESC) WHERE kind = 'statement';

-- Issued documents are immutable.
-- +goose StatementBegin
CREATE FUNCTION documents_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'issued documents cannot be changed or deleted (document %)', OLD.number;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER documents_immutable BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_immutable();

-- The org's billing details printed on documents issued after they are saved.
CREATE TABLE billing_profiles (
    org_id      TEXT PRIMARY KEY REFERENCES orgs (id),
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address     TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '' CHECK (country = '' OR country ~ '^[A-Z]{2}$'),
    tax_id      TEXT NOT NULL DEFAULT '',
    email       TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''
);

-- +goose Down
SELECT 'forward-only';
