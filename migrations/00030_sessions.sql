-- +goose Up
-- Signed-in browser sessions, so that the server can end them: the cookie carries a random
-- token, and only its SHA-256 is kept here. A session ends when its row goes: signing out
-- (that session), "sign out everywhere", a password change or leaving an organization (all of
-- the user's sessions, by the triggers below, whichever code path makes the change).
CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL,
    -- The most a session lives, whatever its use (created_at + 30 days).
    expires_at  TIMESTAMPTZ NOT NULL
);
-- Ending every session of a user (password change, removal, sign out everywhere).
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- +goose StatementBegin
CREATE FUNCTION end_user_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        DELETE FROM sessions WHERE user_id = NEW.id;
    ELSE
        DELETE FROM sessions WHERE user_id = OLD.user_id;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER users_password_ends_sessions AFTER UPDATE OF password_hash ON users
    FOR EACH ROW WHEN (OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION end_user_sessions();
CREATE TRIGGER memberships_removal_ends_sessions AFTER DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION end_user_sessions();

-- +goose Down
SELECT 'forward-only';
