-- Named queries of billing documents (queries.go). Documents read the core's ledger, grants,
-- usage events and org rows; they write only their own tables.

-- name: next-number
-- The next number of series $1 in year $2. The counter row stays locked until the issuing
-- transaction ends, so numbers are handed out in commit order and a rolled-back issue gives
-- its number back: no gaps, no duplicates. Always the last lock an issuing transaction takes.
INSERT INTO document_counters (series, year, last) VALUES ($1, $2, 1)
ON CONFLICT (series, year) DO UPDATE SET last = document_counters.last + 1
RETURNING last;

-- name: insert-document
INSERT INTO documents (org_id, kind, source, source_ref, number, title, issued_at, period_start,
                       period_end, status, currency, subtotal_cents, tax_cents, total_cents,
                       credits_mc, payment_method, corrects_id, body)
VALUES (:org_id, :kind, :source, :source_ref, :number, :title, :issued_at, :period_start,
        :period_end, :status, :currency, :subtotal_cents, :tax_cents, :total_cents,
        :credits_mc, :payment_method, :corrects_id, :body)
RETURNING id;

-- name: select-by-source
-- The document issued for a payment, refund or cycle, if any (index documents_source_once).
SELECT d.*, 0::bigint AS refunded_cents FROM documents d
WHERE d.org_id = $1 AND d.source = $2 AND d.source_ref = $3;

-- name: select-document
-- An org's document by number: another org's number finds nothing.
SELECT d.*, COALESCE((SELECT sum(c.total_cents) FROM documents c WHERE c.corrects_id = d.id), 0)::bigint AS refunded_cents
FROM documents d WHERE d.org_id = $1 AND d.number = $2;

-- name: select-org
SELECT id, name, timezone FROM orgs WHERE id = $1;

-- name: select-profile
SELECT org_id, name, address, country, tax_id, email, updated_at, updated_by
FROM billing_profiles WHERE org_id = $1;

-- name: upsert-profile
INSERT INTO billing_profiles (org_id, name, address, country, tax_id, email, updated_at, updated_by)
VALUES (:org_id, :name, :address, :country, :tax_id, :email, :updated_at, :updated_by)
ON CONFLICT (org_id) DO UPDATE SET name = EXCLUDED.name, address = EXCLUDED.address,
    country = EXCLUDED.country, tax_id = EXCLUDED.tax_id, email = EXCLUDED.email,
    updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by;

-- name: list-documents
-- One page of an org's history, newest first, after the keyset cursor ($6 issued_at, $7 id;
-- NULL for the first page). $2 kind or '', $3 source or '', $4 from, $5 to (instants, [from,
-- to)), $8 page size + 1. Index documents_history_idx.
SELECT d.*, COALESCE((SELECT sum(c.total_cents) FROM documents c WHERE c.corrects_id = d.id), 0)::bigint AS refunded_cents
FROM documents d
WHERE d.org_id = $1
  AND ($2 = '' OR d.kind = $2)
  AND ($3 = '' OR d.source = $3)
  AND d.issued_at >= $4 AND d.issued_at < $5
  AND ($6::timestamptz IS NULL OR (d.issued_at, d.id) < ($6::timestamptz, $7::bigint))
ORDER BY d.issued_at DESC, d.id DESC
LIMIT $8;

-- name: lock-statement-org
-- Serialises the statement runs of one org across servers until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext('lux_statement'), hashtext($1));

-- name: select-due-orgs
-- Orgs with a closed cycle that has no statement yet: their account has moved past the end of
-- their latest statement (or of sign-up, for none). $1 limit.
SELECT a.org_id, o.cycle_anchor, a.cycle_start,
       COALESCE((SELECT max(d.period_end) FROM documents d
                 WHERE d.org_id = a.org_id AND d.kind = 'statement'), o.cycle_anchor) AS covered_to
FROM accounts a JOIN orgs o ON o.id = a.org_id
WHERE a.cycle_start > COALESCE((SELECT max(d.period_end) FROM documents d
                                WHERE d.org_id = a.org_id AND d.kind = 'statement'), o.cycle_anchor)
ORDER BY a.org_id
LIMIT $1;

-- name: select-ledger-sums
-- An org's ledger around a cycle [$2, $3). An instant's expiries count before its grants: the
-- allotment that expires at a cycle's end belongs to that cycle, the one granted at that
-- instant to the next. Arrears at the end: unfunded usage minus what was settled before it.
WITH e AS (
    SELECT e.kind, e.amount_mc, e.unfunded_mc, g.kind AS grant_kind,
           CASE WHEN e.kind = 'expiry' THEN e.created_at <= $2 ELSE e.created_at < $2 END AS before,
           CASE WHEN e.kind = 'expiry' THEN e.created_at <= $3 ELSE e.created_at < $3 END AS upto
    FROM ledger_entries e LEFT JOIN grants g ON g.id = e.grant_id
    WHERE e.org_id = $1 AND e.created_at <= $3
)
SELECT
    COALESCE(sum(amount_mc) FILTER (WHERE before), 0)::bigint AS opening_mc,
    COALESCE(sum(amount_mc) FILTER (WHERE upto), 0)::bigint AS closing_mc,
    COALESCE(sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'grant' AND grant_kind = 'plan_allotment'), 0)::bigint AS allotment_mc,
    COALESCE(sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'grant' AND grant_kind = 'purchase'), 0)::bigint AS purchased_mc,
    COALESCE(sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'grant' AND grant_kind NOT IN ('plan_allotment', 'purchase')), 0)::bigint AS other_grants_mc,
    COALESCE(-sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'refund'), 0)::bigint AS refunded_mc,
    COALESCE(-sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'expiry'), 0)::bigint AS expired_mc,
    COALESCE(-sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'expiry' AND grant_kind = 'plan_allotment'), 0)::bigint AS allotment_expired_mc,
    COALESCE(sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'adjustment'), 0)::bigint AS adjusted_mc,
    COALESCE(-sum(amount_mc) FILTER (WHERE upto AND NOT before AND kind = 'usage'), 0)::bigint AS used_mc,
    COALESCE(sum(unfunded_mc) FILTER (WHERE kind = 'usage' AND upto), 0)::bigint
      - COALESCE((SELECT sum(x.amount_mc) FROM allocations x
                  WHERE x.org_id = $1 AND x.settled AND x.created_at < $3), 0)::bigint AS arrears_mc
FROM e;

-- name: select-cycle-usage
-- Credits used in a cycle by member, flow and type: the usage events received in [$2, $3),
-- which are exactly the events of the usage entries the ledger dates in the cycle.
SELECT user_id, flow_id, type, sum(cost_mc)::bigint AS credits_mc
FROM usage_events
WHERE org_id = $1 AND received_at >= $2 AND received_at < $3
GROUP BY user_id, flow_id, type;

-- name: select-member-names
SELECT u.id, COALESCE(NULLIF(u.name, ''), u.email) AS name FROM users u WHERE u.id = ANY($1::text[]);

-- name: select-flow-names
SELECT id, name FROM flows WHERE org_id = $1 AND id = ANY($2::text[]);

-- name: select-account
SELECT a.cycle_start, a.cycle_end FROM accounts a WHERE a.org_id = $1;
