-- Named queries of payments (see payments.go). Every statement that changes a purchase runs
-- inside billing.WithLedger, after the org's account row is locked: locks are always taken in
-- the order account row → payment event → purchase row.

-- name: insert-purchase
INSERT INTO purchases (id, org_id, user_id, credits_mc, unit_price_cents, price_cents, currency,
                       status, provider, created_at, updated_at)
VALUES (:id, :org_id, :user_id, :credits_mc, :unit_price_cents, :price_cents, :currency,
        'pending', :provider, :created_at, :created_at);

-- name: set-checkout
-- $1 purchase, $2 provider session id, $3 checkout URL, $4 at.
UPDATE purchases SET provider_session_id = $2, checkout_url = $3, updated_at = $4 WHERE id = $1;

-- name: delete-failed-create
-- A purchase whose checkout could not be created at all: nobody can pay it. $1 purchase.
DELETE FROM purchases WHERE id = $1 AND status = 'pending' AND provider_session_id = '';

-- name: select-purchase
-- One purchase of org $1 (primary key; the org check keeps other orgs' purchases unseen).
SELECT id, org_id, user_id, credits_mc, unit_price_cents, price_cents, currency, status, provider,
       provider_session_id, provider_payment_id, checkout_url, grant_id, created_at, paid_at
FROM purchases WHERE org_id = $1 AND id = $2;

-- name: select-purchase-org
SELECT org_id FROM purchases WHERE id = $1;

-- name: lock-purchase
SELECT id, org_id, user_id, credits_mc, unit_price_cents, price_cents, currency, status, provider,
       provider_session_id, provider_payment_id, checkout_url, grant_id, created_at, paid_at
FROM purchases WHERE id = $1
FOR UPDATE;

-- name: mark-paid
-- $1 purchase, $2 grant, $3 at, $4 session id, $5 payment id ('' keeps what is known).
UPDATE purchases SET status = 'paid', grant_id = $2, paid_at = $3, updated_at = $3,
       provider_session_id = COALESCE(NULLIF($4, ''), provider_session_id),
       provider_payment_id = COALESCE(NULLIF($5, ''), provider_payment_id)
WHERE id = $1;

-- name: set-status
-- $1 purchase, $2 new status, $3 at. Only a pending purchase changes: a paid one stays paid.
UPDATE purchases SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'pending';

-- name: note-payment
-- What the provider said about a payment still in progress. $1 purchase, $2 session, $3 payment.
UPDATE purchases
SET provider_session_id = COALESCE(NULLIF($2, ''), provider_session_id),
    provider_payment_id = COALESCE(NULLIF($3, ''), provider_payment_id)
WHERE id = $1;

-- name: insert-event
-- A provider event, once: nothing is returned when the id was processed before.
-- $1 id, $2 provider, $3 type, $4 purchase, $5 at.
INSERT INTO payment_events (id, provider, type, purchase_id, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: select-purchases
-- Org $1's latest $2 purchases that reached the payment page, newest first (purchases_org_idx),
-- with their refunds.
SELECT p.id, p.org_id, p.user_id, p.credits_mc, p.unit_price_cents, p.price_cents, p.currency,
       p.status, p.provider, p.provider_session_id, p.provider_payment_id, p.checkout_url,
       p.grant_id, p.created_at, p.paid_at,
       r.id AS "r.id", r.credits_mc AS "r.credits_mc", r.amount_cents AS "r.amount_cents",
       r.provider_refund_id AS "r.provider_refund_id", r.requested_by AS "r.requested_by",
       r.created_at AS "r.created_at", r.entry_id AS "r.entry_id"
FROM purchases p LEFT JOIN refunds r ON r.purchase_id = p.id
WHERE p.org_id = $1
ORDER BY p.created_at DESC, p.id
LIMIT $2;

-- name: insert-refund
INSERT INTO refunds (purchase_id, org_id, credits_mc, amount_cents, currency, entry_id,
                     provider_refund_id, requested_by, created_at)
VALUES (:purchase_id, :org_id, :credits_mc, :amount_cents, :currency, :entry_id,
        :provider_refund_id, :requested_by, :created_at)
RETURNING id;

-- name: select-refund-of
SELECT id, purchase_id, org_id, credits_mc, amount_cents, currency, entry_id, provider_refund_id,
       requested_by, created_at
FROM refunds WHERE purchase_id = $1;

-- name: set-refund-provider-id
-- $1 refund, $2 the provider's refund id.
UPDATE refunds SET provider_refund_id = $2 WHERE id = $1;
