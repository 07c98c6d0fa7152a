package demo

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
)

// DemoPaymentMethod is how the demo org's purchases were paid.
const DemoPaymentMethod = "Demo payment (no card charged)"

// SeedHistory issues the demo org's documents as they would have been issued over its past:
// its billing details first, then, in time order, an invoice at each purchase that has none and
// a statement at the close of each past cycle. It runs after the usage is seeded.
func SeedHistory(ctx context.Context, db *sqlx.DB, orgID, adminID string, now time.Time) error {
	var clock atomic.Int64
	docs := documents.New(db, documents.Config{}, documents.WithClock(func() time.Time { return time.Unix(0, clock.Load()).UTC() }))
	var org struct {
		Anchor     time.Time `db:"cycle_anchor"`
		CycleStart time.Time `db:"cycle_start"`
	}
	if err := db.GetContext(ctx, &org, `SELECT o.cycle_anchor, a.cycle_start FROM orgs o JOIN accounts a ON a.org_id = o.id WHERE o.id = $1`, orgID); err != nil {
		return fmt.Errorf("demo: history: %w", err)
	}
	clock.Store(org.Anchor.UnixNano())
	if _, err := docs.SaveProfile(ctx, orgID, adminID, documents.Profile{
		Name: "Acme Robotics, Inc.", Address: "500 Howard Street, Floor 3\nSan Francisco, CA 94105",
		Country: "US", TaxID: "US 94-3127745", Email: "finance@acme-robotics.example",
	}); err != nil {
		return err
	}
	type step struct {
		at    time.Time
		issue func(at time.Time) error
	}
	var steps []step
	var grants []struct {
		Ref    string               `db:"source_ref"`
		Amount billing.Millicredits `db:"amount_mc"`
		At     time.Time            `db:"created_at"`
	}
	if err := db.SelectContext(ctx, &grants, `SELECT source_ref, amount_mc, created_at FROM grants
		WHERE org_id = $1 AND kind = 'purchase' AND source_ref <> '' ORDER BY created_at`, orgID); err != nil {
		return fmt.Errorf("demo: purchases: %w", err)
	}
	for _, g := range grants {
		steps = append(steps, step{g.At, func(at time.Time) error {
			return inTx(ctx, db, func(tx *sqlx.Tx) error {
				cents := billing.Cents(g.Amount / billing.Credit)
				_, err := docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{
					OrgID: orgID, Ref: g.Ref, Credits: g.Amount, UnitCents: 1, Amount: cents,
					Currency: "usd", PaidAt: at, Method: DemoPaymentMethod, PaymentRef: g.Ref,
				})
				return err
			})
		}})
	}
	for start := org.Anchor; start.Before(org.CycleStart); {
		_, end := billing.CycleAt(org.Anchor, start)
		s := start
		steps = append(steps, step{end.Add(2 * time.Minute), func(time.Time) error {
			_, _, err := docs.IssueStatement(ctx, orgID, s, end)
			return err
		}})
		start = end
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].at.Before(steps[j].at) })
	for _, s := range steps {
		if s.at.After(now) {
			continue
		}
		clock.Store(s.at.UnixNano())
		if err := s.issue(s.at); err != nil {
			return fmt.Errorf("demo: history: %w", err)
		}
	}
	return nil
}

func inTx(ctx context.Context, db *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
