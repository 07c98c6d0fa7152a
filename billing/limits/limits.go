// Package limits is the Limits capability: people set an organization's monthly credit limit,
// its alert thresholds, its low-balance alert and each member's monthly limit, and every change
// is kept in an audit log (who, when, old → new). The limits are the core's (it enforces them in
// ingestion and authorize); this package changes them through the core's ledger transaction
// (billing.LedgerTx), so a change and its audit entry commit together, under the org's ledger
// lock, and usage is never judged against a half-made change.
package limits

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// Sources of a change, as the audit log records them.
const (
	SourcePage     = "page"     // Settings → Billing → Limits
	SourceAPI      = "api"      // an admin's API key (PUT /api/v1/limits…)
	SourceOperator = "operator" // the demo seed or an operator on the database
)

// Fields, as the API names them; a FieldError names one of them.
const (
	FieldMonthlyLimit = "monthlyLimit"
	FieldThresholds   = "thresholds"
	FieldLowBalance   = "lowBalance"
)

// Audit log fields (limit_changes.field).
const (
	AuditMonthlyLimit = "monthly_limit"
	AuditThresholds   = "thresholds"
	AuditLowBalance   = "low_balance"
	AuditMemberLimit  = "member_limit"
)

// Directory finds the people of an organization (identity.Service implements it).
type Directory interface {
	OrgMembers(ctx context.Context, orgID string) (map[string]identity.Contact, error)
}

// Service reads and changes limits. It is safe for concurrent use.
type Service struct {
	core *billing.Service
	dir  Directory
}

// New returns the limits capability over the core, finding people's names in dir.
func New(core *billing.Service, dir Directory) *Service { return &Service{core: core, dir: dir} }

// Actor is who makes a change, and from where (Source*).
type Actor struct {
	UserID string
	Source string
}

// Change is a change of an organization's settings: only the fields whose Set* is true change;
// a nil limit or alert clears it.
type Change struct {
	SetMonthlyLimit bool
	MonthlyLimit    *billing.Millicredits
	SetThresholds   bool
	Thresholds      []int
	SetLowBalance   bool
	LowBalance      *billing.Millicredits
}

// FieldError is what is wrong with one field.
type FieldError struct {
	Field   string
	Message string
}

// Invalid is a change refused because of its fields: every wrong field with its message, for
// a form to show each next to its field. It unwraps to a billing.Error (EINVALID) whose
// message names the first field, for the API.
type Invalid struct{ Fields []FieldError }

// Add records that field is wrong (the message of err, or err's text).
func (e *Invalid) Add(field string, err error) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: billing.ErrorMessage(err)})
}

// Of returns the message for field, or "".
func (e *Invalid) Of(field string) string {
	if e == nil {
		return ""
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// Err returns e when it names a field, nil otherwise.
func (e *Invalid) Err() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *Invalid) Error() string { return e.Unwrap().Error() }

// Unwrap is the EINVALID error naming the first wrong field.
func (e *Invalid) Unwrap() error {
	if len(e.Fields) == 0 {
		return billing.Errorf(billing.EINVALID, "invalid limits")
	}
	f := e.Fields[0]
	return &billing.Error{Code: billing.EINVALID, Message: fmt.Sprintf("%s: %s", f.Field, f.Message)}
}

// Warning is a change that was made but deserves a second look, such as a limit below what is
// already used this cycle (flows it applies to pause at once).
type Warning struct {
	Field   string
	Message string
}

// Result is what a change did.
type Result struct {
	Changed  int       // audit entries written (0: the values were already so)
	Warnings []Warning // none when nothing deserves a second look
}

// Check validates a change without making it; nil when every set field is valid.
func (c Change) Check() *Invalid {
	var bad Invalid
	if c.SetMonthlyLimit {
		if err := billing.CheckMonthlyLimit(c.MonthlyLimit); err != nil {
			bad.Add(FieldMonthlyLimit, err)
		}
	}
	if c.SetThresholds {
		if err := billing.CheckThresholds(c.Thresholds); err != nil {
			bad.Add(FieldThresholds, err)
		}
	}
	if c.SetLowBalance {
		if err := billing.CheckLowBalance(c.LowBalance); err != nil {
			bad.Add(FieldLowBalance, err)
		}
	}
	if len(bad.Fields) == 0 {
		return nil
	}
	return &bad
}

// Update changes org's settings as actor. Invalid fields are an *Invalid (EINVALID) and change
// nothing. Fields whose value does not change write no audit entry.
func (s *Service) Update(ctx context.Context, orgID string, actor Actor, c Change) (*Result, error) {
	if bad := c.Check(); bad != nil {
		return nil, bad
	}
	var res *Result
	err := s.core.WithLedger(ctx, orgID, func(l *billing.LedgerTx) error {
		var err error
		res, err = s.UpdateTx(ctx, l, actor, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// UpdateTx is Update inside a ledger transaction the caller owns: the settings and their audit
// entries are written through l, and roll back with it.
func (s *Service) UpdateTx(ctx context.Context, l *billing.LedgerTx, actor Actor, c Change) (*Result, error) {
	if bad := c.Check(); bad != nil {
		return nil, bad
	}
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	cur, err := l.LimitSettings(ctx)
	if err != nil {
		return nil, err
	}
	next := *cur
	if c.SetMonthlyLimit {
		next.MonthlyLimit = c.MonthlyLimit
	}
	if c.SetThresholds {
		next.Thresholds = slices.Sorted(slices.Values(c.Thresholds))
	}
	if c.SetLowBalance {
		next.LowBalance = c.LowBalance
	}
	var entries []change
	if !sameCredits(cur.MonthlyLimit, next.MonthlyLimit) {
		entries = append(entries, change{Field: AuditMonthlyLimit, OldMC: cur.MonthlyLimit, NewMC: next.MonthlyLimit})
	}
	if !slices.Equal(cur.Thresholds, next.Thresholds) {
		entries = append(entries, change{Field: AuditThresholds, OldPercents: percents(cur.Thresholds), NewPercents: percents(next.Thresholds)})
	}
	if !sameCredits(cur.LowBalance, next.LowBalance) {
		entries = append(entries, change{Field: AuditLowBalance, OldMC: cur.LowBalance, NewMC: next.LowBalance})
	}
	res := &Result{Warnings: []Warning{}}
	if len(entries) == 0 {
		return res, nil
	}
	if err := l.SetLimitSettings(ctx, next); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, l, actor, entries); err != nil {
		return nil, err
	}
	res.Changed = len(entries)
	if c.SetMonthlyLimit && next.MonthlyLimit != nil && l.CycleUsed() >= *next.MonthlyLimit {
		res.Warnings = append(res.Warnings, Warning{Field: FieldMonthlyLimit, Message: fmt.Sprintf(
			"%s credits are already used this cycle, so the limit of %s credits is reached: flows are paused until it is raised or the cycle ends.",
			l.CycleUsed(), *next.MonthlyLimit)})
	}
	if c.SetLowBalance && next.LowBalance != nil && l.Balance() <= *next.LowBalance {
		res.Warnings = append(res.Warnings, Warning{Field: FieldLowBalance, Message: fmt.Sprintf(
			"The balance (%s credits) is already at or below this alert.", l.Balance())})
	}
	return res, nil
}

// SetMemberLimit sets member userID's own monthly limit in org (nil removes it) as actor.
// EINVALID for an invalid limit (FieldMonthlyLimit), ENOTFOUND when userID is not a member.
// A limit below what the member already used this cycle is set, with a warning.
func (s *Service) SetMemberLimit(ctx context.Context, orgID string, actor Actor, userID string, limit *billing.Millicredits) (*Result, error) {
	if err := billing.CheckMonthlyLimit(limit); err != nil {
		bad := &Invalid{}
		bad.Add(FieldMonthlyLimit, err)
		return nil, bad
	}
	if err := checkActor(actor); err != nil {
		return nil, err
	}
	res := &Result{Warnings: []Warning{}}
	err := s.core.WithLedger(ctx, orgID, func(l *billing.LedgerTx) error {
		m, err := l.MemberStanding(ctx, userID)
		if err != nil {
			return err
		}
		if sameCredits(m.Limit, limit) {
			return nil
		}
		if err := l.SetMemberLimit(ctx, userID, limit); err != nil {
			return err
		}
		if err := s.audit(ctx, l, actor, []change{{Field: AuditMemberLimit, MemberID: &userID, OldMC: m.Limit, NewMC: limit}}); err != nil {
			return err
		}
		res.Changed = 1
		if limit != nil && m.Used >= *limit {
			res.Warnings = append(res.Warnings, Warning{Field: FieldMonthlyLimit, Message: fmt.Sprintf(
				"This member already used %s credits this cycle, so the limit of %s credits is reached: their flows are paused until it is raised or the cycle ends.",
				m.Used, *limit)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func checkActor(a Actor) error {
	switch a.Source {
	case SourcePage, SourceAPI, SourceOperator:
	default:
		return fmt.Errorf("limits: unknown source %q", a.Source)
	}
	if strings.TrimSpace(a.UserID) == "" {
		return fmt.Errorf("limits: a change needs an actor")
	}
	return nil
}

// change is one audit entry (a row of limit_changes).
type change struct {
	OrgID       string                `db:"org_id"`
	ActorID     string                `db:"actor_id"`
	Source      string                `db:"source"`
	Field       string                `db:"field"`
	MemberID    *string               `db:"member_id"`
	OldMC       *billing.Millicredits `db:"old_mc"`
	NewMC       *billing.Millicredits `db:"new_mc"`
	OldPercents pq.Int64Array         `db:"old_percents"`
	NewPercents pq.Int64Array         `db:"new_percents"`
	CreatedAt   time.Time             `db:"created_at"`
}

// audit writes entries in l's transaction, dated at its time.
func (s *Service) audit(ctx context.Context, l *billing.LedgerTx, actor Actor, entries []change) error {
	for _, e := range entries {
		e.OrgID, e.ActorID, e.Source, e.CreatedAt = l.OrgID(), actor.UserID, actor.Source, l.Now()
		if _, err := l.Tx().NamedExecContext(ctx, q.insertChange, e); err != nil {
			return fmt.Errorf("limits: audit: %w", err)
		}
	}
	return nil
}

func sameCredits(a, b *billing.Millicredits) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func percents(ps []int) pq.Int64Array {
	out := make(pq.Int64Array, len(ps))
	for i, p := range ps {
		out[i] = int64(p)
	}
	return out
}
