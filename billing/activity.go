package billing

import (
	"context"
	_ "embed"
	"fmt"
	"time"
)

//go:embed activity.sql
var activitySQL string

// activityQueries holds the named statements of activity.sql.
type activityQueries struct {
	selectRecentActivity string `query:"select-recent-activity"`
	selectMemberStanding string `query:"select-member-standing"`
	selectOrgAdmins      string `query:"select-org-admins"`
}

var activityQ = mustLoadQueries[activityQueries](activitySQL)

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
	ID        int64        `db:"id"`
	Kind      string       `db:"kind"`       // grant, usage, expiry, refund or adjustment
	GrantKind string       `db:"grant_kind"` // for a grant or an expiry: Grant* ("" otherwise)
	Amount    Millicredits `db:"amount_mc"`  // signed: grants add, usage and expiries take away
	// Unfunded is the part of a usage entry no grant could pay when it was recorded (it became
	// arrears).
	Unfunded Millicredits `db:"unfunded_mc"`
	Memo     string       `db:"memo"`
	At       time.Time    `db:"created_at"`
}

// Label names the entry for people: "Purchased credits", "Usage", "Plan allotment expired".
func (a Activity) Label() string {
	switch a.Kind {
	case "grant":
		return kindLabel(a.GrantKind)
	case "usage":
		return "Usage"
	case "expiry":
		return kindLabel(a.GrantKind) + " expired"
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
		return nil, Errorf(EINVALID, "unknown activity filter %q: use all, usage or credits", filter)
	}
	limit = max(1, min(limit, MaxActivity))
	out := []Activity{}
	if err := s.db.SelectContext(ctx, &out, activityQ.selectRecentActivity, orgID, string(filter), limit); err != nil {
		return nil, fmt.Errorf("billing: recent activity: %w", err)
	}
	return out, nil
}

// MemberStanding is a member's own position in the current billing cycle.
type MemberStanding struct {
	UserID string        `db:"user_id"`
	Role   string        `db:"role"`
	Limit  *Millicredits `db:"monthly_limit_mc"` // nil: no member limit
	Used   Millicredits  `db:"used_mc"`          // credits this member's flows used this cycle
	// CycleStart and CycleEnd bound the cycle Used counts.
	CycleStart time.Time `db:"-"`
	CycleEnd   time.Time `db:"-"`
}

// Paused reports whether the member's own monthly limit is reached, which pauses their flows.
func (m *MemberStanding) Paused() bool { return m.Limit != nil && m.Used >= *m.Limit }

// MemberStanding returns user's limit and usage in org's current cycle (rolling the cycle over
// first if it ended). ENOTFOUND when user is not a member of org.
func (s *Service) MemberStanding(ctx context.Context, orgID, userID string) (*MemberStanding, error) {
	a, err := s.currentAccount(ctx, orgID, s.now())
	if err != nil {
		return nil, err
	}
	var m MemberStanding
	if err := s.db.GetContext(ctx, &m, activityQ.selectMemberStanding, orgID, userID, a.CycleStart); err != nil {
		return nil, notFound(err, "you are not a member of this organization", "select member standing")
	}
	m.CycleStart, m.CycleEnd = a.CycleStart, a.CycleEnd
	return &m, nil
}

// Contact is a person to ask, such as an admin who can add credits.
type Contact struct {
	UserID string `db:"id"`
	Email  string `db:"email"`
	Name   string `db:"name"`
}

// OrgAdmins returns the admins of org, by name.
func (s *Service) OrgAdmins(ctx context.Context, orgID string) ([]Contact, error) {
	out := []Contact{}
	if err := s.db.SelectContext(ctx, &out, activityQ.selectOrgAdmins, orgID); err != nil {
		return nil, fmt.Errorf("billing: org admins: %w", err)
	}
	return out, nil
}
