package billing

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix_ followed by 80 random bits.
func NewID(prefix string) string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + idEncoding.EncodeToString(b)
}

// NewOrg is what creating an organization needs.
type NewOrg struct {
	Name            string
	PlanCode        string        // default "free"
	CustomAllotment *Millicredits // Enterprise only
	Timezone        string        // default "UTC"
}

// createOrg inserts an org, its account and its first cycle's allotment, at instant now (the
// cycle anchor).
func (s *Service) createOrg(ctx context.Context, tx *sqlx.Tx, in NewOrg, now time.Time) (string, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 200 {
		return "", Errorf(EINVALID, "an organization needs a name of 1 to 200 characters")
	}
	if in.PlanCode == "" {
		in.PlanCode = "free"
	}
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	if err := ValidateTimezone(in.Timezone); err != nil {
		return "", err
	}
	var plan Plan
	if err := tx.GetContext(ctx, &plan, queries.SelectPlan, in.PlanCode); err != nil {
		return "", NotFound(err, fmt.Sprintf("no plan %q", in.PlanCode), "select plan")
	}
	id := NewID("org")
	now = now.UTC().Truncate(time.Second)
	if _, err := tx.ExecContext(ctx, queries.InsertOrg, id, in.Name, in.PlanCode, in.CustomAllotment, now, in.Timezone); err != nil {
		return "", fmt.Errorf("billing: insert org: %w", err)
	}
	start, end := CycleAt(now, now)
	if _, err := tx.ExecContext(ctx, queries.InsertAccount, id, start, end); err != nil {
		return "", fmt.Errorf("billing: insert account: %w", err)
	}
	lt, err := s.lockLedger(ctx, tx, id, now)
	if err != nil {
		return "", err
	}
	if err := lt.grantAllotment(ctx); err != nil {
		return "", err
	}
	return id, lt.flush(ctx)
}

// CreateOrgTx creates an organization inside tx (identity's transaction, which adds its first
// admin): the org row, its account and its first cycle's allotment, anchored now. It returns
// the new org's id.
func (s *Service) CreateOrgTx(ctx context.Context, tx *sqlx.Tx, in NewOrg) (string, error) {
	return s.createOrg(ctx, tx, in, s.now())
}

// Plans lists the plans in display order.
func (s *Service) Plans(ctx context.Context) ([]Plan, error) {
	var ps []Plan
	if err := s.db.SelectContext(ctx, &ps, queries.SelectPlans); err != nil {
		return nil, fmt.Errorf("billing: plans: %w", err)
	}
	for i := range ps {
		s.priced(&ps[i])
	}
	return ps, nil
}
