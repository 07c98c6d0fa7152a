package views

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// FormatCredits formats an amount for people: thousands separated, up to three decimals ("12,345.5").
func FormatCredits(m billing.Millicredits) string { return m.String() }

// SignedCredits formats an amount with its sign: "+1,000" or "−12.5" (a true minus sign).
func SignedCredits(m billing.Millicredits) string {
	switch {
	case m > 0:
		return "+" + m.String()
	case m < 0:
		return "−" + (-m).String()
	}
	return "0"
}

// ShortDate formats t in loc as "Dec 14", adding the year when it is not now's year.
func ShortDate(t time.Time, loc *time.Location, now time.Time) string {
	t, now = in(t, loc), in(now, loc)
	if t.Year() != now.Year() {
		return t.Format("Jan 2, 2006")
	}
	return t.Format("Jan 2")
}

// When formats an instant of recent activity in loc: "Today, 14:05", "Yesterday, 09:00",
// "Nov 26, 14:05" or, in another year, "Nov 26, 2025".
func When(t time.Time, loc *time.Location, now time.Time) string {
	t, now = in(t, loc), in(now, loc)
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
	switch {
	case !t.Before(today) && t.Before(today.AddDate(0, 0, 1)):
		return "Today, " + t.Format("15:04")
	case !t.Before(today.AddDate(0, 0, -1)) && t.Before(today):
		return "Yesterday, " + t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 2, 15:04")
	}
	return t.Format("Jan 2, 2006")
}

// DaysLeft says how long until t: "in 3 days", "tomorrow", "today".
func DaysLeft(t time.Time, loc *time.Location, now time.Time) string {
	t, now = in(t, loc), in(now, loc)
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	days := int(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC).Sub(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	switch {
	case days <= 0:
		return "today"
	case days == 1:
		return "tomorrow"
	}
	return fmt.Sprintf("in %d days", days)
}

func in(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc)
}

// Percent returns used as a whole percentage of limit, clamped to 0–100 (0 when limit ≤ 0).
func Percent(used, limit billing.Millicredits) int {
	if limit <= 0 || used <= 0 {
		return 0
	}
	p := int64(used) * 100 / int64(limit)
	if p > 100 {
		return 100
	}
	if p == 0 {
		return 1 // something was used: show a sliver
	}
	return int(p)
}

// meterClass colours a meter by how full it is.
func meterClass(pct int) string {
	switch {
	case pct >= 100:
		return "meter full"
	case pct >= 80:
		return "meter warn"
	}
	return "meter"
}

// widthStyle is the inline width of a meter's bar.
func widthStyle(pct int) string { return fmt.Sprintf("width: %d%%", pct) }

// PlanPrice formats a plan's monthly price: "Free", "$249", or "Custom" for Enterprise.
func PlanPrice(p billing.Plan) string {
	switch {
	case p.MonthlyCredits == nil:
		return "Custom"
	case p.PriceCents == 0:
		return "Free"
	}
	s := p.PriceCents.String()
	return strings.TrimSuffix(s, ".00")
}

// PlanCredits formats a plan's monthly allotment: "100,000 credits / month".
func PlanCredits(p billing.Plan) string {
	if p.MonthlyCredits == nil {
		return "Custom monthly credits"
	}
	return p.MonthlyCredits.String() + " credits / month"
}

// RatePrice formats a rate for people: "5 credits per 1K tokens", "1 credit per email",
// "5 credits per started minute".
func RatePrice(r billing.Rate) string {
	if r.Unit == "seconds" && r.UnitSize == 60 {
		return creditsWord(r.PerUnit) + " per started minute"
	}
	per, scale := int64(1), ""
	for _, s := range []struct {
		n     int64
		label string
	}{{1, ""}, {1000, "1K "}, {1_000_000, "1M "}} {
		per, scale = s.n, s.label
		if int64(r.PerUnit)*s.n >= int64(billing.Credit) {
			break
		}
	}
	unit := r.Unit
	if per == 1 {
		unit = strings.TrimSuffix(unit, "s")
		if scale == "" {
			return creditsWord(r.PerUnit) + " per " + unit
		}
	}
	return creditsWord(billing.Millicredits(int64(r.PerUnit)*per)) + " per " + scale + unit
}

func creditsWord(m billing.Millicredits) string {
	if m == billing.Credit {
		return "1 credit"
	}
	return m.String() + " credits"
}

// RateName names a rate's type and model: "AI · Claude Sonnet", "SMS".
func RateName(r billing.Rate) string {
	if r.Model == "" {
		return billing.TypeLabel(r.Type)
	}
	label := r.Label
	if label == "" {
		label = r.Model
	}
	return billing.TypeLabel(r.Type) + " · " + label
}

// Initials returns up to two initials of a name, or the first letter of an email.
func Initials(name, email string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			out = append(out, unicode.ToUpper(r))
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 && email != "" {
		r, _ := utf8.DecodeRuneInString(email)
		out = append(out, unicode.ToUpper(r))
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// DisplayName is a person's name, or their email when they gave none.
func DisplayName(name, email string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return email
}

// Sentence makes a domain message read as a sentence: a capital first letter and a full stop.
func Sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(msg)
	msg = string(unicode.ToUpper(r)) + msg[n:]
	if !strings.HasSuffix(msg, ".") && !strings.HasSuffix(msg, "!") && !strings.HasSuffix(msg, "?") {
		msg += "."
	}
	return msg
}

// RoleLabel names a role for people.
func RoleLabel(role string) string {
	if role == identity.RoleAdmin {
		return "Admin"
	}
	return "Member"
}

// csrfHeaders is the hx-headers value that makes every htmx request carry the CSRF token.
func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

// pageTitle is the document title: "Billing overview · Acme Robotics · Lux".
func pageTitle(title, org string) string {
	parts := []string{}
	for _, p := range []string{title, org, "Lux"} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " · ")
}

// activityIcon picks the icon of a ledger entry.
func activityIcon(a reports.Activity) string {
	switch {
	case a.Kind == "usage":
		return "zap"
	case a.Kind == "expiry":
		return "clock"
	case a.Kind == "refund":
		return "undo"
	case a.GrantKind == billing.GrantPurchase:
		return "card"
	case a.GrantKind == billing.GrantPlanAllotment:
		return "refresh"
	}
	return "gift"
}

// eventsMemo matches the memo of a usage entry covering several events ("Usage: 49 events").
var eventsMemo = regexp.MustCompile(`^(\d+) events$`)

// activityTitle is the first line of a ledger entry: what the usage was ("49 usage events",
// "Email (flow_1)"), or the kind of credit.
func activityTitle(a reports.Activity) string {
	if a.Kind != "usage" {
		return a.Label()
	}
	memo := strings.TrimPrefix(a.Memo, "Usage: ")
	if m := eventsMemo.FindStringSubmatch(memo); m != nil {
		return m[1] + " usage events"
	}
	if memo == "" {
		return "Usage"
	}
	return memo
}

// activityDetail adds to the entry's time what the title does not say: the memo of a promo,
// an adjustment or a refund, and any part of usage that became arrears.
func activityDetail(a reports.Activity) string {
	var parts []string
	switch {
	case a.Kind == "refund" || a.Kind == "adjustment",
		a.Kind == "grant" && (a.GrantKind == billing.GrantPromo || a.GrantKind == billing.GrantAdjustment || a.GrantKind == billing.GrantFreeTier):
		if a.Memo != "" && !strings.EqualFold(a.Memo, a.Label()) {
			parts = append(parts, a.Memo)
		}
	}
	if a.Unfunded > 0 {
		parts = append(parts, a.Unfunded.String()+" not covered (arrears)")
	}
	return strings.Join(parts, " · ")
}

// amountClass colours an amount by its sign.
func amountClass(m billing.Millicredits) string {
	if m > 0 {
		return "amount plus"
	}
	return "amount minus"
}

// iconClass colours an activity icon by the entry's sign.
func iconClass(a reports.Activity) string {
	switch {
	case a.Amount > 0:
		return "activity-icon plus"
	case a.Kind == "expiry":
		return "activity-icon minus-red"
	}
	return "activity-icon"
}

// minPassword is the shortest password sign-up accepts.
const minPassword = identity.MinPasswordLength
