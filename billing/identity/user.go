package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"

	"github.com/luxstudio/lux-billing/billing"
)

// Roles of a member in an organization.
const (
	RoleAdmin  = "admin"  // buys credits, changes plan and limits, manages keys
	RoleMember = "member" // sees the org's balance and usage and their own limit
)

// MinPasswordLength is the shortest password accepted at sign-up.
const MinPasswordLength = 8

// User is a person who signs in.
type User struct {
	ID           string    `db:"id"`
	Email        string    `db:"email"`
	Name         string    `db:"name"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// Membership is a user's place in an organization.
type Membership struct {
	OrgID        string                `db:"org_id"`
	OrgName      string                `db:"org_name"`
	OrgTimezone  string                `db:"org_timezone"` // the org's zone, for its days
	PlanCode     string                `db:"plan_code"`    // the org's plan
	UserID       string                `db:"user_id"`
	Role         string                `db:"role"`
	MonthlyLimit *billing.Millicredits `db:"monthly_limit_mc"`
}

// IsAdmin reports whether the membership is an admin's.
func (m *Membership) IsAdmin() bool { return m.Role == RoleAdmin }

// CreateOrg creates an organization with the given admin. Its cycles are anchored now; the
// first allotment is granted at once.
func (s *Service) CreateOrg(ctx context.Context, in billing.NewOrg, adminUserID string) (string, error) {
	var id string
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if id, err = s.core.CreateOrgTx(ctx, tx, in); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, queries.InsertMembership, id, adminUserID, RoleAdmin, s.store.Now())
		return err
	})
	return id, err
}

// NewUser is what signing up needs.
type NewUser struct {
	Email    string
	Name     string
	Password string
}

func (in *NewUser) validate() error {
	in.Email = strings.TrimSpace(in.Email)
	in.Name = strings.TrimSpace(in.Name)
	addr, err := mail.ParseAddress(in.Email)
	if err != nil || addr.Address != in.Email || !strings.Contains(in.Email, "@") {
		return billing.Errorf(billing.EINVALID, "enter a valid email address, like ada@example.com")
	}
	if len(in.Password) < MinPasswordLength {
		return billing.Errorf(billing.EINVALID, "choose a password of at least %d characters", MinPasswordLength)
	}
	if len(in.Password) > 72 {
		return billing.Errorf(billing.EINVALID, "a password may be at most 72 characters long")
	}
	if len(in.Name) > 200 {
		return billing.Errorf(billing.EINVALID, "a name may be at most 200 characters long")
	}
	return nil
}

func (s *Service) createUser(ctx context.Context, tx *sqlx.Tx, in NewUser) (*User, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("billing: hash password: %w", err)
	}
	u := &User{ID: billing.NewID("usr"), Email: in.Email, Name: in.Name, PasswordHash: string(hash), CreatedAt: s.store.Now()}
	if _, err := tx.ExecContext(ctx, queries.InsertUser, u.ID, u.Email, u.Name, u.PasswordHash, u.CreatedAt); err != nil {
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return nil, billing.Errorf(billing.ECONFLICT, "an account with %s already exists: sign in instead", in.Email)
		}
		return nil, fmt.Errorf("billing: insert user: %w", err)
	}
	return u, nil
}

// SignUp creates a user and a new organization on the Free plan with its 1,000 credits, the
// user its admin. No card is needed. A used email is ECONFLICT.
func (s *Service) SignUp(ctx context.Context, in NewUser, orgName string) (*User, string, error) {
	var u *User
	var orgID string
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if u, err = s.createUser(ctx, tx, in); err != nil {
			return err
		}
		if strings.TrimSpace(orgName) == "" {
			return billing.Errorf(billing.EINVALID, "give your organization a name")
		}
		if orgID, err = s.core.CreateOrgTx(ctx, tx, billing.NewOrg{Name: orgName}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, queries.InsertMembership, orgID, u.ID, RoleAdmin, s.store.Now())
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return u, orgID, nil
}

// CreateUser creates a user without an organization (operators and tests add memberships).
func (s *Service) CreateUser(ctx context.Context, in NewUser) (*User, error) {
	var u *User
	err := s.store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		u, err = s.createUser(ctx, tx, in)
		return err
	})
	return u, err
}

// AddMember adds user to org with role (or changes their role).
func (s *Service) AddMember(ctx context.Context, orgID, userID, role string) error {
	if role != RoleAdmin && role != RoleMember {
		return billing.Errorf(billing.EINVALID, "a role is %q or %q", RoleAdmin, RoleMember)
	}
	if _, err := s.store.DB().ExecContext(ctx, queries.InsertMembership, orgID, userID, role, s.store.Now()); err != nil {
		return fmt.Errorf("billing: add member: %w", err)
	}
	return nil
}

// Authenticate returns the user with email and password. A wrong pair is EUNAUTHORIZED with
// one message for both cases, so it does not tell which emails exist.
func (s *Service) Authenticate(ctx context.Context, email, password string) (*User, error) {
	var u User
	err := s.store.DB().GetContext(ctx, &u, queries.SelectUserByEmail, strings.TrimSpace(email))
	bad := billing.Errorf(billing.EUNAUTHORIZED, "that email and password do not match an account")
	if err != nil {
		// Compare anyway so that an unknown email takes as long as a wrong password.
		_ = bcrypt.CompareHashAndPassword([]byte("$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z3qvQOjC5KfYXqDmMxBnu3Vm"), []byte(password))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, bad
		}
		return nil, fmt.Errorf("billing: find user: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, bad
	}
	return &u, nil
}

// FindUserByID returns a user; ENOTFOUND if there is none.
func (s *Service) FindUserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.store.DB().GetContext(ctx, &u, queries.SelectUser, id); err != nil {
		return nil, billing.NotFound(err, "user not found", "select user")
	}
	return &u, nil
}

// FindUserByEmail returns a user; ENOTFOUND if there is none.
func (s *Service) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.store.DB().GetContext(ctx, &u, queries.SelectUserByEmail, strings.TrimSpace(email)); err != nil {
		return nil, billing.NotFound(err, fmt.Sprintf("no user with email %s", email), "select user")
	}
	return &u, nil
}

// Memberships returns the organizations a user belongs to, by name.
func (s *Service) Memberships(ctx context.Context, userID string) ([]Membership, error) {
	var ms []Membership
	if err := s.store.DB().SelectContext(ctx, &ms, queries.SelectMembershipsOfUser, userID); err != nil {
		return nil, fmt.Errorf("billing: memberships: %w", err)
	}
	return ms, nil
}

// FindMembership returns user's membership of org; ENOTFOUND when they are not a member (so a
// caller cannot tell another org exists).
func (s *Service) FindMembership(ctx context.Context, orgID, userID string) (*Membership, error) {
	var m Membership
	if err := s.store.DB().GetContext(ctx, &m, queries.SelectMembership, orgID, userID); err != nil {
		return nil, billing.NotFound(err, "organization not found", "select membership")
	}
	return &m, nil
}
