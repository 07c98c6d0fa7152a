package main

import (
	"context"
	"log/slog"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/notify"
)

// NotifyConfig is how notifications leave the server: mail over SMTP, and webhooks.
type NotifyConfig struct {
	SMTPURL              string `env:"SMTP_URL" name:"smtp-url" help:"SMTP server for notification mail: smtp://user:pass@host:587 (STARTTLS when offered; ?tls=none or ?tls=required) or smtps://host:465. Unset: mail waits in the outbox and notices show in the app."`
	MailFrom             string `env:"LUX_MAIL_FROM" help:"Sender of notification mail (default Lux Billing <billing@lux.local>)."`
	AllowPrivateWebhooks bool   `env:"LUX_WEBHOOKS_ALLOW_PRIVATE" help:"Let org webhooks reach loopback, private and link-local addresses (tests and local development only)."`
}

// notifyOn returns the notifications service of the configuration, its links under baseURL.
func (c *NotifyConfig) notifyOn(core *billing.Service, baseURL string) *notify.Service {
	return notify.New(core, notify.Config{BaseURL: baseURL, SMTPURL: c.SMTPURL, From: c.MailFrom,
		AllowPrivateWebhooks: c.AllowPrivateWebhooks})
}

// startSender starts the outbox sender of svc: woken by every commit that adds deliveries
// (lux_outbox, so register before Watch starts) and polling besides.
func startSender(ctx context.Context, core *billing.Service, svc *notify.Service, log *slog.Logger) error {
	snd, err := svc.NewSender(log)
	if err != nil {
		return err
	}
	if !snd.Mails() {
		log.Info("SMTP_URL is not set: notification mail waits in the outbox; notices show in the app")
	}
	core.OnNotify("lux_outbox", snd.Wake)
	go snd.Run(ctx)
	return nil
}
