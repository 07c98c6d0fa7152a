package notify

import (
	"fmt"
	"strings"

	"github.com/luxstudio/lux-billing/billing"
)

// Message is a notification in words: what the bell, the list and the mails say.
type Message struct {
	Title     string   // one line: the subject of the mail
	Lines     []string // the figures, one sentence each
	Link      string   // where to act (absolute URL)
	LinkLabel string
	Tone      string // "warning", "danger", "success" or "info": how the list marks it
}

// Paths the messages link to (views/paths.go has the same; notify does not import views).
const (
	pathOverview      = "/settings/billing"
	pathLimits        = "/settings/billing/limits"
	pathCredits       = "/settings/billing/credits"
	pathHistory       = "/settings/billing/history"
	pathPlans         = "/settings/billing/plans"
	pathNotifications = "/settings/notifications"
)

func credits(m *billing.Millicredits) string {
	if m == nil {
		return "—"
	}
	return m.String() + " credits"
}

func day(d billing.NoticeData) string {
	if d.CycleEnd == nil {
		return ""
	}
	return d.CycleEnd.UTC().Format("January 2")
}

// Compose says notification kind with its figures d; links are under baseURL.
func Compose(kind string, d billing.NoticeData, baseURL string) Message {
	base := strings.TrimRight(baseURL, "/")
	m := Message{Link: base + pathOverview, LinkLabel: "Open billing", Tone: "info"}
	switch kind {
	case billing.NoticeThresholdReached:
		m.Tone, m.Link, m.LinkLabel = "warning", base+pathLimits, "Review limits"
		if d.Scope == billing.ScopeMember {
			who := "A member"
			if d.MemberEmail != "" {
				who = d.MemberEmail
			}
			m.Title = "A member's monthly credit limit is reached"
			m.Tone = "danger"
			m.Lines = []string{
				fmt.Sprintf("%s has used %s of a monthly limit of %s.", who, credits(d.Used), credits(d.Limit)),
				"Their flows are paused until an admin raises their limit or the next cycle starts.",
			}
			break
		}
		m.Title = fmt.Sprintf("Credit usage reached %d%% of the monthly limit", d.Percent)
		m.Lines = []string{fmt.Sprintf("This cycle's usage is %s of a monthly limit of %s.", credits(d.Used), credits(d.Limit))}
		if d.Paused {
			m.Tone = "danger"
			m.Title = "The monthly credit limit is reached — flows are paused"
			m.Lines = append(m.Lines, "Flows are paused until an admin raises the limit or the next cycle starts.")
		} else if e := day(d); e != "" {
			m.Lines = append(m.Lines, fmt.Sprintf("The cycle ends on %s.", e))
		}
	case billing.NoticeLowBalance:
		m.Tone, m.Link, m.LinkLabel = "warning", base+pathCredits, "Add credits"
		m.Title = "Your credit balance is low"
		m.Lines = []string{fmt.Sprintf("The balance is %s, at or below your alert of %s.", credits(d.Balance), credits(d.LowBalance)),
			"Add credits to keep flows running."}
	case billing.NoticeCreditsExhausted:
		m.Tone, m.Link, m.LinkLabel = "danger", base+pathCredits, "Add credits"
		m.Title = "Credits ran out — flows are paused"
		m.Lines = []string{fmt.Sprintf("The balance is %s.", credits(d.Balance)),
			"Flows are paused. Add credits or upgrade the plan to resume at once."}
	case billing.NoticeResumed:
		m.Tone = "success"
		if d.Scope == billing.ScopeMember {
			m.Title = "A member's flows are running again"
			m.Lines = []string{"Their monthly limit is no longer reached."}
		} else {
			m.Title = "Flows are running again"
			m.Lines = []string{resumedBecause(d.Reason)}
		}
	case billing.NoticePurchaseSucceeded:
		m.Tone, m.Link, m.LinkLabel = "success", base+pathHistory, "See the invoice"
		m.Title = fmt.Sprintf("Purchase of %s succeeded", credits(d.Credits))
		m.Lines = []string{fmt.Sprintf("%s were added for %s.", credits(d.Credits), money(d)),
			fmt.Sprintf("The balance is now %s.", credits(d.Balance))}
	case billing.NoticeRefundIssued:
		m.Link, m.LinkLabel = base+pathHistory, "See the credit note"
		m.Title = fmt.Sprintf("Refund of %s issued", money(d))
		m.Lines = []string{fmt.Sprintf("%s of unused purchased credits were refunded for %s.", credits(d.Credits), money(d))}
	case billing.NoticeStatementReady:
		m.Link, m.LinkLabel = base+pathHistory, "Open History"
		m.Title = "Your monthly statement is ready"
		title := d.PeriodLabel
		if d.DocumentNo != "" {
			title += " (" + d.DocumentNo + ")"
		}
		m.Lines = []string{strings.TrimSpace(title), fmt.Sprintf("Credits used: %s.", credits(d.Used))}
	case billing.NoticeRenewalFailed:
		m.Tone, m.Link, m.LinkLabel = "danger", base+pathPlans, "Review the plan"
		m.Title = "The plan renewal failed"
		when := "the next cycle"
		if d.EffectiveAt != nil {
			when = d.EffectiveAt.UTC().Format("January 2, 2006")
		}
		m.Lines = []string{fmt.Sprintf("The payment for the %s plan did not go through. The organization moves to Free on %s unless the payment succeeds.", strings.ToUpper(d.Plan[:min(1, len(d.Plan))])+d.Plan[min(1, len(d.Plan)):], when),
			"Purchased credits are kept."}
	default:
		m.Title = kind
	}
	return m
}

func resumedBecause(reason string) string {
	switch reason {
	case billing.ReasonCreditsExhausted:
		return "Credits were added, so flows resumed."
	case billing.ReasonMonthlyLimitReached:
		return "The monthly limit is no longer reached (it was raised, or a new cycle started), so flows resumed."
	}
	return "Flows resumed."
}

func money(d billing.NoticeData) string {
	if d.Amount == nil {
		return "—"
	}
	if strings.EqualFold(d.Currency, "usd") || d.Currency == "" {
		return d.Amount.String()
	}
	return fmt.Sprintf("%d.%02d %s", int64(*d.Amount)/100, int64(*d.Amount)%100, strings.ToUpper(d.Currency))
}
