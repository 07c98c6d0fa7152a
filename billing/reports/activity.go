package reports

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// ActivityFilter chooses which ledger entries RecentActivity returns.
type ActivityFilter string

// Activity filters.
const (
	ActivityAll     ActivityFilter = "all"     // every entry
	ActivityUsage   ActivityFilter = "usage"   // usage debits only
	ActivityCredits ActivityFilter = "credits" // grants, expiries, refunds and adjustments
)

// MaxActivity is the most entries RecentActivity returns at once.
const MaxActivity = 100

// Activity is one ledger entry as people read it.
type Activity struct {
	ID        int64                `db:"id"`
	Kind      string               `db:"kind"`       // grant, usage, expiry, refund or adjustment
	GrantKind string               `db:"grant_kind"` // for a grant or an expiry: Grant* ("" otherwise)
	Amount    billing.Millicredits `db:"amount_mc"`  // signed: grants add, usage and expiries take away
	// Unfunded is the part of a usage entry no grant could pay when it was recorded (it became
	// arrears).
	Unfunded billing.Millicredits `db:"unfunded_mc"`
	Memo     string               `db:"memo"`
	At       time.Time            `db:"created_at"`
}

// Label names the entry for people: "Purchased credits", "Usage", "Plan allotment expired".
func (a Activity) Label() string {
	switch a.Kind {
	case "grant":
		return billing.GrantKindLabel(a.GrantKind)
	case "usage":
		return "Usage"
	case "expiry":
		return billing.GrantKindLabel(a.GrantKind) + " expired"
	case "refund":
		return "Refund"
	case "adjustment":
		return "Adjustment"
	}
	return a.Kind
}

// RecentActivity returns org's latest ledger entries, newest first: at most limit (1 to
// MaxActivity) entries of the kinds filter selects. An unknown filter is EINVALID.
func (s *Service) RecentActivity(ctx context.Context, orgID string, filter ActivityFilter, limit int) ([]Activity, error) {
	switch filter {
	case ActivityAll, ActivityUsage, ActivityCredits:
	default:
		return nil, billing.Errorf(billing.EINVALID, "unknown activity filter %q: use all, usage or credits", filter)
	}
	limit = max(1, min(limit, MaxActivity))
	out := []Activity{}
	if err := s.store.DB().SelectContext(ctx, &out, queries.SelectRecentActivity, orgID, string(filter), limit); err != nil {
		return nil, fmt.Errorf("billing: recent activity: %w", err)
	}
	return out, nil
}
