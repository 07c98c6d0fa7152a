-- +goose Up
-- Sign-in attempts per account, shared by every server: at most identity.AccountAttempts
-- failed attempts per account in identity.AccountWindow, whichever server (or address) they
-- reach. An account is the SHA-256 of the lower-cased email (no address is kept in the clear;
-- emails of no account are counted the same way). A row's window starts at its first attempt;
-- rows of ended windows are swept.
CREATE TABLE sign_in_attempts (
    account       BYTEA PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    attempts      INTEGER NOT NULL CHECK (attempts >= 0)
);
-- The sweep of ended windows.
CREATE INDEX sign_in_attempts_window_idx ON sign_in_attempts (window_start);

-- +goose Down
SELECT 'forward-only';
