-- Notifications: delivery of the outbox, in-app read state, webhooks. The core writes the
-- outbox (billing/notice.sql); this package only reads notifications and updates deliveries.

-- name: claim-deliveries
-- Claims up to $2 due deliveries of the channels $1: each claimed row is leased for $3 seconds
-- (its next attempt moves past the send), so another sender — on this server or another — skips
-- it: SKIP LOCKED while this transaction runs, the lease after it. Index
-- notification_deliveries_due_idx.
WITH due AS (
    SELECT id FROM notification_deliveries
    WHERE status = 'pending' AND next_attempt_at <= clock_timestamp() AND channel = ANY($1::text[])
    ORDER BY next_attempt_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_deliveries d
SET attempts = d.attempts + 1, next_attempt_at = clock_timestamp() + make_interval(secs => $3)
FROM due, notifications n
WHERE d.id = due.id AND n.id = d.notification_id
RETURNING d.id, d.channel, d.attempts,
          CASE WHEN d.channel = 'webhook'
               THEN COALESCE((SELECT w.url FROM notification_webhooks w WHERE w.org_id = n.org_id), d.target)
               ELSE d.target END AS target, COALESCE(d.user_id, '') AS user_id,
          n.id AS notification_id, n.org_id, n.kind, COALESCE(n.user_id, '') AS about_user,
          COALESCE((SELECT u.email FROM users u WHERE u.id = n.user_id), '') AS about_email,
          n.data, n.created_at, (SELECT o.name FROM orgs o WHERE o.id = n.org_id) AS org_name,
          COALESCE((SELECT w.secret FROM notification_webhooks w WHERE w.org_id = n.org_id AND d.channel = 'webhook'), '') AS secret;

-- name: mark-sent
UPDATE notification_deliveries SET status = 'sent', sent_at = clock_timestamp(), last_error = ''
WHERE id = $1;

-- name: mark-retry
-- $1 id, $2 seconds until the next attempt, $3 the error, $4 give up (failed).
UPDATE notification_deliveries
SET next_attempt_at = clock_timestamp() + make_interval(secs => $2), last_error = $3,
    status = CASE WHEN $4 THEN 'failed' ELSE 'pending' END
WHERE id = $1;

-- name: count-unread
-- Unread notifications that user $2 sees in org $1 ($3: the user is an admin), at most 100.
SELECT count(*) FROM (
    SELECT 1 FROM notifications n
    WHERE n.org_id = $1
      AND ($3 OR n.audience = 'org' OR n.user_id = $2)
      AND n.id > COALESCE((SELECT r.read_through FROM notification_read_marks r
                           WHERE r.org_id = $1 AND r.user_id = $2), 0)
      AND NOT EXISTS (SELECT 1 FROM notification_reads x WHERE x.notification_id = n.id AND x.user_id = $2)
    LIMIT 100
) t;

-- name: list-notifications
-- The latest $4 notifications user $2 sees in org $1 ($3: admin), newest first, with read state;
-- $5: only those older than notification $5 (0: from the newest). Index notifications_org_time_idx.
SELECT n.id, n.kind, COALESCE(n.user_id, '') AS about_user,
       COALESCE((SELECT u.email FROM users u WHERE u.id = n.user_id), '') AS about_email, n.data, n.created_at,
       (n.id <= COALESCE((SELECT r.read_through FROM notification_read_marks r
                          WHERE r.org_id = $1 AND r.user_id = $2), 0)
        OR EXISTS (SELECT 1 FROM notification_reads x WHERE x.notification_id = n.id AND x.user_id = $2)) AS read
FROM notifications n
WHERE n.org_id = $1 AND ($3 OR n.audience = 'org' OR n.user_id = $2)
  AND ($5 = 0 OR (n.created_at, n.id) < (SELECT c.created_at, c.id FROM notifications c
                                          WHERE c.id = $5 AND c.org_id = $1))
ORDER BY n.created_at DESC, n.id DESC
LIMIT $4;

-- name: mark-read
-- Marks notification $3 read for user $2, when it is one of org $1's that they see ($4: admin).
INSERT INTO notification_reads (notification_id, user_id, read_at)
SELECT n.id, $2, clock_timestamp() FROM notifications n
WHERE n.id = $3 AND n.org_id = $1 AND ($4 OR n.audience = 'org' OR n.user_id = $2)
ON CONFLICT DO NOTHING
RETURNING notification_id;

-- name: is-visible
SELECT EXISTS (SELECT 1 FROM notifications n
               WHERE n.id = $3 AND n.org_id = $1 AND ($4 OR n.audience = 'org' OR n.user_id = $2));

-- name: mark-all-read
-- Everything of org $1 up to now is read for user $2.
INSERT INTO notification_read_marks (org_id, user_id, read_through)
SELECT $1, $2, COALESCE(max(id), 0) FROM notifications WHERE org_id = $1
ON CONFLICT (org_id, user_id) DO UPDATE SET read_through = GREATEST(notification_read_marks.read_through, EXCLUDED.read_through);

-- name: select-webhook
SELECT org_id, url, secret, updated_by, updated_at FROM notification_webhooks WHERE org_id = $1;

-- name: upsert-webhook
-- $1 org, $2 url, $3 a new secret (kept when the org has one), $4 by, $5 at.
INSERT INTO notification_webhooks (org_id, url, secret, updated_by, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (org_id) DO UPDATE SET url = EXCLUDED.url, updated_by = EXCLUDED.updated_by,
                                   updated_at = EXCLUDED.updated_at
RETURNING org_id, url, secret, updated_by, updated_at;

-- name: rotate-webhook-secret
UPDATE notification_webhooks SET secret = $2, updated_by = $3, updated_at = $4 WHERE org_id = $1
RETURNING org_id, url, secret, updated_by, updated_at;

-- name: delete-webhook
DELETE FROM notification_webhooks WHERE org_id = $1;

-- name: cancel-webhook-deliveries
-- Pending webhook calls of org $1 stop when its webhook is removed.
UPDATE notification_deliveries SET status = 'failed', last_error = 'webhook removed'
WHERE org_id = $1 AND channel = 'webhook' AND status = 'pending';
