package views

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// cycleLabel is a cycle's span: "Nov 1 – Dec 1".
func cycleLabel(start, end time.Time, loc *time.Location, now time.Time) string {
	return ShortDate(start, loc, now) + " – " + ShortDate(end, loc, now)
}

// planName is the name of plan code among the page's cards.
func planName(v Plans, code string) string {
	for _, c := range v.Cards {
		if c.Plan.Code == code {
			return c.Plan.Name
		}
	}
	return code
}

func pendingBannerClass(c *billing.PlanChange) string {
	if c.Reason == billing.ChangeRenewalFailed {
		return "banner-danger"
	}
	return "banner-info"
}

// pendingTitle says what waits for the next cycle.
func pendingTitle(v Plans) string {
	p := v.Status.Pending
	name := planName(v, p.ToPlan)
	if p.Reason == billing.ChangeRenewalFailed {
		return "Your plan's renewal was not paid"
	}
	return fmt.Sprintf("Changing to %s on %s", name, ShortDate(p.EffectiveAt, v.Loc, v.Now))
}

func pendingDetail(v Plans) string {
	p := v.Status.Pending
	name := planName(v, p.ToPlan)
	allot := ""
	if v.Status.PendingPlan != nil && v.Status.PendingPlan.MonthlyCredits != nil {
		allot = " with " + v.Status.PendingPlan.MonthlyCredits.String() + " credits a month"
	} else if p.CustomAllotment != nil {
		allot = " with " + p.CustomAllotment.String() + " credits a month"
	}
	switch p.Reason {
	case billing.ChangeRenewalFailed:
		return fmt.Sprintf("Your organization moves to %s%s on %s. This cycle's credits and every purchased credit stay. Upgrade again to keep a paid plan.",
			name, allot, ShortDate(p.EffectiveAt, v.Loc, v.Now))
	case billing.ChangeOperator:
		return fmt.Sprintf("Your account manager moves you to %s%s from your next cycle.", name, allot)
	}
	return fmt.Sprintf("You keep %s and its credits until then; from the next cycle you get %s%s. Purchased credits stay.", v.Status.Plan.Name, name, allot)
}

// fitTitle heads a card's recent cycles.
func fitTitle(cycles []billing.CycleUsage) string {
	if len(cycles) == 1 && cycles[0].Current {
		return "Your usage this cycle so far"
	}
	if len(cycles) == 1 {
		return "Your last cycle"
	}
	return fmt.Sprintf("Your last %d cycles", len(cycles))
}

// fitNote says whether the plan covers the heaviest recent cycle, or what buying credits on
// top would cost instead.
func fitNote(f *billing.PlanFit) string {
	if f.TopUp == 0 {
		return "Covers every one of these cycles."
	}
	return fmt.Sprintf("Heaviest cycle: %s credits to buy on top (%s), %s that month in all.",
		f.TopUp, f.TopUpPrice, f.MonthlyCost)
}

// upgradeNote says what an upgrade costs now and gives at once.
func upgradeNote(q *billing.PlanChangeQuote, loc *time.Location, now time.Time) string {
	if q == nil {
		return ""
	}
	return fmt.Sprintf("%s now (pro rata until %s), then %s a cycle. +%s credits at once.",
		q.Price, ShortDate(q.CycleEnd, loc, now), PlanPrice(q.To), q.TopUp)
}

// salesMailto is the Enterprise enquiry: a mail to sales naming the organization.
func salesMailto(v Plans) string {
	q := url.Values{}
	q.Set("subject", "Enterprise plan for "+v.OrgName)
	q.Set("body", fmt.Sprintf("Organization: %s (%s)\nCurrent plan: %s\n", v.OrgName, v.OrgID, v.Status.Plan.Name))
	// Mail clients read "+" literally: spaces are %20.
	return "mailto:" + v.SalesEmail + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

// wholeCredits formats m rounded to the nearest whole credit ("62,177").
func wholeCredits(m billing.Millicredits) string {
	return billing.Thousands((int64(m) + int64(billing.Credit)/2) / int64(billing.Credit))
}
