-- Signed-in sessions (see session.go). Rows are keyed by the SHA-256 of the cookie's token.

-- name: insert-session
INSERT INTO sessions (token_hash, user_id, created_at, seen_at, expires_at) VALUES ($1, $2, $3, $3, $4);

-- name: delete-expired-sessions-of-user
DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR seen_at <= $3);

-- name: select-session-user
-- A live session: not past its maximum life, and used within the idle time.
SELECT u.id, u.email, u.name, u.password_hash, u.created_at,
       s.created_at AS session_created_at, s.seen_at AS session_seen_at, s.expires_at AS session_expires_at
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.seen_at > $3;

-- name: touch-session
UPDATE sessions SET seen_at = $2 WHERE token_hash = $1;

-- name: delete-session
DELETE FROM sessions WHERE token_hash = $1;

-- name: delete-sessions-of-user
DELETE FROM sessions WHERE user_id = $1;

-- name: update-password
UPDATE users SET password_hash = $2 WHERE id = $1;

-- name: delete-membership
DELETE FROM memberships WHERE org_id = $1 AND user_id = $2;

-- name: count-other-admins
SELECT count(*) FROM memberships WHERE org_id = $1 AND user_id <> $2 AND role = 'admin';
