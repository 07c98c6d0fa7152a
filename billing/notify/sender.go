package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lib/pq"
	"github.com/wneessen/go-mail"

	"github.com/luxstudio/lux-billing/billing"
)

// Sender drains the outbox: it claims due deliveries (FOR UPDATE SKIP LOCKED, then a lease, so
// any number of senders on any number of servers never send one twice), sends them outside any
// transaction, and marks each sent, or due again after an exponential backoff. Nothing is lost
// while SMTP or a webhook is down: the row waits and is sent when it is back.
type Sender struct {
	svc      *Service
	mail     *mailer // nil: mail stays in the outbox (no SMTP_URL)
	http     *http.Client
	channels []string
	log      *slog.Logger
	wake     chan struct{}

	// Batch is how many deliveries one round claims.
	Batch int
	// Lease is how long a claimed delivery is hidden from other senders while it is sent.
	Lease time.Duration
	// Poll is how often the outbox is looked at without a wake-up.
	Poll time.Duration
	// BaseBackoff is the wait after the first failure; it doubles with each failure, up to
	// MaxBackoff. After MaxAttempts failures the delivery is marked failed.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	MaxAttempts int
}

// NewSender returns a sender for the service's configuration: mail when SMTP_URL is set,
// webhooks always.
func (s *Service) NewSender(log *slog.Logger) (*Sender, error) {
	snd := &Sender{svc: s, http: webhookClient(s.cfg.AllowPrivateWebhooks), channels: []string{"webhook"},
		log: log, wake: make(chan struct{}, 1), Batch: 50, Lease: 5 * time.Minute, Poll: 10 * time.Second,
		BaseBackoff: 10 * time.Second, MaxBackoff: 30 * time.Minute, MaxAttempts: 100}
	if s.cfg.SMTPURL != "" {
		m, err := newMailer(s.cfg.SMTPURL, s.cfg.From)
		if err != nil {
			return nil, err
		}
		snd.mail = m
		snd.channels = append(snd.channels, "email")
	}
	if log == nil {
		snd.log = slog.Default()
	}
	return snd, nil
}

// Mails reports whether the sender sends mail (SMTP_URL is set).
func (snd *Sender) Mails() bool { return snd.mail != nil }

// Wake makes the sender look at the outbox now (new deliveries were committed).
func (snd *Sender) Wake() {
	select {
	case snd.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends: whenever woken, and every Poll.
func (snd *Sender) Run(ctx context.Context) {
	t := time.NewTicker(snd.Poll)
	defer t.Stop()
	for {
		for {
			n, err := snd.SendDue(ctx)
			if err != nil && ctx.Err() == nil {
				snd.log.Error("notifications: send", "err", err)
			}
			if err != nil || n < snd.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-snd.wake:
		case <-t.C:
		}
	}
}

// delivery is a claimed row of the outbox with its notification.
type delivery struct {
	ID             int64              `db:"id"`
	Channel        string             `db:"channel"`
	Target         string             `db:"target"`
	Attempts       int                `db:"attempts"`
	UserID         string             `db:"user_id"`
	NotificationID int64              `db:"notification_id"`
	OrgID          string             `db:"org_id"`
	OrgName        string             `db:"org_name"`
	Kind           string             `db:"kind"`
	AboutUser      string             `db:"about_user"`
	AboutEmail     string             `db:"about_email"`
	RawData        []byte             `db:"data"`
	CreatedAt      time.Time          `db:"created_at"`
	Secret         string             `db:"secret"`
	Data           billing.NoticeData `db:"-"`
}

// SendDue claims one batch of due deliveries, sends them and records each outcome. It returns
// how many it claimed.
func (snd *Sender) SendDue(ctx context.Context) (int, error) {
	var ds []*delivery
	err := snd.svc.db.SelectContext(ctx, &ds, q.claimDeliveries, pq.Array(snd.channels), snd.Batch, snd.Lease.Seconds())
	if err != nil {
		return 0, fmt.Errorf("notify: claim deliveries: %w", err)
	}
	var mails []*mail.Msg
	var mailed []*delivery
	results := map[*delivery]error{}
	for _, d := range ds {
		if err := json.Unmarshal(d.RawData, &d.Data); err != nil {
			results[d] = fmt.Errorf("notification %d: %w", d.NotificationID, err)
			continue
		}
		d.Data.MemberEmail = d.AboutEmail
		msg := Compose(d.Kind, d.Data, snd.svc.cfg.BaseURL)
		switch d.Channel {
		case "email":
			m, err := snd.mail.compose(d, msg)
			if err != nil {
				results[d] = err
				continue
			}
			mails, mailed = append(mails, m), append(mailed, d)
		case "webhook":
			results[d] = snd.post(ctx, d, msg)
		}
	}
	if len(mails) > 0 {
		for i, err := range snd.mail.send(ctx, mails) {
			results[mailed[i]] = err
		}
	}
	for _, d := range ds {
		if err := snd.record(ctx, d, results[d]); err != nil {
			return len(ds), err
		}
	}
	return len(ds), nil
}

// record marks d sent, or due again after its backoff (failed after MaxAttempts).
func (snd *Sender) record(ctx context.Context, d *delivery, sendErr error) error {
	if sendErr == nil {
		if _, err := snd.svc.db.ExecContext(ctx, q.markSent, d.ID); err != nil {
			return fmt.Errorf("notify: mark sent: %w", err)
		}
		return nil
	}
	giveUp := d.Attempts >= snd.MaxAttempts || sendErr == errNoWebhook
	wait := snd.backoff(d.Attempts)
	snd.log.Warn("notifications: delivery failed", "delivery", d.ID, "channel", d.Channel, "attempt", d.Attempts,
		"retry_in", wait, "gave_up", giveUp, "err", sendErr)
	msg := sendErr.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := snd.svc.db.ExecContext(ctx, q.markRetry, d.ID, wait.Seconds(), msg, giveUp); err != nil {
		return fmt.Errorf("notify: mark retry: %w", err)
	}
	return nil
}

// backoff is the wait after the attempts-th failure: BaseBackoff doubled per failure, at most
// MaxBackoff.
func (snd *Sender) backoff(attempts int) time.Duration {
	w := snd.BaseBackoff
	for i := 1; i < attempts && w < snd.MaxBackoff; i++ {
		w *= 2
	}
	return min(w, snd.MaxBackoff)
}
