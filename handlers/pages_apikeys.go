package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// APIKeys lists the keys the viewer may manage: all of the org's for an admin, their own for a
// member (GET /settings/api-keys).
func (h *Pages) APIKeys(c echo.Context) error {
	v, err := h.apiKeysView(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.APIKeysPage(v))
}

// CreateAPIKey creates a key for the viewer and shows its secret once (POST /settings/api-keys).
func (h *Pages) CreateAPIKey(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	m := viewer(c).Membership
	secret, _, err := h.Identity.CreateAPIKey(c.Request().Context(), m.OrgID, m.UserID, name)
	if err != nil {
		return inline(err, func(c echo.Context, status int, msg string) error {
			return h.apiKeysAnswer(c, status, func(v *views.APIKeys) { v.Error, v.FormName = msg, name })
		})
	}
	if name == "" {
		name = "API key"
	}
	return h.apiKeysAnswer(c, http.StatusCreated, func(v *views.APIKeys) { v.NewSecret, v.NewName = secret, name })
}

// RevokeAPIKey revokes a key: any of the org's for an admin, only their own for a member
// (POST /settings/api-keys/:id/revoke).
func (h *Pages) RevokeAPIKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return billing.Errorf(billing.ENOTFOUND, "there is no API key %q", c.Param("id"))
	}
	if err := h.Identity.RevokeAPIKey(c.Request().Context(), viewer(c).Membership, id); err != nil {
		return err
	}
	const done = "Key revoked. Anything that used it can no longer report usage."
	if !IsHTMX(c) {
		h.sessions.Flash(c, done)
		return redirect(c, views.PathAPIKeys)
	}
	return h.apiKeysAnswer(c, http.StatusOK, func(v *views.APIKeys) { v.Notice = done })
}

// apiKeysAnswer renders the keys after a change: the section alone for htmx, else the page.
func (h *Pages) apiKeysAnswer(c echo.Context, status int, change func(*views.APIKeys)) error {
	v, err := h.apiKeysView(c)
	if err != nil {
		return err
	}
	change(&v)
	if IsHTMX(c) {
		return Render(c, status, views.APIKeysSection(v))
	}
	return Render(c, status, views.APIKeysPage(v))
}

func (h *Pages) apiKeysView(c echo.Context) (views.APIKeys, error) {
	ctx := c.Request().Context()
	m := viewer(c).Membership
	keys, err := h.Identity.APIKeys(ctx, m)
	if err != nil {
		return views.APIKeys{}, err
	}
	return views.APIKeys{
		Shell:  h.Shell(c, views.NavAPIKeys, "API keys"),
		Keys:   keys,
		Loc:    viewer(c).Loc,
		Now:    h.Billing.Now(),
		UserID: m.UserID,
	}, nil
}
