package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/limits"
	"github.com/luxstudio/lux-billing/views"
)

// LimitsPage is the limits page (GET /settings/billing/limits): admins edit the organization's
// limit, thresholds, low-balance alert and members' limits; members read the organization's
// settings and their own limit.
func (h *Pages) LimitsPage(c echo.Context) error {
	v, err := h.limitsView(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.LimitsPage(*v))
}

// limitsView is the page as the viewer may see it, with the settings and rows in force.
func (h *Pages) limitsView(c echo.Context) (*views.Limits, error) {
	v := viewer(c)
	o, err := h.Limits.Overview(c.Request().Context(), v.Membership.OrgID)
	if err != nil {
		return nil, err
	}
	admin := v.Membership.IsAdmin()
	if !admin {
		o = o.For(v.User.ID)
	}
	now, csrf := h.Billing.Now(), CSRFToken(c)
	page := &views.Limits{Shell: h.Shell(c, views.NavLimits, "Limits"), Now: now, Loc: v.Loc, Overview: o,
		Form: views.NewLimitsForm(o, csrf, admin, now, v.Loc)}
	for _, m := range o.Members {
		page.Rows = append(page.Rows, views.NewMemberLimitRow(m, csrf, admin, v.User.ID))
	}
	return page, nil
}

// SaveLimits saves the organization's monthly limit, thresholds and low-balance alert, for
// admins (POST /settings/billing/limits). Wrong fields show the form again with a message next
// to each, and nothing changes.
func (h *Pages) SaveLimits(c echo.Context) error {
	v := viewer(c)
	form, err := c.FormParams()
	if err != nil {
		return invalid("the form could not be read")
	}
	typed := views.LimitsForm{MonthlyLimit: strings.TrimSpace(form.Get(limits.FieldMonthlyLimit)),
		LowBalance: strings.TrimSpace(form.Get(limits.FieldLowBalance))}
	for _, p := range form["threshold"] {
		if p = strings.TrimSpace(p); p != "" {
			typed.Thresholds = append(typed.Thresholds, p)
		}
	}
	ch, bad := parseLimitsForm(typed)
	var res *limits.Result
	if bad.Err() == nil {
		res, err = h.Limits.Update(c.Request().Context(), v.Membership.OrgID, limits.Actor{UserID: v.User.ID, Source: limits.SourcePage}, ch)
	} else {
		err = bad
	}
	if err != nil {
		if !errors.As(err, &bad) {
			return err
		}
		return inline(err, func(c echo.Context, status int, _ string) error {
			page, err := h.limitsView(c)
			if err != nil {
				return err
			}
			f := page.Form
			f.MonthlyLimit, f.LowBalance, f.Thresholds = typed.MonthlyLimit, typed.LowBalance, typed.Thresholds
			f.Errors = map[string]string{}
			for _, fe := range bad.Fields {
				f.Errors[fe.Field] = views.Sentence(fe.Message)
			}
			page.Form = f
			return renderForm(c, status, views.LimitsSettings(f), views.LimitsPage(*page))
		})
	}
	if !IsHTMX(c) {
		h.sessions.Flash(c, "Limits saved.")
		for _, w := range res.Warnings {
			h.sessions.Flash(c, w.Message)
		}
		return redirect(c, views.PathLimits)
	}
	page, err := h.limitsView(c)
	if err != nil {
		return err
	}
	f := page.Form
	f.Saved, f.Warnings = true, map[string]string{}
	for _, w := range res.Warnings {
		f.Warnings[w.Field] = w.Message
	}
	return Render(c, http.StatusOK, templ.Join(views.LimitsSettings(f), views.LimitsAudit(page.Overview.Changes, page.Now, page.Loc, true)))
}

// SaveMemberLimit sets or clears one member's own monthly limit, for admins (POST
// /settings/billing/limits/members/{userID}). htmx gets the members' table back with the row's
// outcome (and the audit log out of band); a wrong value shows the row with its message and
// changes nothing.
func (h *Pages) SaveMemberLimit(c echo.Context) error {
	v := viewer(c)
	userID, err := pathParam(c, "userID")
	if err != nil {
		return err
	}
	typed := strings.TrimSpace(c.FormValue(limits.FieldMonthlyLimit))
	limit, perr := parseCreditsField(typed)
	var res *limits.Result
	if perr == nil {
		res, err = h.Limits.SetMemberLimit(c.Request().Context(), v.Membership.OrgID, limits.Actor{UserID: v.User.ID, Source: limits.SourcePage}, userID, limit)
	} else {
		bad := &limits.Invalid{}
		bad.Add(limits.FieldMonthlyLimit, perr)
		err = bad
	}
	var bad *limits.Invalid
	if err != nil && !errors.As(err, &bad) {
		return err
	}
	if err == nil && !IsHTMX(c) {
		h.sessions.Flash(c, "Member limit saved.")
		for _, w := range res.Warnings {
			h.sessions.Flash(c, w.Message)
		}
		return redirect(c, views.PathLimits+"#member-"+userID)
	}
	show := func(c echo.Context, status int, _ string) error {
		page, err := h.limitsView(c)
		if err != nil {
			return err
		}
		var row *views.MemberLimitRow
		for i := range page.Rows {
			if page.Rows[i].Member.UserID == userID {
				row = &page.Rows[i]
			}
		}
		if row == nil {
			return billing.Errorf(billing.ENOTFOUND, "that user is not a member of this organization")
		}
		if bad != nil {
			row.Value, row.Error = typed, views.Sentence(bad.Fields[0].Message)
		} else {
			row.Saved = true
			if len(res.Warnings) > 0 {
				row.Warning = res.Warnings[0].Message
			}
		}
		if !IsHTMX(c) {
			return Render(c, status, views.LimitsPage(*page))
		}
		return Render(c, status, templ.Join(views.MemberLimits(*page), views.LimitsAudit(page.Overview.Changes, page.Now, page.Loc, true)))
	}
	if bad != nil {
		return inline(err, show)
	}
	return show(c, http.StatusOK, "")
}

// parseLimitsForm reads the settings form: amounts of credits ("150,000", "7.5"; empty: none)
// and whole percents ("80" or "80%"). Every field that cannot be read is named; the rules
// (ranges, duplicates) are the domain's, checked the same way for every field that can.
func parseLimitsForm(f views.LimitsForm) (limits.Change, *limits.Invalid) {
	ch := limits.Change{SetMonthlyLimit: true, SetThresholds: true, SetLowBalance: true, Thresholds: []int{}}
	bad := &limits.Invalid{}
	var err error
	if ch.MonthlyLimit, err = parseCreditsField(f.MonthlyLimit); err != nil {
		bad.Add(limits.FieldMonthlyLimit, err)
		ch.SetMonthlyLimit = false
	}
	if ch.LowBalance, err = parseCreditsField(f.LowBalance); err != nil {
		bad.Add(limits.FieldLowBalance, err)
		ch.SetLowBalance = false
	}
	for _, s := range f.Thresholds {
		p, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(s, "%")))
		if err != nil {
			bad.Add(limits.FieldThresholds, billing.Errorf(billing.EINVALID, "%q is not a whole percent: use whole numbers from 1 to 100", s))
			ch.SetThresholds = false
			break
		}
		ch.Thresholds = append(ch.Thresholds, p)
	}
	if more := ch.Check(); more != nil {
		bad.Fields = append(bad.Fields, more.Fields...)
	}
	return ch, bad
}

// parseCreditsField reads an amount of credits typed in a form; empty is nil (none).
func parseCreditsField(s string) (*billing.Millicredits, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	m, err := billing.ParseCredits(s)
	if err != nil {
		return nil, err
	}
	return &m, nil
}
