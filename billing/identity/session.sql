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

-- name: lock-org-admins
-- The admins of org $1, their membership rows locked: two admins removing each other at once
-- are serialised, and the second sees the first's removal (a removed row is skipped).
SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'admin' ORDER BY user_id FOR UPDATE;

-- name: select-org-members
-- The members of org $1, admins first, then by name (memberships primary key, users primary key).
SELECT u.id, u.email, u.name, m.role, m.created_at
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.org_id = $1
ORDER BY m.role <> 'admin', lower(u.name), lower(u.email), u.id;

-- name: take-sign-in-attempt
-- Counts one attempt for account $1 at $2 in a window of $3 seconds, atomically (two servers
-- counting at once never both see the same number): a window that has ended starts again.
-- Returns the attempts of the window, this one included, and when the window started.
INSERT INTO sign_in_attempts AS a (account, window_start, attempts) VALUES ($1, $2, 1)
ON CONFLICT (account) DO UPDATE SET
    window_start = CASE WHEN a.window_start <= $2 - $3::float8 * interval '1 second' THEN $2 ELSE a.window_start END,
    attempts     = CASE WHEN a.window_start <= $2 - $3::float8 * interval '1 second' THEN 1 ELSE a.attempts + 1 END
RETURNING attempts, window_start;

-- name: give-back-sign-in-attempt
-- The attempt of account $1 succeeded: it does not count against the account.
UPDATE sign_in_attempts SET attempts = attempts - 1 WHERE account = $1 AND attempts > 0;

-- name: sweep-sign-in-attempts
-- Forgets the windows that ended before $1 (sign_in_attempts_window_idx).
DELETE FROM sign_in_attempts WHERE window_start <= $1;
