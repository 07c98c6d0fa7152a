-- +goose Up
-- Notifications: the transactional outbox. The core writes a notification (and one delivery
-- per recipient and channel) in the same transaction as the change that caused it, so a
-- notice exists exactly when its cause committed. billing/notify delivers the outbox outside
-- that transaction (mail, webhook) and keeps who has read what (in-app).

CREATE TABLE notifications (
    id          BIGSERIAL PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL CHECK (kind IN ('threshold_reached', 'low_balance', 'credits_exhausted',
                    'resumed', 'purchase_succeeded', 'refund_issued', 'statement_ready', 'renewal_failed')),
    -- The member concerned (a member limit): they see it and get its mail besides the admins.
    user_id     TEXT,
    -- Who sees it in-app: 'admins' (and user_id), or 'org' (every member: flows paused or resumed).
    audience    TEXT NOT NULL DEFAULT 'admins' CHECK (audience IN ('admins', 'org')),
    -- Once-only key within the org (a threshold per cycle and limit); NULL: every occurrence counts.
    dedupe_key  TEXT,
    -- The figures of the notice (billing.NoticeData as JSON).
    data        JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL
);
-- A threshold fires once per org (or member) per cycle: a second insert of the key does nothing.
CREATE UNIQUE INDEX notifications_once ON notifications (org_id, dedupe_key);
-- The bell and the list: an org's latest notifications.
CREATE INDEX notifications_org_idx ON notifications (org_id, id DESC);

-- One row per recipient and channel: the outbox the sender drains.
CREATE TABLE notification_deliveries (
    id               BIGSERIAL PRIMARY KEY,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    org_id           TEXT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    user_id          TEXT,           -- the recipient of a mail
    target           TEXT NOT NULL,  -- an email address or a webhook URL, as of the notice
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INT NOT NULL DEFAULT 0,
    -- When the row may be claimed next: due now, after a backoff, or after a claim's lease.
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
-- The sender's claim: pending rows that are due, oldest first.
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX notification_deliveries_notification_idx ON notification_deliveries (notification_id);

-- In-app read state per user: everything up to read_through is read ("mark all"), and single
-- notifications above it in notification_reads.
CREATE TABLE notification_read_marks (
    org_id        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    read_through  BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE TABLE notification_reads (
    notification_id  BIGINT NOT NULL REFERENCES notifications (id),
    user_id          TEXT NOT NULL,
    read_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (notification_id, user_id)
);

-- An org's webhook: notifications POSTed as JSON, signed with HMAC-SHA256 under secret.
CREATE TABLE notification_webhooks (
    org_id      TEXT PRIMARY KEY REFERENCES orgs (id),
    url         TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 2000),
    secret      TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- New deliveries wake the senders of every server at commit (they also poll).
-- +goose StatementBegin
CREATE FUNCTION outbox_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lux_outbox', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER notification_deliveries_notify AFTER INSERT ON notification_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_changed();

-- +goose Down
SELECT 'forward-only';
