package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/views"
)

// Plans compares the plans, the organization's own marked (GET /settings/billing/plans).
func (h *Pages) Plans(c echo.Context) error {
	ctx := c.Request().Context()
	plans, err := h.Billing.Plans(ctx)
	if err != nil {
		return err
	}
	cs, err := h.Billing.Credits(ctx, viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.PlansPage(views.Plans{
		Shell:   h.Shell(c, views.NavPlans, "Plans"),
		Plans:   plans,
		Current: cs.Plan.Code,
	}))
}
