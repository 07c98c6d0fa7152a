package handlers

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/views"
)

// LoginPage shows the sign-in form (GET /login); someone signed in goes on to billing.
func (h *Pages) LoginPage(c echo.Context) error {
	next := SafeNext(c.QueryParam("next"))
	if h.sessions.SignedIn(c) {
		return c.Redirect(http.StatusSeeOther, orDefault(next, views.PathOverview))
	}
	v := views.Login{CSRF: CSRFToken(c), Next: next, Flashes: h.sessions.Flashes(c)}
	switch {
	case c.QueryParam("signed_out") != "":
		v.Notice = "You are signed out."
	case next != "":
		v.Notice = "Sign in to continue."
	}
	return Render(c, http.StatusOK, views.LoginPage(v))
}

// Login signs a person in (POST /login). A wrong email or password is a 401 with the form and
// its message; too many failures from one address, for one email from one address (this
// server's counts), or for one email from anywhere (every server's count), are a 429 that says
// how long to wait.
func (h *Pages) Login(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.TrimSpace(c.FormValue("email"))
	v := views.Login{CSRF: CSRFToken(c), Email: email, Next: SafeNext(c.FormValue("next"))}
	ip := c.RealIP()
	userKey := strings.ToLower(email) + "|" + ip
	if wait := max(h.loginByUser.Wait(userKey), h.loginByIP.Wait(ip)); wait > 0 {
		return h.loginFailed(v, tooManyAttempts(c, wait))
	}
	if email == "" || c.FormValue("password") == "" {
		return h.loginFailed(v, billing.Errorf(billing.EINVALID, "Enter your email and password."))
	}
	wait, err := h.Identity.TakeSignInAttempt(ctx, email)
	if err != nil {
		return err
	}
	if wait > 0 {
		return h.loginFailed(v, tooManyAttempts(c, wait))
	}
	user, err := h.Identity.Authenticate(ctx, email, c.FormValue("password"))
	if err != nil {
		if billing.ErrorCode(err) == billing.EUNAUTHORIZED {
			h.loginByUser.Hit(userKey)
			h.loginByIP.Hit(ip)
		} else if err := h.Identity.GiveBackSignInAttempt(ctx, email); err != nil {
			return err
		}
		return h.loginFailed(v, err)
	}
	if err := h.Identity.GiveBackSignInAttempt(ctx, email); err != nil {
		return err
	}
	h.loginByUser.Reset(userKey)
	ms, err := h.Identity.Memberships(ctx, user.ID)
	if err != nil {
		return err
	}
	// Open the org last used on this browser if the user is still in it, else their first.
	org, last := "", h.sessions.LastOrg(c)
	for i, m := range ms {
		if i == 0 || m.OrgID == last {
			org = m.OrgID
		}
	}
	if err := h.sessions.Login(c, user.ID, org); err != nil {
		return err
	}
	return redirect(c, orDefault(v.Next, "/settings/billing"))
}

// tooManyAttempts is the 429 of a throttled sign-in, with its Retry-After header.
func tooManyAttempts(c echo.Context, wait time.Duration) error {
	c.Response().Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
	return billing.Errorf(billing.ERATELIMIT, "Too many sign-in attempts. Wait %s, then try again.", humanWait(wait))
}

// loginFailed answers a failed sign-in with the form and err's message (see Inline): the form
// alone for htmx, the whole page otherwise.
func (h *Pages) loginFailed(v views.Login, err error) error {
	return inline(err, func(c echo.Context, status int, msg string) error {
		v.Error = msg
		return renderForm(c, status, views.LoginForm(v), views.LoginPage(v))
	})
}

// SignupPage shows the sign-up form (GET /signup); someone signed in goes on to billing.
func (h *Pages) SignupPage(c echo.Context) error {
	if h.sessions.SignedIn(c) {
		return c.Redirect(http.StatusSeeOther, views.PathOverview)
	}
	return Render(c, http.StatusOK, views.SignupPage(views.Signup{CSRF: CSRFToken(c)}))
}

// Signup creates an account and its organization on the Free plan with 1,000 credits, signs
// the person in and shows the overview (POST /signup). A used email is a 409 and an invalid
// field a 400, both inline with what to fix.
func (h *Pages) Signup(c echo.Context) error {
	v := views.Signup{CSRF: CSRFToken(c), Email: strings.TrimSpace(c.FormValue("email")),
		Name: strings.TrimSpace(c.FormValue("name")), OrgName: strings.TrimSpace(c.FormValue("org"))}
	ip := c.RealIP()
	if wait := h.signups.Wait(ip); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		return h.signupFailed(v, billing.Errorf(billing.ERATELIMIT, "Too many sign-ups from your network. Wait %s, then try again.", humanWait(wait)))
	}
	h.signups.Hit(ip)
	user, org, err := h.Identity.SignUp(c.Request().Context(),
		identity.NewUser{Email: v.Email, Name: v.Name, Password: c.FormValue("password")}, v.OrgName)
	if err != nil {
		return h.signupFailed(v, err)
	}
	if err := h.sessions.Login(c, user.ID, org); err != nil {
		return err
	}
	h.sessions.RememberOrg(c, org)
	h.sessions.Welcome(c)
	return redirect(c, views.PathOverview)
}

// signupFailed answers a failed sign-up with the form and err's message (see Inline): the
// form alone for htmx, the whole page otherwise.
func (h *Pages) signupFailed(v views.Signup, err error) error {
	return inline(err, func(c echo.Context, status int, msg string) error {
		v.Error = msg
		return renderForm(c, status, views.SignupForm(v), views.SignupPage(v))
	})
}

// LogoutPage asks to confirm signing out (GET /logout), for links and bookmarks.
func (h *Pages) LogoutPage(c echo.Context) error {
	return Render(c, http.StatusOK, views.LogoutPage(CSRFToken(c)))
}

// Logout ends the session on the server (POST /logout) and shows the sign-in page. With
// everywhere=1 it ends every session of the user, on every device ("sign out everywhere").
func (h *Pages) Logout(c echo.Context) error {
	if err := h.sessions.Logout(c, c.Request().PostFormValue("everywhere") != ""); err != nil {
		return err
	}
	return redirect(c, "/login?signed_out=1")
}

// SwitchOrg makes another of the user's organizations the current one (POST /settings/org).
// The membership is checked: an organization the user is not a member of is refused with the
// same answer whether it exists or not.
func (h *Pages) SwitchOrg(c echo.Context) error {
	v := viewer(c)
	m, err := h.Identity.FindMembership(c.Request().Context(), c.FormValue("org_id"), v.User.ID)
	if billing.ErrorCode(err) == billing.ENOTFOUND {
		return billing.Errorf(billing.EFORBIDDEN, "you are not a member of that organization: choose one of yours from the menu at the top")
	}
	if err != nil {
		return err
	}
	h.sessions.SetOrg(c, m.OrgID)
	h.sessions.RememberOrg(c, m.OrgID)
	h.sessions.Flash(c, "Switched to "+m.OrgName+".")
	return redirect(c, orDefault(SafeNext(c.FormValue("next")), views.PathOverview))
}

// SettingsHome sends /settings to the billing overview.
func (h *Pages) SettingsHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, views.PathOverview)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func seconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// humanWait says a wait in words: "1 second", "42 seconds", "3 minutes".
func humanWait(d time.Duration) string {
	s := seconds(d)
	switch {
	case s <= 1:
		return "1 second"
	case s < 90:
		return fmt.Sprintf("%d seconds", s)
	}
	return fmt.Sprintf("%d minutes", (s+59)/60)
}

// SafeNext returns raw when it is a path of this site's settings pages, and "" otherwise, so
// that a crafted ?next= can never send someone to another site.
func SafeNext(raw string) string {
	if raw == "" || !strings.HasPrefix(raw, views.PathSettings) || strings.ContainsAny(raw, "\\\r\n") || strings.HasPrefix(raw, "//") {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	if u.Path != views.PathSettings && !strings.HasPrefix(u.Path, views.PathSettings+"/") {
		return ""
	}
	return u.RequestURI()
}
