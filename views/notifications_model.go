package views

import (
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing/notify"
)

// Notifications is the notifications page: the viewer's notices, newest first, and for admins
// the org's webhook.
type Notifications struct {
	Shell
	Items  []notify.Notification
	Loc    *time.Location
	Now    time.Time
	Before int64 // the id to list older notices from ("Older"); 0: none older
	Notice string
	// MailOff: this server has no SMTP_URL, so mail waits in the outbox; notices show here.
	MailOff bool
	Webhook WebhookForm
}

// WebhookForm is the admin's webhook form and its state.
type WebhookForm struct {
	Hook       *notify.Webhook // nil: none set
	URL        string          // what was typed, kept when saving failed
	Error      string
	Notice     string
	AllowsHTTP bool // private targets are allowed on this server (tests, local development)
}

// bellLabel is the bell's accessible name.
func bellLabel(n int) string {
	switch {
	case n == 0:
		return "Notifications"
	case n == 1:
		return "Notifications, 1 unread"
	case n >= 100:
		return "Notifications, 99+ unread"
	}
	return "Notifications, " + strconv.Itoa(n) + " unread"
}

// bellCount is the number on the bell.
func bellCount(n int) string {
	if n >= 100 {
		return "99+"
	}
	return strconv.Itoa(n)
}

// noticeIcon picks the icon of a notice.
func noticeIcon(kind, tone string) string {
	switch kind {
	case "purchase_succeeded":
		return "wallet"
	case "refund_issued":
		return "undo"
	case "statement_ready":
		return "receipt"
	case "resumed":
		return "check"
	case "renewal_failed":
		return "card"
	}
	if tone == "danger" {
		return "pause"
	}
	return "alert"
}

// localPath turns a notice's absolute link into a path on this server.
func localPath(link string) string {
	if i := strings.Index(link, "/settings"); i >= 0 {
		return link[i:]
	}
	return PathOverview
}
