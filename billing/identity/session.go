package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed session.sql
var sessionSQL string

// sessionQ holds the statements of session.sql.
var sessionQ = func() struct {
	InsertSession, DeleteExpiredOfUser, SelectSessionUser, TouchSession, DeleteSession,
	DeleteSessionsOfUser, UpdatePassword, DeleteMembership, LockOrgAdmins, SelectOrgMembers,
	TakeSignInAttempt, GiveBackSignInAttempt, SweepSignInAttempts string
} {
	f := billing.ParseQueries("billing/identity/session.sql", sessionSQL)
	var q struct {
		InsertSession, DeleteExpiredOfUser, SelectSessionUser, TouchSession, DeleteSession,
		DeleteSessionsOfUser, UpdatePassword, DeleteMembership, LockOrgAdmins, SelectOrgMembers,
		TakeSignInAttempt, GiveBackSignInAttempt, SweepSignInAttempts string
	}
	q.InsertSession = f.Get("insert-session")
	q.DeleteExpiredOfUser = f.Get("delete-expired-sessions-of-user")
	q.SelectSessionUser = f.Get("select-session-user")
	q.TouchSession = f.Get("touch-session")
	q.DeleteSession = f.Get("delete-session")
	q.DeleteSessionsOfUser = f.Get("delete-sessions-of-user")
	q.UpdatePassword = f.Get("update-password")
	q.DeleteMembership = f.Get("delete-membership")
	q.LockOrgAdmins = f.Get("lock-org-admins")
	q.SelectOrgMembers = f.Get("select-org-members")
	q.TakeSignInAttempt = f.Get("take-sign-in-attempt")
	q.GiveBackSignInAttempt = f.Get("give-back-sign-in-attempt")
	q.SweepSignInAttempts = f.Get("sweep-sign-in-attempts")
	return q
}()

// Session lifetimes: a session ends SessionIdle after its last use and SessionMax after it
// started, whatever happens.
const (
	SessionIdle = 7 * 24 * time.Hour
	SessionMax  = 30 * 24 * time.Hour
)

// Session is a signed-in browser session of a user. It lives in the database, so the server
// can end it: signing out, "sign out everywhere", a password change and leaving an organization
// end it at once (a copied cookie then opens nothing).
type Session struct {
	CreatedAt time.Time
	SeenAt    time.Time
	ExpiresAt time.Time
}

func sessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// StartSession starts a session for user and returns its token, the secret the session cookie
// carries (only its hash is stored). The user's expired sessions are cleared on the way.
func (s *Service) StartSession(ctx context.Context, userID string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := s.store.Now()
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.DeleteExpiredOfUser, userID, now, now.Add(-SessionIdle)); err != nil {
		return "", fmt.Errorf("billing: clear expired sessions: %w", err)
	}
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.InsertSession, sessionHash(token), userID, now, now.Add(SessionMax)); err != nil {
		return "", fmt.Errorf("billing: start session: %w", err)
	}
	return token, nil
}

// errSessionEnded is what an ended, expired or unknown session gets.
var errSessionEnded = billing.Errorf(billing.EUNAUTHORIZED, "your session has ended: sign in again")

// SessionUser returns the user of a live session and the session. An unknown, ended or expired
// token is EUNAUTHORIZED.
func (s *Service) SessionUser(ctx context.Context, token string) (*User, *Session, error) {
	if token == "" {
		return nil, nil, errSessionEnded
	}
	var row struct {
		User
		SessionCreatedAt time.Time `db:"session_created_at"`
		SessionSeenAt    time.Time `db:"session_seen_at"`
		SessionExpiresAt time.Time `db:"session_expires_at"`
	}
	now := s.store.Now()
	err := s.store.DB().GetContext(ctx, &row, sessionQ.SelectSessionUser, sessionHash(token), now, now.Add(-SessionIdle))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, errSessionEnded
	}
	if err != nil {
		return nil, nil, fmt.Errorf("billing: find session: %w", err)
	}
	u := row.User
	return &u, &Session{CreatedAt: row.SessionCreatedAt, SeenAt: row.SessionSeenAt, ExpiresAt: row.SessionExpiresAt}, nil
}

// TouchSession records that a session was used now, moving its idle deadline on.
func (s *Service) TouchSession(ctx context.Context, token string) error {
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.TouchSession, sessionHash(token), s.store.Now()); err != nil {
		return fmt.Errorf("billing: touch session: %w", err)
	}
	return nil
}

// EndSession ends one session (signing out). Ending an unknown session does nothing.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.DeleteSession, sessionHash(token)); err != nil {
		return fmt.Errorf("billing: end session: %w", err)
	}
	return nil
}

// EndSessions ends every session of a user ("sign out everywhere") and returns how many.
func (s *Service) EndSessions(ctx context.Context, userID string) (int64, error) {
	res, err := s.store.DB().ExecContext(ctx, sessionQ.DeleteSessionsOfUser, userID)
	if err != nil {
		return 0, fmt.Errorf("billing: end sessions: %w", err)
	}
	return res.RowsAffected()
}

// ChangePassword sets a user's password after checking the current one (EUNAUTHORIZED when it
// is wrong; EINVALID when the new one breaks the rules of sign-up or is the current one). Every
// session of the user ends (a trigger on users), so a stolen cookie stops working; the caller
// starts a new session for the person who changed it.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string) error {
	u, err := s.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return billing.Errorf(billing.EUNAUTHORIZED, "the current password is not right")
	}
	in := NewUser{Email: u.Email, Name: u.Name, Password: next}
	if err := in.validate(); err != nil {
		return err
	}
	if next == current {
		return billing.Errorf(billing.EINVALID, "choose a new password, not the current one")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(next), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("billing: hash password: %w", err)
	}
	if _, err := s.store.DB().ExecContext(ctx, sessionQ.UpdatePassword, userID, string(hash)); err != nil {
		return fmt.Errorf("billing: change password: %w", err)
	}
	return nil
}

// RemoveMember takes a user out of an organization. Their sessions end at once (a trigger on
// memberships) and their API keys of that org stop working (a key needs its owner's
// membership). The last admin cannot be removed (ECONFLICT), even by two admins removing each
// other at the same moment (the admins' rows are locked first); a user who is not a member is
// ENOTFOUND.
func (s *Service) RemoveMember(ctx context.Context, orgID, userID string) error {
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var admins []string
		if err := tx.SelectContext(ctx, &admins, sessionQ.LockOrgAdmins, orgID); err != nil {
			return fmt.Errorf("billing: lock admins: %w", err)
		}
		var m Membership
		err := tx.GetContext(ctx, &m, queries.SelectMembership, orgID, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return billing.Errorf(billing.ENOTFOUND, "%s is not a member of this organization", billing.Quote(userID))
		}
		if err != nil {
			return fmt.Errorf("billing: find member: %w", err)
		}
		if m.IsAdmin() && len(admins) <= 1 {
			return billing.Errorf(billing.ECONFLICT, "the last admin of %s cannot be removed: make another member admin first", m.OrgName)
		}
		if _, err := tx.ExecContext(ctx, sessionQ.DeleteMembership, orgID, userID); err != nil {
			return fmt.Errorf("billing: remove member: %w", err)
		}
		return nil
	})
	if err == nil {
		s.keys.clear() // other servers hear of it through lux_auth
	}
	return err
}

// Member is one person of an organization, for the members list.
type Member struct {
	UserID  string    `db:"id"`
	Email   string    `db:"email"`
	Name    string    `db:"name"`
	Role    string    `db:"role"`
	AddedAt time.Time `db:"created_at"`
}

// IsAdmin reports whether the member is an admin of the organization.
func (m Member) IsAdmin() bool { return m.Role == RoleAdmin }

// Members returns the members of org, admins first, then by name.
func (s *Service) Members(ctx context.Context, orgID string) ([]Member, error) {
	out := []Member{}
	if err := s.store.DB().SelectContext(ctx, &out, sessionQ.SelectOrgMembers, orgID); err != nil {
		return nil, fmt.Errorf("billing: members: %w", err)
	}
	return out, nil
}
