-- +goose Up
-- Servers cache API key look-ups; any change to keys or memberships tells every server to drop
-- its cache, so a revoked key or a removed member stops working at once on all replicas.
-- +goose StatementBegin
CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('lux_auth', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER api_keys_notify AFTER UPDATE OR DELETE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER memberships_notify AFTER UPDATE OR DELETE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();

-- +goose Down
SELECT 'forward-only';
