package handlers

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// LoginPage shows the sign-in form (GET /login); someone signed in goes on to billing.
func (h *Pages) LoginPage(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if h.sessions.SignedIn(c) {
		return c.Redirect(http.StatusSeeOther, orDefault(next, "/settings/billing"))
	}
	v := views.Login{CSRF: csrfToken(c), Next: next, Flashes: h.sessions.popFlashes(c, flashKey)}
	switch {
	case c.QueryParam("signed_out") != "":
		v.Notice = "You are signed out."
	case next != "":
		v.Notice = "Sign in to continue."
	}
	return render(c, http.StatusOK, views.LoginPage(v))
}

// Login signs a person in (POST /login). A wrong email or password is a 401 with the form and
// its message; too many failures from one address, or for one email from one address, are a
// 429 that says how long to wait.
func (h *Pages) Login(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	v := views.Login{CSRF: csrfToken(c), Email: email, Next: safeNext(c.FormValue("next"))}
	ip := c.RealIP()
	userKey := strings.ToLower(email) + "|" + ip
	if wait := max(h.loginByUser.Wait(userKey), h.loginByIP.Wait(ip)); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		v.Error = fmt.Sprintf("Too many sign-in attempts. Wait %s, then try again.", humanWait(wait))
		return h.loginForm(c, http.StatusTooManyRequests, v)
	}
	if email == "" || c.FormValue("password") == "" {
		v.Error = "Enter your email and password."
		return h.loginForm(c, http.StatusBadRequest, v)
	}
	user, err := h.billing.Authenticate(c.Request().Context(), email, c.FormValue("password"))
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			return err
		}
		h.loginByUser.Hit(userKey)
		h.loginByIP.Hit(ip)
		v.Error = msg
		return h.loginForm(c, status, v)
	}
	h.loginByUser.Reset(userKey)
	ms, err := h.billing.Memberships(c.Request().Context(), user.ID)
	if err != nil {
		return err
	}
	// Open the org last used on this browser if the user is still in it, else their first.
	org, last := "", h.sessions.lastOrg(c)
	for i, m := range ms {
		if i == 0 || m.OrgID == last {
			org = m.OrgID
		}
	}
	h.sessions.Login(c, user.ID, org)
	return redirect(c, orDefault(v.Next, "/settings/billing"))
}

// loginForm answers a failed sign-in: the form alone for htmx, the whole page otherwise.
func (h *Pages) loginForm(c echo.Context, status int, v views.Login) error {
	if isHTMX(c) {
		return render(c, status, views.LoginForm(v))
	}
	return render(c, status, views.LoginPage(v))
}

// SignupPage shows the sign-up form (GET /signup); someone signed in goes on to billing.
func (h *Pages) SignupPage(c echo.Context) error {
	if h.sessions.SignedIn(c) {
		return c.Redirect(http.StatusSeeOther, "/settings/billing")
	}
	return render(c, http.StatusOK, views.SignupPage(views.Signup{CSRF: csrfToken(c)}))
}

// Signup creates an account and its organization on the Free plan with 1,000 credits, signs
// the person in and shows the overview (POST /signup). A used email is a 409 and an invalid
// field a 400, both inline with what to fix.
func (h *Pages) Signup(c echo.Context) error {
	v := views.Signup{CSRF: csrfToken(c), Email: strings.TrimSpace(c.FormValue("email")),
		Name: strings.TrimSpace(c.FormValue("name")), OrgName: strings.TrimSpace(c.FormValue("org"))}
	ip := c.RealIP()
	if wait := h.signups.Wait(ip); wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds(wait)))
		v.Error = fmt.Sprintf("Too many sign-ups from your network. Wait %s, then try again.", humanWait(wait))
		return h.signupForm(c, http.StatusTooManyRequests, v)
	}
	h.signups.Hit(ip)
	user, org, err := h.billing.SignUp(c.Request().Context(),
		billing.NewUser{Email: v.Email, Name: v.Name, Password: c.FormValue("password")}, v.OrgName)
	if err != nil {
		status, msg, ok := formError(err)
		if !ok {
			return err
		}
		v.Error = msg
		return h.signupForm(c, status, v)
	}
	h.sessions.Login(c, user.ID, org)
	h.sessions.rememberOrg(c, org)
	h.sessions.addFlash(c, "1", welcomeKey)
	return redirect(c, "/settings/billing")
}

// signupForm answers a failed sign-up: the form alone for htmx, the whole page otherwise.
func (h *Pages) signupForm(c echo.Context, status int, v views.Signup) error {
	if isHTMX(c) {
		return render(c, status, views.SignupForm(v))
	}
	return render(c, status, views.SignupPage(v))
}

// LogoutPage asks to confirm signing out (GET /logout), for links and bookmarks.
func (h *Pages) LogoutPage(c echo.Context) error {
	return render(c, http.StatusOK, views.LogoutPage(csrfToken(c)))
}

// Logout ends the session (POST /logout) and shows the sign-in page.
func (h *Pages) Logout(c echo.Context) error {
	h.sessions.Logout(c)
	return redirect(c, "/login?signed_out=1")
}

// SwitchOrg makes another of the user's organizations the current one (POST /settings/org).
// The membership is checked: an organization the user is not a member of is refused with the
// same answer whether it exists or not.
func (h *Pages) SwitchOrg(c echo.Context) error {
	v := viewer(c)
	m, err := h.billing.FindMembership(c.Request().Context(), c.FormValue("org_id"), v.User.ID)
	if billing.ErrorCode(err) == billing.ENOTFOUND {
		return billing.Errorf(billing.EFORBIDDEN, "you are not a member of that organization: choose one of yours from the menu at the top")
	}
	if err != nil {
		return err
	}
	h.sessions.SetOrg(c, m.OrgID)
	h.sessions.rememberOrg(c, m.OrgID)
	h.sessions.Flash(c, "Switched to "+m.OrgName+".")
	return redirect(c, orDefault(safeNext(c.FormValue("next")), "/settings/billing"))
}

// SettingsHome sends /settings to the billing overview.
func (h *Pages) SettingsHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/settings/billing")
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
