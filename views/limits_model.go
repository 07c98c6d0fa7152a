package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/limits"
)

// Limits is /settings/billing/limits: the organization's monthly limit, alert thresholds and
// low-balance alert, its members' limits and usage this cycle, and the audit log. Admins edit;
// members read the organization's settings and their own row.
type Limits struct {
	Shell
	Now      time.Time
	Loc      *time.Location
	Overview *limits.Overview // for a member, already narrowed to what they may see
	Form     LimitsForm
	Rows     []MemberLimitRow
}

// LimitsForm is the organization's settings as typed, with a message per field.
type LimitsForm struct {
	CSRF         string
	Editable     bool // an admin's
	MonthlyLimit string
	Thresholds   []string // as typed; one empty field more is shown to add one
	LowBalance   string
	Errors       map[string]string // limits.Field* → message
	Warnings     map[string]string // limits.Field* → message (saved, but look)
	Saved        bool
	// CycleUsed, CycleStart, CycleEnd and Limit describe the cycle, for the meter.
	CycleUsed  billing.Millicredits
	Limit      *billing.Millicredits
	CycleStart time.Time
	CycleEnd   time.Time
	Now        time.Time
	Loc        *time.Location
}

// MemberLimitRow is one member of the table, with their limit as typed when an admin edits it.
type MemberLimitRow struct {
	CSRF     string
	Editable bool
	Member   limits.Member
	Value    string // the limit field as typed
	Error    string
	Warning  string
	Saved    bool
	You      bool // the signed-in user
}

// NewLimitsForm fills the settings form from the settings in force.
func NewLimitsForm(o *limits.Overview, csrf string, editable bool, now time.Time, loc *time.Location) LimitsForm {
	f := LimitsForm{CSRF: csrf, Editable: editable, MonthlyLimit: creditsField(o.MonthlyLimit),
		LowBalance: creditsField(o.LowBalance), CycleUsed: o.CycleUsed, Limit: o.MonthlyLimit,
		CycleStart: o.CycleStart, CycleEnd: o.CycleEnd, Now: now, Loc: loc}
	for _, p := range o.Thresholds {
		f.Thresholds = append(f.Thresholds, strconv.Itoa(p))
	}
	return f
}

// NewMemberLimitRow is a member's row as in force.
func NewMemberLimitRow(m limits.Member, csrf string, editable bool, viewerID string) MemberLimitRow {
	return MemberLimitRow{CSRF: csrf, Editable: editable, Member: m, Value: creditsField(m.Limit), You: m.UserID == viewerID}
}

// creditsField writes an amount for an input ("150,000", "7.5"); "" for none.
func creditsField(m *billing.Millicredits) string {
	if m == nil {
		return ""
	}
	return FormatCredits(*m)
}

// thresholdFields are the threshold inputs: those typed, and one empty to add one (up to the
// maximum).
func thresholdFields(f LimitsForm) []string {
	out := append([]string(nil), f.Thresholds...)
	if len(out) < billing.MaxThresholds {
		out = append(out, "")
	}
	return out
}

// percentList writes thresholds for people: "50%, 80%, 100%", or "None".
func percentList(ps []int64) string {
	typed := make([]string, len(ps))
	for i, p := range ps {
		typed[i] = strconv.FormatInt(p, 10)
	}
	return percentText(typed)
}

// creditsOrNone writes an amount of credits, or "None".
func creditsOrNone(m *billing.Millicredits) string {
	if m == nil {
		return "None"
	}
	return FormatCredits(*m) + " credits"
}

// auditWhat names what an audit entry changed.
func auditWhat(e limits.Entry) string {
	switch e.Field {
	case limits.AuditMonthlyLimit:
		return "Monthly limit"
	case limits.AuditThresholds:
		return "Alert thresholds"
	case limits.AuditLowBalance:
		return "Low-balance alert"
	case limits.AuditMemberLimit:
		return "Limit of " + e.Member
	}
	return e.Field
}

// auditValues writes an audit entry's old and new values.
func auditValues(e limits.Entry) (string, string) {
	if e.Field == limits.AuditThresholds {
		return percentList(e.OldPercents), percentList(e.NewPercents)
	}
	return creditsOrNone(e.OldMC), creditsOrNone(e.NewMC)
}

// auditSource says where a change was made.
func auditSource(s string) string {
	switch s {
	case limits.SourceAPI:
		return "API key"
	case limits.SourceOperator:
		return "operator"
	}
	return "this page"
}

// thresholdLabel names the i-th threshold field for screen readers.
func thresholdLabel(i int) string { return "Alert threshold " + strconv.Itoa(i+1) + ", percent" }

// percentText writes thresholds as typed: "50%, 80%, 100%", or "None".
func percentText(ps []string) string {
	if len(ps) == 0 {
		return "None"
	}
	return strings.Join(ps, "%, ") + "%"
}

// creditsText writes an amount as typed ("10000"), or "None".
func creditsText(s string) string {
	m, err := billing.ParseCredits(s)
	if s == "" || err != nil {
		return "None"
	}
	return FormatCredits(m) + " credits"
}

// oobAttrs marks an element for an out-of-band swap.
func oobAttrs(oob bool) templ.Attributes {
	if oob {
		return templ.Attributes{"hx-swap-oob": "true"}
	}
	return templ.Attributes{}
}
