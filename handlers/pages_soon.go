package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/views"
)

// The billing pages below are frames for features of later releases: each says what it will
// do and shows the figures already at hand, so no link of the nav leads nowhere.

// AddCredits is the Add Credits page, for admins (GET /settings/billing/credits).
func (h *Pages) AddCredits(c echo.Context) error {
	cs, err := h.Billing.Credits(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ComingSoonPage(views.ComingSoon{
		Shell:    h.Shell(c, views.NavCredits, "Add credits"),
		Heading:  "Add credits",
		Subtitle: "Buy credits that never expire, on top of your plan's monthly allotment.",
		Icon:     "plus",
		Lead:     "Buying credits online is almost here. Purchased credits are used after the monthly allotment and never expire.",
		Points: []string{
			"Packs of 1,000, 5,000, 10,000 or 50,000 credits, or a custom amount",
			"Secure payment through Stripe Checkout; credits arrive as soon as the payment succeeds",
			"Unused purchased credits refundable within 30 days",
		},
		Facts: []views.Fact{
			{Label: "Available balance", Value: views.Credits(cs.Balance) + " credits"},
			{Label: "Purchased credits left", Value: views.Credits(cs.Purchased) + " credits"},
			{Label: "Plan", Value: cs.Plan.Name + " · " + views.PlanCredits(cs.Plan)},
		},
	}))
}

// Limits is the limits page, for admins (GET /settings/billing/limits).
func (h *Pages) Limits(c echo.Context) error {
	cs, err := h.Billing.Credits(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	limit := "None"
	if cs.MonthlyLimit != nil {
		limit = views.Credits(*cs.MonthlyLimit) + " credits"
	}
	loc, now := location(cs.Timezone), h.Billing.Now()
	return Render(c, http.StatusOK, views.ComingSoonPage(views.ComingSoon{
		Shell:    h.Shell(c, views.NavLimits, "Limits"),
		Heading:  "Limits",
		Subtitle: "Cap what flows may spend each month, and hear about it before they do.",
		Icon:     "sliders",
		Lead:     "Setting limits from this page is almost here.",
		Points: []string{
			"An optional monthly credit limit for the whole organization",
			"Email and in-app alerts at the percentages you choose",
			"A monthly limit for each member; raising a limit resumes flows at once",
		},
		Facts: []views.Fact{
			{Label: "Monthly limit", Value: limit},
			{Label: "Used this cycle", Value: views.Credits(cs.CycleUsed) + " credits"},
			{Label: "Cycle resets", Value: views.ShortDate(cs.CycleEnd, loc, now)},
		},
	}))
}
