// Package notify delivers the notification outbox the core writes (billing/notice.go) outside
// the transactions that wrote it: mail over SMTP (go-mail), webhooks signed with HMAC-SHA256,
// and in-app (the bell, the list, per-user read state). It reads the core's notifications and
// updates only their deliveries; its own tables are read marks and webhooks (migration 00025).
package notify

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed queries.sql
var queriesSQL string

var q = func() struct {
	claimDeliveries, markSent, markRetry                 string
	countUnread, listNotifications, markRead, isVisible  string
	markAllRead, selectWebhook, upsertWebhook            string
	rotateWebhookSecret, deleteWebhook, cancelWebhookDel string
} {
	f := billing.ParseQueries("billing/notify/queries.sql", queriesSQL)
	return struct {
		claimDeliveries, markSent, markRetry                 string
		countUnread, listNotifications, markRead, isVisible  string
		markAllRead, selectWebhook, upsertWebhook            string
		rotateWebhookSecret, deleteWebhook, cancelWebhookDel string
	}{
		f.Get("claim-deliveries"), f.Get("mark-sent"), f.Get("mark-retry"),
		f.Get("count-unread"), f.Get("list-notifications"), f.Get("mark-read"), f.Get("is-visible"),
		f.Get("mark-all-read"), f.Get("select-webhook"), f.Get("upsert-webhook"),
		f.Get("rotate-webhook-secret"), f.Get("delete-webhook"), f.Get("cancel-webhook-deliveries"),
	}
}()

// Config is how notifications are delivered.
type Config struct {
	// BaseURL is the public URL of the server, for the links in mails ("http://localhost:8080").
	BaseURL string
	// SMTPURL is where mail goes: smtp://[user:pass@]host:port (STARTTLS when offered;
	// ?tls=none for none, ?tls=required to insist), or smtps:// for TLS from the start. Empty:
	// mail stays in the outbox (in-app notices still show).
	SMTPURL string
	// From is the sender of the mails (LUX_MAIL_FROM).
	From string
	// AllowPrivateWebhooks lets webhooks reach loopback, private and link-local addresses
	// (tests, local development). Off by default: a webhook URL is chosen by an org's admin and
	// must not reach the server's own network.
	AllowPrivateWebhooks bool
}

// DefaultFrom is the sender when LUX_MAIL_FROM is not set.
const DefaultFrom = "Lux Billing <billing@lux.local>"

// Service is the notifications capability: in-app reading, webhook settings and the sender.
type Service struct {
	db   *sqlx.DB
	core *billing.Service
	cfg  Config
}

// New returns the notifications service over the core.
func New(core *billing.Service, cfg Config) *Service {
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://localhost:8080"
	}
	return &Service{db: core.DB(), core: core, cfg: cfg}
}

// Config returns the service's configuration.
func (s *Service) Config() Config { return s.cfg }

// Notification is one notice as people read it.
type Notification struct {
	ID        int64
	Kind      string
	AboutUser string // the member concerned, if any
	Data      billing.NoticeData
	CreatedAt time.Time
	Read      bool
	Message
}

type notificationRow struct {
	ID        int64     `db:"id"`
	Kind      string    `db:"kind"`
	AboutUser string    `db:"about_user"`
	AboutMail string    `db:"about_email"`
	Data      []byte    `db:"data"`
	CreatedAt time.Time `db:"created_at"`
	Read      bool      `db:"read"`
}

func (r notificationRow) notification(baseURL string) (Notification, error) {
	n := Notification{ID: r.ID, Kind: r.Kind, AboutUser: r.AboutUser, CreatedAt: r.CreatedAt, Read: r.Read}
	if err := json.Unmarshal(r.Data, &n.Data); err != nil {
		return n, fmt.Errorf("notify: notification %d: %w", r.ID, err)
	}
	n.Data.MemberEmail = r.AboutMail
	n.Message = Compose(r.Kind, n.Data, baseURL)
	return n, nil
}

// Reader is who reads notifications: a user in an org, admin or not. Admins see every notice of
// the org; members see those that concern everyone (flows paused or resumed) and their own.
type Reader struct {
	OrgID  string
	UserID string
	Admin  bool
}

// Unread returns how many notifications r has not read, counting up to 100.
func (s *Service) Unread(ctx context.Context, r Reader) (int, error) {
	var n int
	if err := s.core.Get(ctx, nil, &n, q.countUnread, r.OrgID, r.UserID, r.Admin); err != nil {
		return 0, fmt.Errorf("notify: unread: %w", err)
	}
	return n, nil
}

// List returns r's latest notifications, newest first (at most limit; before > 0 lists only
// those older than that id).
func (s *Service) List(ctx context.Context, r Reader, limit int, before int64) ([]Notification, error) {
	var rows []notificationRow
	if err := s.db.SelectContext(ctx, &rows, q.listNotifications, r.OrgID, r.UserID, r.Admin, limit, before); err != nil {
		return nil, fmt.Errorf("notify: list: %w", err)
	}
	out := make([]Notification, 0, len(rows))
	for _, row := range rows {
		n, err := row.notification(s.cfg.BaseURL)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// MarkRead marks notification id read for r; ENOTFOUND when r does not see it.
func (s *Service) MarkRead(ctx context.Context, r Reader, id int64) error {
	var visible bool
	if err := s.db.GetContext(ctx, &visible, q.isVisible, r.OrgID, r.UserID, id, r.Admin); err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	if !visible {
		return billing.Errorf(billing.ENOTFOUND, "there is no such notification")
	}
	if _, err := s.db.ExecContext(ctx, q.markRead, r.OrgID, r.UserID, id, r.Admin); err != nil {
		return fmt.Errorf("notify: mark read: %w", err)
	}
	return nil
}

// MarkAllRead marks every notification r sees up to now read.
func (s *Service) MarkAllRead(ctx context.Context, r Reader) error {
	if _, err := s.db.ExecContext(ctx, q.markAllRead, r.OrgID, r.UserID); err != nil {
		return fmt.Errorf("notify: mark all read: %w", err)
	}
	return nil
}
