package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// SignatureHeader carries a webhook call's signature: "t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>" under the org's secret>".
const SignatureHeader = "Lux-Signature"

// Webhook is an org's webhook: where notifications are POSTed, and the secret that signs them.
type Webhook struct {
	OrgID     string    `db:"org_id"`
	URL       string    `db:"url"`
	Secret    string    `db:"secret"`
	UpdatedBy string    `db:"updated_by"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Webhook returns org's webhook, or nil when it has none.
func (s *Service) Webhook(ctx context.Context, orgID string) (*Webhook, error) {
	var w Webhook
	err := s.db.GetContext(ctx, &w, q.selectWebhook, orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("notify: webhook: %w", err)
	}
	return &w, nil
}

// SetWebhook sets org's webhook URL (an admin's act, by). The first URL gets a new secret; a
// changed URL keeps it. An invalid URL is EINVALID with the reason.
func (s *Service) SetWebhook(ctx context.Context, orgID, rawURL, by string) (*Webhook, error) {
	u, err := s.CheckWebhookURL(rawURL)
	if err != nil {
		return nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	var w Webhook
	if err := s.db.GetContext(ctx, &w, q.upsertWebhook, orgID, u, secret, by, s.core.Now()); err != nil {
		return nil, fmt.Errorf("notify: set webhook: %w", err)
	}
	return &w, nil
}

// RotateWebhookSecret gives org's webhook a new secret; ENOTFOUND without a webhook.
func (s *Service) RotateWebhookSecret(ctx context.Context, orgID, by string) (*Webhook, error) {
	secret, err := newSecret()
	if err != nil {
		return nil, err
	}
	var w Webhook
	err = s.db.GetContext(ctx, &w, q.rotateWebhookSecret, orgID, secret, by, s.core.Now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, billing.Errorf(billing.ENOTFOUND, "this organization has no webhook")
	}
	if err != nil {
		return nil, fmt.Errorf("notify: rotate webhook secret: %w", err)
	}
	return &w, nil
}

// RemoveWebhook removes org's webhook; its calls not yet made are dropped.
func (s *Service) RemoveWebhook(ctx context.Context, orgID string) error {
	return s.core.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, q.deleteWebhook, orgID); err != nil {
			return fmt.Errorf("notify: remove webhook: %w", err)
		}
		if _, err := tx.ExecContext(ctx, q.cancelWebhookDel, orgID); err != nil {
			return fmt.Errorf("notify: remove webhook: %w", err)
		}
		return nil
	})
}

func newSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "whsec_" + hex.EncodeToString(b), nil
}

// CheckWebhookURL returns the URL as it will be called, or EINVALID saying what is wrong: it
// must be https (http too when private targets are allowed), with a host, no user or password,
// at most 2,000 characters, and not an address of a private network.
func (s *Service) CheckWebhookURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	bad := func(why string) error { return billing.Errorf(billing.EINVALID, "webhook URL: %s", why) }
	if raw == "" {
		return "", bad("enter a URL, like https://example.com/hooks/lux")
	}
	if len(raw) > 2000 {
		return "", bad("at most 2,000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", bad("not a URL, like https://example.com/hooks/lux")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.cfg.AllowPrivateWebhooks:
	default:
		return "", bad("use https://")
	}
	if u.User != nil {
		return "", bad("leave user and password out; the signature authenticates the call")
	}
	u.Fragment = ""
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil && !s.cfg.AllowPrivateWebhooks && !publicAddr(ip) {
		return "", bad("a private, loopback or link-local address cannot receive webhooks")
	}
	return u.String(), nil
}

// errPrivateTarget refuses a connection to an address of a private network.
var errPrivateTarget = errors.New("refused: the webhook's address is private, loopback or link-local")

var sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT

// publicAddr reports whether ip may receive webhooks: not loopback, private, link-local,
// unspecified, multicast or shared address space.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() &&
		!ip.IsUnspecified() && !sharedSpace.Contains(ip) && !(ip.Is4() && ip.As4()[0] == 0)
}

// webhookClient calls webhooks. Unless private targets are allowed, every connection is checked
// when it is made — after DNS, so a name that resolves to a private address is refused too —
// and redirects are not followed (a 3xx is a failed call).
func webhookClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !publicAddr(ap.Addr()) {
				return errPrivateTarget
			}
			return nil
		}
	}
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:                 nil, // never through a proxy, which would dial for us unchecked
			DialContext:           d.DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 10 * time.Second,
			MaxIdleConns:          10,
			IdleConnTimeout:       30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// WebhookEvent is the JSON body of a webhook call (docs/API.md).
type WebhookEvent struct {
	ID        string             `json:"id"`   // "ntf_<n>": the same on every retry
	Type      string             `json:"type"` // the notification kind
	CreatedAt time.Time          `json:"createdAt"`
	OrgID     string             `json:"orgId"`
	UserID    string             `json:"userId,omitempty"` // the member concerned
	Title     string             `json:"title"`
	Data      billing.NoticeData `json:"data"`
}

// Sign returns the Lux-Signature header value of body at t under secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifySignature checks a Lux-Signature header against body and secret, refusing signatures
// older than tolerance: what a receiver does (docs/API.md shows it in a few lines).
func VerifySignature(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}

// post makes one webhook call of delivery d; a status other than 2xx is an error.
func (s *Sender) post(ctx context.Context, d *delivery, msg Message) error {
	if d.Secret == "" {
		return errNoWebhook
	}
	body, err := json.Marshal(WebhookEvent{ID: fmt.Sprintf("ntf_%d", d.NotificationID), Type: d.Kind, CreatedAt: d.CreatedAt.UTC(),
		OrgID: d.OrgID, UserID: d.AboutUser, Title: msg.Title, Data: d.Data})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.Target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Lux-Billing-Webhooks/1")
	req.Header.Set("Lux-Event-Id", fmt.Sprintf("ntf_%d", d.NotificationID))
	req.Header.Set("Lux-Event", d.Kind)
	req.Header.Set(SignatureHeader, Sign(d.Secret, time.Now(), body))
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", res.Status)
	}
	return nil
}

var errNoWebhook = errors.New("the organization has no webhook any more")
