-- The core's statements of the notification outbox (notice.go). The outbox's tables are in
-- migrations/00025_notifications.sql; billing/notify reads and delivers them.

-- name: insert-notices
-- $1 now; $2 a JSON array of notifications rows (noticeRow). A notice whose dedupe_key the org
-- has already is skipped, with its deliveries. Each new notice gets one mail per admin of the
-- org (and for the member it concerns) and one webhook call when the org has a webhook.
WITH n AS (
    INSERT INTO notifications (org_id, kind, user_id, audience, dedupe_key, data, created_at)
    SELECT org_id, kind, user_id, audience, dedupe_key, data, $1
    FROM json_populate_recordset(NULL::notifications, $2::json)
    ON CONFLICT (org_id, dedupe_key) DO NOTHING
    RETURNING id, org_id, user_id
)
INSERT INTO notification_deliveries (notification_id, org_id, channel, user_id, target, next_attempt_at, created_at)
SELECT n.id, n.org_id, 'email', u.id, u.email, statement_timestamp(), $1
FROM n
JOIN memberships m ON m.org_id = n.org_id AND (m.role = 'admin' OR m.user_id = n.user_id)
JOIN users u ON u.id = m.user_id
UNION ALL
SELECT n.id, n.org_id, 'webhook', NULL, w.url, statement_timestamp(), $1
FROM n JOIN notification_webhooks w ON w.org_id = n.org_id;

-- name: select-notice-state
-- An org's notification settings and the members paused by their own limit in the cycle that
-- starts $2 (with their usage and limit, as a JSON array). $1 org.
SELECT o.monthly_limit_mc, o.threshold_percents, o.low_balance_mc,
       COALESCE((SELECT json_agg(json_build_object('user_id', m.user_id, 'used_mc', u.used_mc,
                                                   'limit_mc', m.monthly_limit_mc) ORDER BY m.user_id)
                 FROM memberships m
                 JOIN member_cycle_usage u
                   ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $2
                 WHERE m.org_id = o.id AND u.used_mc >= m.monthly_limit_mc), '[]') AS paused_members
FROM orgs o WHERE o.id = $1;

-- name: select-paused-members
-- The members of org $1 paused by their own limit in the cycle that starts $2 (JSON array).
SELECT COALESCE(json_agg(json_build_object('user_id', m.user_id, 'used_mc', u.used_mc,
                                           'limit_mc', m.monthly_limit_mc) ORDER BY m.user_id), '[]')
FROM memberships m
JOIN member_cycle_usage u ON u.org_id = m.org_id AND u.user_id = m.user_id AND u.cycle_start = $2
WHERE m.org_id = $1 AND u.used_mc >= m.monthly_limit_mc;
