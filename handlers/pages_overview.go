package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// recentRows is how many entries each activity list of the overview shows.
const recentRows = 6

// Overview is the billing overview of the current organization (GET /settings/billing).
func (h *Pages) Overview(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	org := v.Membership.OrgID
	cs, err := h.billing.Credits(ctx, org)
	if err != nil {
		return err
	}
	member, err := h.billing.MemberStanding(ctx, org, v.User.ID)
	if err != nil {
		return err
	}
	usage, err := h.billing.RecentActivity(ctx, org, billing.ActivityUsage, recentRows)
	if err != nil {
		return err
	}
	credited, err := h.billing.RecentActivity(ctx, org, billing.ActivityCredits, recentRows)
	if err != nil {
		return err
	}
	forecast, err := h.billing.Forecast(ctx, org)
	if err != nil {
		return err
	}
	var admins []billing.Contact
	if !v.Membership.IsAdmin() && (cs.Paused || member.Paused()) {
		// A member cannot resume flows: the banner names whom to ask.
		if admins, err = h.billing.OrgAdmins(ctx, org); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, views.OverviewPage(views.Overview{
		Shell:    h.shell(c, views.NavOverview, "Billing overview"),
		Now:      h.billing.Now(),
		Loc:      location(cs.Timezone),
		Credits:  cs,
		Member:   member,
		Forecast: forecast,
		Admins:   admins,
		Usage:    usage,
		Credited: credited,
		Welcome:  len(h.sessions.popFlashes(c, welcomeKey)) > 0,
	}))
}
