package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// Account shows the signed-in user's password form and sessions (GET /settings/account).
func (h *Pages) Account(c echo.Context) error {
	return Render(c, http.StatusOK, views.AccountPage(views.Account{Shell: h.Shell(c, views.NavAccount, "Sign-in & security")}))
}

// ChangePassword sets a new password after checking the current one (POST
// /settings/account/password). Every other session of the user ends at once; this browser gets
// a new session and stays signed in. A wrong current password counts against the account's
// sign-in limit (a stolen session cannot guess it faster than a sign-in could). Each mistake is
// shown under its field, and nothing changes.
func (h *Pages) ChangePassword(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	current, next, confirm := c.FormValue(views.FieldCurrent), c.FormValue(views.FieldPassword), c.FormValue(views.FieldConfirm)
	switch {
	case current == "":
		return h.passwordFailed(views.FieldCurrent, billing.Errorf(billing.EINVALID, "Enter your current password."))
	case next == "":
		return h.passwordFailed(views.FieldPassword, billing.Errorf(billing.EINVALID, "Choose a new password."))
	case next != confirm:
		return h.passwordFailed(views.FieldConfirm, billing.Errorf(billing.EINVALID, "The two new passwords differ: type the same one twice."))
	}
	wait, err := h.Identity.TakeSignInAttempt(ctx, v.User.Email)
	if err != nil {
		return err
	}
	if wait > 0 {
		return h.passwordFailed(views.FieldCurrent, tooManyAttempts(c, wait))
	}
	err = h.Identity.ChangePassword(ctx, v.User.ID, current, next)
	if billing.ErrorCode(err) != billing.EUNAUTHORIZED {
		if err := h.Identity.GiveBackSignInAttempt(ctx, v.User.Email); err != nil {
			return err
		}
	}
	switch billing.ErrorCode(err) {
	case "":
	case billing.EUNAUTHORIZED:
		return h.passwordFailed(views.FieldCurrent, billing.Errorf(billing.EINVALID, "That is not your current password."))
	case billing.EINVALID:
		return h.passwordFailed(views.FieldPassword, err)
	default:
		return err
	}
	// The change ended every session of the user, this one too: start this browser's again.
	if err := h.sessions.Login(c, v.User.ID, v.Membership.OrgID); err != nil {
		return err
	}
	h.sessions.Flash(c, "Password changed. You are signed out on every other device.")
	return redirect(c, views.PathAccount)
}

// passwordFailed shows the password form again with err's message under field.
func (h *Pages) passwordFailed(field string, err error) error {
	return inline(err, func(c echo.Context, status int, msg string) error {
		v := views.Account{Shell: h.Shell(c, views.NavAccount, "Sign-in & security"), Field: field, Error: msg}
		return renderForm(c, status, views.PasswordForm(v), views.AccountPage(v))
	})
}

// Members lists the people of the viewer's organization (GET /settings/members); admins see
// a Remove button beside everyone else.
func (h *Pages) Members(c echo.Context) error {
	v := viewer(c)
	ms, err := h.Identity.Members(c.Request().Context(), v.Membership.OrgID)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.MembersPage(views.Members{Shell: h.Shell(c, views.NavMembers, "Members"),
		Members: ms, UserID: v.User.ID, Loc: v.Loc, Now: h.Billing.Now()}))
}

// RemoveMember takes someone out of the admin's organization (POST
// /settings/members/:userID/remove, admins): their sessions end and their API keys of the org
// stop working at once. An admin does not remove themselves here (another admin does), and the
// last admin is never removed; someone who is not a member of this organization is not found,
// whether or not they exist.
func (h *Pages) RemoveMember(c echo.Context) error {
	v := viewer(c)
	userID := c.Param("userID")
	if userID == v.User.ID {
		return billing.Errorf(billing.ECONFLICT, "you cannot remove yourself: ask another admin to remove you")
	}
	ctx := c.Request().Context()
	m, err := h.Identity.FindMembership(ctx, v.Membership.OrgID, userID)
	if billing.ErrorCode(err) == billing.ENOTFOUND {
		return billing.Errorf(billing.ENOTFOUND, "there is no such member in %s", v.Membership.OrgName)
	}
	if err != nil {
		return err
	}
	u, err := h.Identity.FindUserByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := h.Identity.RemoveMember(ctx, v.Membership.OrgID, userID); err != nil {
		return err
	}
	h.sessions.Flash(c, views.DisplayName(u.Name, u.Email)+" was removed from "+m.OrgName+": signed out, and their API keys no longer work.")
	return redirect(c, views.PathMembers)
}
