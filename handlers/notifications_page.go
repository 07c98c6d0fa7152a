package handlers

import (
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/notify"
	"github.com/luxstudio/lux-billing/views"
)

// notificationsPerPage is how many notices the page lists at once.
const notificationsPerPage = 50

// reader is the viewer as a reader of the org's notifications.
func reader(c echo.Context) notify.Reader {
	m := viewer(c).Membership
	return notify.Reader{OrgID: m.OrgID, UserID: m.UserID, Admin: m.IsAdmin()}
}

// unread counts the viewer's unread notifications for the bell; a failure shows no count
// rather than failing the page.
func (h *Pages) unread(c echo.Context) int {
	if h.Notify == nil {
		return 0
	}
	n, err := h.Notify.Unread(c.Request().Context(), reader(c))
	if err != nil {
		c.Logger().Warnf("notifications: unread count: %v", err)
		return 0
	}
	return n
}

// Notifications lists the viewer's notifications, newest first, and for admins the webhook
// (GET /settings/notifications; ?before=ID for older ones).
func (h *Pages) Notifications(c echo.Context) error {
	v, err := h.notificationsView(c)
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.NotificationsPage(v))
}

// MarkNotificationRead marks one notice read for the viewer (POST
// /settings/notifications/:id/read). Another org's notice, or one the viewer does not see, is
// not found.
func (h *Pages) MarkNotificationRead(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return billing.Errorf(billing.ENOTFOUND, "there is no such notification")
	}
	if err := h.Notify.MarkRead(c.Request().Context(), reader(c), id); err != nil {
		return err
	}
	return h.notificationsAnswer(c, "")
}

// MarkAllNotificationsRead marks every notice the viewer sees read (POST
// /settings/notifications/read).
func (h *Pages) MarkAllNotificationsRead(c echo.Context) error {
	if err := h.Notify.MarkAllRead(c.Request().Context(), reader(c)); err != nil {
		return err
	}
	return h.notificationsAnswer(c, "All notifications are marked as read.")
}

// notificationsAnswer answers a change of read state: the list and the bell for htmx, else a
// redirect to the page.
func (h *Pages) notificationsAnswer(c echo.Context, notice string) error {
	if !IsHTMX(c) {
		if notice != "" {
			h.sessions.Flash(c, notice)
		}
		return redirect(c, views.PathNotifications)
	}
	v, err := h.notificationsView(c)
	if err != nil {
		return err
	}
	v.Notice = notice
	return Render(c, http.StatusOK, templ.Join(views.NotificationsSection(v), views.BellOOB(v.Shell.Unread)))
}

// SaveWebhook sets the org's webhook URL (POST /settings/notifications/webhook; admins).
func (h *Pages) SaveWebhook(c echo.Context) error {
	url := c.FormValue("url")
	m := viewer(c).Membership
	hook, err := h.Notify.SetWebhook(c.Request().Context(), m.OrgID, url, m.UserID)
	if err != nil {
		return inline(err, func(c echo.Context, status int, msg string) error {
			return h.webhookAnswer(c, status, views.WebhookForm{URL: url, Error: msg})
		})
	}
	return h.webhookAnswer(c, http.StatusOK, views.WebhookForm{Hook: hook, Notice: "Webhook saved. Notices from now on are sent to it."})
}

// RotateWebhookSecret gives the webhook a new signing secret (POST
// /settings/notifications/webhook/rotate; admins).
func (h *Pages) RotateWebhookSecret(c echo.Context) error {
	m := viewer(c).Membership
	hook, err := h.Notify.RotateWebhookSecret(c.Request().Context(), m.OrgID, m.UserID)
	if err != nil {
		return err
	}
	return h.webhookAnswer(c, http.StatusOK, views.WebhookForm{Hook: hook, Notice: "New secret made. Update your receiver: the old one no longer verifies."})
}

// RemoveWebhook removes the org's webhook (POST /settings/notifications/webhook/remove; admins).
func (h *Pages) RemoveWebhook(c echo.Context) error {
	if err := h.Notify.RemoveWebhook(c.Request().Context(), viewer(c).Membership.OrgID); err != nil {
		return err
	}
	return h.webhookAnswer(c, http.StatusOK, views.WebhookForm{Notice: "Webhook removed."})
}

// webhookAnswer renders the webhook card (htmx) or the page with it.
func (h *Pages) webhookAnswer(c echo.Context, status int, form views.WebhookForm) error {
	if !IsHTMX(c) && form.Error == "" {
		h.sessions.Flash(c, form.Notice)
		return redirect(c, views.PathNotifications)
	}
	v, err := h.notificationsView(c)
	if err != nil {
		return err
	}
	if form.Hook == nil && form.Error == "" {
		v.Webhook.Hook = nil
	} else if form.Hook != nil {
		v.Webhook.Hook = form.Hook
	}
	if form.URL != "" || form.Error != "" {
		v.Webhook.URL = form.URL
	} else if v.Webhook.Hook != nil {
		v.Webhook.URL = v.Webhook.Hook.URL
	}
	v.Webhook.Error, v.Webhook.Notice = form.Error, form.Notice
	if IsHTMX(c) {
		return Render(c, status, views.WebhookSection(v))
	}
	return Render(c, status, views.NotificationsPage(v))
}

func (h *Pages) notificationsView(c echo.Context) (views.Notifications, error) {
	ctx := c.Request().Context()
	vw := viewer(c)
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if before < 0 {
		before = 0
	}
	items, err := h.Notify.List(ctx, reader(c), notificationsPerPage+1, before)
	if err != nil {
		return views.Notifications{}, err
	}
	v := views.Notifications{Shell: h.Shell(c, views.NavNotifications, "Notifications"), Loc: vw.Loc, Now: h.Billing.Now(),
		MailOff: h.Notify.Config().SMTPURL == ""}
	if len(items) > notificationsPerPage {
		items = items[:notificationsPerPage]
		v.Before = items[len(items)-1].ID
	}
	v.Items = items
	if vw.Membership.IsAdmin() {
		hook, err := h.Notify.Webhook(ctx, vw.Membership.OrgID)
		if err != nil {
			return v, err
		}
		v.Webhook.Hook = hook
		v.Webhook.AllowsHTTP = h.Notify.Config().AllowPrivateWebhooks
		if hook != nil {
			v.Webhook.URL = hook.URL
		}
	}
	return v, nil
}
