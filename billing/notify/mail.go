package notify

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/luxstudio/lux-billing/billing"
)

// mailer sends mail through the SMTP server of SMTP_URL with go-mail.
type mailer struct {
	host string
	opts []mail.Option
	from string
}

// newMailer parses an SMTP URL: smtp://[user:pass@]host[:port][?tls=none|required] (port 25
// by default; STARTTLS when the server offers it unless tls=none) or smtps://… (TLS from the
// start, port 465).
func newMailer(raw, from string) (*mailer, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("SMTP_URL %q is not a URL like smtp://user:pass@host:587", raw)
	}
	opts := []mail.Option{mail.WithTimeout(15 * time.Second)}
	port := 25
	switch u.Scheme {
	case "smtp":
		switch u.Query().Get("tls") {
		case "", "opportunistic":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
		case "none":
			opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
		case "required":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
			port = 587
		default:
			return nil, fmt.Errorf("SMTP_URL: tls=%s: use none, opportunistic or required", u.Query().Get("tls"))
		}
	case "smtps":
		opts = append(opts, mail.WithSSL())
		port = 465
	default:
		return nil, fmt.Errorf("SMTP_URL must start with smtp:// or smtps://, not %s://", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: port %q", p)
		}
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if _, err := mail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	return &mailer{host: u.Hostname(), opts: opts, from: from}, nil
}

// send sends msgs over one connection; errs[i] is the outcome of msgs[i] (a failed connection
// fails them all).
func (m *mailer) send(ctx context.Context, msgs []*mail.Msg) []error {
	errs := make([]error, len(msgs))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	c, err := mail.NewClient(m.host, m.opts...)
	if err != nil {
		return fail(err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return fail(fmt.Errorf("connect to the SMTP server: %w", err))
	}
	defer c.Close()
	for i, msg := range msgs {
		errs[i] = c.Send(msg)
	}
	return errs
}

// compose builds the mail of delivery d: plain text and HTML with the figures and a link. Its
// Message-ID is the delivery's, so a mail sent again after a lost acknowledgement is recognised
// as the same by mail clients.
func (m *mailer) compose(d *delivery, msg Message) (*mail.Msg, error) {
	mm := mail.NewMsg()
	if err := mm.From(m.from); err != nil {
		return nil, fmt.Errorf("LUX_MAIL_FROM: %w", err)
	}
	if err := mm.To(d.Target); err != nil {
		return nil, billing.Errorf(billing.EINVALID, "recipient %q: %v", d.Target, err)
	}
	mm.Subject(msg.Title + " · " + d.OrgName)
	mm.SetMessageIDWithValue(fmt.Sprintf("notification-%d.%d@lux-billing", d.NotificationID, d.ID))
	mm.SetDateWithValue(d.CreatedAt)
	mm.SetGenHeader("X-Lux-Notification", d.Kind)
	mm.SetGenHeader(mail.HeaderXAutoResponseSuppress, "All")
	mm.SetBodyString(mail.TypeTextPlain, mailText(d, msg))
	var html bytes.Buffer
	if err := mailHTML.Execute(&html, mailView{Org: d.OrgName, Message: msg, Settings: settingsLink(msg.Link)}); err != nil {
		return nil, fmt.Errorf("notify: mail html: %w", err)
	}
	mm.AddAlternativeString(mail.TypeTextHTML, html.String())
	return mm, nil
}

func settingsLink(link string) string {
	if i := strings.Index(link, "/settings/"); i >= 0 {
		return link[:i] + pathNotifications
	}
	return link
}

func mailText(d *delivery, msg Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", msg.Title)
	fmt.Fprintf(&b, "Organization: %s\n\n", d.OrgName)
	for _, l := range msg.Lines {
		fmt.Fprintf(&b, "%s\n", l)
	}
	fmt.Fprintf(&b, "\n%s: %s\n", msg.LinkLabel, msg.Link)
	fmt.Fprintf(&b, "\n--\nLux Billing. Every notice is also in the app: %s\n", settingsLink(msg.Link))
	return b.String()
}

type mailView struct {
	Org      string
	Message  Message
	Settings string
}

var mailHTML = template.Must(template.New("mail").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Message.Title}}</title></head>
<body style="margin:0;padding:24px;background:#f4f5f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1d2330">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="560" cellpadding="0" cellspacing="0" style="background:#ffffff;border:1px solid #e3e6ec;border-radius:10px">
<tr><td style="padding:20px 28px;border-bottom:1px solid #e3e6ec;font-weight:600">
<span style="display:inline-block;width:24px;height:24px;line-height:24px;text-align:center;border-radius:6px;background:#5b4cf0;color:#fff">L</span>
&nbsp;Lux Studio · {{.Org}}</td></tr>
<tr><td style="padding:24px 28px">
<h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">{{.Message.Title}}</h1>
{{range .Message.Lines}}<p style="margin:0 0 10px;font-size:15px;line-height:1.5">{{.}}</p>{{end}}
<p style="margin:20px 0 0"><a href="{{.Message.Link}}" style="display:inline-block;padding:10px 18px;border-radius:8px;background:#5b4cf0;color:#ffffff;text-decoration:none;font-weight:600">{{.Message.LinkLabel}}</a></p>
</td></tr>
<tr><td style="padding:14px 28px;border-top:1px solid #e3e6ec;font-size:12px;color:#6b7385">
Every notice is also in the app: <a href="{{.Settings}}" style="color:#5b4cf0">Notifications</a>.
</td></tr></table></td></tr></table></body></html>`))
