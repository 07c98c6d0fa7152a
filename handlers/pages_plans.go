package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// recentCycles is how many past cycles the plans page measures each plan against.
const recentCycles = 3

// Plans compares the plans against the org's recent usage, its own marked, with the changes
// an admin can make (GET /settings/billing/plans).
func (h *Pages) Plans(c echo.Context) error {
	v, err := h.plansView(c)
	if err != nil {
		return err
	}
	if id := c.QueryParam("checkout"); id != "" {
		v.Checkout, _ = h.Billing.FindPlanCheckout(c.Request().Context(), v.OrgID, id)
	}
	return Render(c, http.StatusOK, views.PlansPage(v))
}

// ChangePlan upgrades (to the provider's checkout) or schedules a downgrade for the next cycle
// (POST /settings/billing/plans, admins, field plan).
func (h *Pages) ChangePlan(c echo.Context) error {
	ctx := c.Request().Context()
	m := viewer(c).Membership
	code := strings.TrimSpace(c.FormValue("plan"))
	qt, err := h.Billing.QuotePlanChange(ctx, m.OrgID, code)
	if err != nil {
		return h.plansRefused(err)
	}
	if qt.Upgrade {
		to, err := h.PlanChanges.StartUpgrade(ctx, m.OrgID, m.UserID, code)
		if err != nil {
			return h.plansRefused(err)
		}
		return redirect(c, to)
	}
	ch, err := h.PlanChanges.ScheduleDowngrade(ctx, m.OrgID, m.UserID, code)
	if err != nil {
		return h.plansRefused(err)
	}
	h.sessions.Flash(c, "Your plan changes to "+qt.To.Name+" on "+views.ShortDate(ch.EffectiveAt, viewer(c).Loc, h.Billing.Now())+". You keep "+qt.From.Name+" until then.")
	return redirect(c, views.PathPlans)
}

// CancelPlanChange keeps the current plan: the downgrade waiting for the next cycle is
// cancelled (POST /settings/billing/plans/cancel, admins).
func (h *Pages) CancelPlanChange(c echo.Context) error {
	m := viewer(c).Membership
	if err := h.PlanChanges.CancelDowngrade(c.Request().Context(), m.OrgID, m.UserID); err != nil {
		return h.plansRefused(err)
	}
	h.sessions.Flash(c, "The plan change is cancelled: you keep your plan.")
	return redirect(c, views.PathPlans)
}

// PlanCheckout is the demo provider's payment page of an upgrade
// (GET /settings/billing/plans/checkout/:id, admins).
func (h *Pages) PlanCheckout(c echo.Context) error {
	return h.planCheckoutPage(c, http.StatusOK, "")
}

// PayPlanCheckout is the demo page's Pay button: the upgrade is fulfilled as Stripe's webhook
// would (POST /settings/billing/plans/checkout/:id, admins).
func (h *Pages) PayPlanCheckout(c echo.Context) error {
	m := viewer(c).Membership
	up, err := h.PlanChanges.PayDemo(c.Request().Context(), m.OrgID, c.Param("id"))
	if err != nil {
		return inline(err, func(c echo.Context, status int, msg string) error {
			return h.planCheckoutPage(c, status, msg)
		})
	}
	h.sessions.Flash(c, "You are on "+up.Plan.Name+" now: "+up.TopUp.String()+" credits were added to this cycle's allotment.")
	return redirect(c, views.PathPlans)
}

func (h *Pages) planCheckoutPage(c echo.Context, status int, msg string) error {
	ctx := c.Request().Context()
	m := viewer(c).Membership
	co, err := h.Billing.FindPlanCheckout(ctx, m.OrgID, c.Param("id"))
	if err != nil {
		return err
	}
	if co.Status != "open" && msg == "" {
		return redirect(c, views.PathPlans)
	}
	st, err := h.Billing.PlanStatus(ctx, m.OrgID)
	if err != nil {
		return err
	}
	plans, err := h.Billing.Plans(ctx)
	if err != nil {
		return err
	}
	v := views.PlanCheckoutPage{Shell: h.Shell(c, views.NavPlans, "Pay for your plan"), Now: h.Billing.Now(),
		Loc: viewer(c).Loc, Checkout: co, Status: st, Error: msg}
	for _, p := range plans {
		if p.Code == co.PlanCode {
			v.Plan = p
		}
	}
	return Render(c, status, views.PlanCheckoutDemoPage(v))
}

// plansRefused shows the page again with why a change was refused (inline for htmx).
func (h *Pages) plansRefused(err error) error {
	return inline(err, func(c echo.Context, status int, msg string) error {
		v, verr := h.plansView(c)
		if verr != nil {
			return verr
		}
		v.Error = msg
		if IsHTMX(c) {
			return Render(c, status, views.PlansBody(v))
		}
		return Render(c, status, views.PlansPage(v))
	})
}

// plansView builds the plans page: each plan with its quote and its fit to recent usage.
func (h *Pages) plansView(c echo.Context) (views.Plans, error) {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	plans, err := h.Billing.Plans(ctx)
	if err != nil {
		return views.Plans{}, err
	}
	st, err := h.Billing.PlanStatus(ctx, org)
	if err != nil {
		return views.Plans{}, err
	}
	cycles, err := h.Billing.RecentCycles(ctx, org, recentCycles)
	if err != nil {
		return views.Plans{}, err
	}
	v := views.Plans{Shell: h.Shell(c, views.NavPlans, "Plans"), Loc: viewer(c).Loc, Now: h.Billing.Now(),
		Status: st, Cycles: cycles, DemoMode: h.PlanChanges.DemoMode(), SalesEmail: h.PlanChanges.SalesEmail()}
	for _, p := range plans {
		card := views.PlanCard{Plan: p, Current: p.Code == st.Plan.Code,
			Pending: st.Pending != nil && st.Pending.ToPlan == p.Code}
		if p.MonthlyCredits != nil {
			fit := billing.FitPlan(p, *p.MonthlyCredits, cycles, h.PlanChanges.CreditPrice())
			card.Fit = &fit
		}
		switch {
		case card.Current:
		case p.Code == billing.PlanEnterprise || st.Plan.Code == billing.PlanEnterprise:
			if p.Code == billing.PlanEnterprise {
				card.Action = "contact"
			}
		case p.MonthlyCredits != nil && *p.MonthlyCredits > st.Allotment:
			card.Action = "upgrade"
			if card.Quote, err = h.Billing.QuotePlanChange(ctx, org, p.Code); err != nil {
				return views.Plans{}, err
			}
		default:
			card.Action = "downgrade"
		}
		v.Cards = append(v.Cards, card)
	}
	return v, nil
}
