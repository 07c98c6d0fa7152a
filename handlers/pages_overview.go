package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

// recentRows is how many entries each activity list of the overview shows.
const recentRows = 6

// Overview is the billing overview of the current organization (GET /settings/billing).
func (h *Pages) Overview(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	org := v.Membership.OrgID
	cs, err := h.Billing.CreditSummary(ctx, org)
	if err != nil {
		return err
	}
	member, err := h.Billing.MemberStanding(ctx, org, v.User.ID)
	if err != nil {
		return err
	}
	usage, err := h.Reports.RecentActivity(ctx, org, reports.ActivityUsage, recentRows)
	if err != nil {
		return err
	}
	credited, err := h.Reports.RecentActivity(ctx, org, reports.ActivityCredits, recentRows)
	if err != nil {
		return err
	}
	forecast, err := h.Reports.Forecast(ctx, org)
	if err != nil {
		return err
	}
	var admins []identity.Contact
	if !v.Membership.IsAdmin() && (cs.Paused || member.Paused()) {
		// A member cannot resume flows: the banner names whom to ask.
		if admins, err = h.Identity.OrgAdmins(ctx, org); err != nil {
			return err
		}
	}
	var paused []limits.Member
	if v.Membership.IsAdmin() && !cs.Paused {
		// Admins hear which members their own limits paused, to raise them.
		standings, err := h.Billing.MemberStandings(ctx, org)
		if err != nil {
			return err
		}
		for _, m := range standings {
			if m.Paused() && m.UserID != v.User.ID {
				paused = append(paused, limits.Member{MemberStanding: m})
			}
		}
		if len(paused) > 0 {
			people, err := h.Identity.OrgMembers(ctx, org)
			if err != nil {
				return err
			}
			for i := range paused {
				p := people[paused[i].UserID]
				paused[i].Email, paused[i].Name = p.Email, p.Name
			}
		}
	}
	return Render(c, http.StatusOK, views.OverviewPage(views.Overview{
		PausedMembers: paused,
		Shell:         h.Shell(c, views.NavOverview, "Billing overview"),
		Now:           h.Billing.Now(),
		Loc:           v.Loc,
		Credits:       cs,
		Member:        member,
		Forecast:      forecast,
		Admins:        admins,
		Usage:         usage,
		Credited:      credited,
		Welcome:       h.sessions.Welcomed(c),
	}))
}
