-- +goose Up
-- The notifications list reads an org's notices newest first by when they happened (ids follow
-- commit order, which a backdated notice — demo data, a late statement — does not).
CREATE INDEX notifications_org_time_idx ON notifications (org_id, created_at DESC, id DESC);

-- +goose Down
SELECT 'forward-only';
