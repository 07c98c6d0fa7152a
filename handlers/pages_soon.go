package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/views"
)

// The billing pages below are frames for features of later releases: each says what it will
// do and shows the figures already at hand, so no link of the nav leads nowhere.

// Limits is the limits page, for admins (GET /settings/billing/limits).
func (h *Pages) Limits(c echo.Context) error {
	cs, err := h.Billing.CreditSummary(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	limit := "None"
	if cs.MonthlyLimit != nil {
		limit = views.FormatCredits(*cs.MonthlyLimit) + " credits"
	}
	loc, now := viewer(c).Loc, h.Billing.Now()
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
			{Label: "Used this cycle", Value: views.FormatCredits(cs.CycleUsed) + " credits"},
			{Label: "Cycle resets", Value: views.ShortDate(cs.CycleEnd, loc, now)},
		},
	}))
}
