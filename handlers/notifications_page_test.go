package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// An admin sees every notice of the org, a member only those for everyone (a pause) and their
// own; read state is each person's own.
func TestNotificationsPage_WhoSeesWhatAndReadStateIsPerUser(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Org")
	s.Member(org, "mel@example.com", identity.RoleMember)
	member := s.Browser()
	member.Login("mel@example.com", "correct horse")
	ctx := context.Background()
	ada, _ := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	err := s.Billing.WithLedger(ctx, org, func(l *billing.LedgerTx) error {
		l.Emit(billing.Notice{Kind: billing.NoticeStatementReady, Data: billing.NoticeData{PeriodLabel: "Statement 1 Nov – 1 Dec 2026"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Free plan's 1,000 credits run out: flows pause, which everyone hears about.
	if _, err := s.Billing.RecordUsage(ctx, org, ada.ID, []billing.UsageEvent{{ID: "e1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1000}}); err != nil {
		t.Fatal(err)
	}
	p := admin.Get("/settings/notifications")
	webtest.WantStatus(t, p, http.StatusOK)
	if n := p.Doc.Find(`[data-testid="notification"]`).Length(); n != 2 {
		t.Fatalf("admin sees %d notices, want 2", n)
	}
	if got := p.Text(`[data-testid="bell-count"]`); got != "2" {
		t.Errorf("admin's bell = %q", got)
	}
	p = member.Get("/settings/billing")
	if got := p.Text(`[data-testid="bell-count"]`); got != "1" {
		t.Errorf("member's bell = %q, want 1 (the pause)", got)
	}
	p = member.Get("/settings/notifications")
	titles := p.Doc.Find(`[data-testid="notification-title"]`)
	if titles.Length() != 1 || !strings.Contains(titles.Text(), "Credits ran out") {
		t.Fatalf("member sees %q", titles.Text())
	}
	if p.Has(`[data-testid="webhook"]`) {
		t.Error("a member sees the webhook form")
	}
	// The member reads theirs; the admin's count does not change.
	action, _ := p.Doc.Find(`[data-testid="notification"] form`).Attr("action")
	p = member.Post("/settings/notifications", action, nil, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`#bell[hx-swap-oob], [hx-swap-oob] #bell`) || p.Has(`[data-testid="bell-count"]`) {
		t.Errorf("the htmx answer should carry the bell without a count:\n%s", p.Body)
	}
	if got := admin.Get("/settings/billing").Text(`[data-testid="bell-count"]`); got != "2" {
		t.Errorf("admin's bell after the member read = %q", got)
	}
	webtest.WantRedirect(t, admin.Post("/settings/notifications", "/settings/notifications/read", nil), "/settings/notifications")
	if admin.Get("/settings/billing").Has(`[data-testid="bell-count"]`) {
		t.Error("admin's bell after marking all read still counts")
	}
	// A notice of another org is not found.
	other, _ := s.SignedUp("bob@example.com", "Other")
	webtest.WantStatus(t, other.Post("/settings/notifications", action, nil), http.StatusNotFound)
}

func TestNotificationsPage_WebhookFormRefusesPrivateTargetsAndShowsTheSecret(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, _ := s.SignedUp("ada@example.com", "Org")
	for _, u := range []string{"http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/hook", "nonsense"} {
		p := admin.Post("/settings/notifications", "/settings/notifications/webhook", url.Values{"url": {u}}, "HX-Request", "true")
		webtest.WantStatus(t, p, http.StatusBadRequest)
		if got := p.Text(`[data-testid="alert-error"]`); !strings.HasPrefix(got, "Webhook URL:") {
			t.Errorf("%s: message %q", u, got)
		}
		if v, _ := p.Doc.Find(`#webhook-url`).Attr("value"); v != u {
			t.Errorf("%s: the field lost what was typed (%q)", u, v)
		}
	}
	p := admin.Post("/settings/notifications", "/settings/notifications/webhook", url.Values{"url": {"https://example.com/hook"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusOK)
	secret := p.Text(`[data-testid="webhook-secret"]`)
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret = %q", secret)
	}
	p = admin.Post("/settings/notifications", "/settings/notifications/webhook/rotate", nil, "HX-Request", "true")
	if got := p.Text(`[data-testid="webhook-secret"]`); got == secret || !strings.HasPrefix(got, "whsec_") {
		t.Errorf("rotated secret = %q (was %q)", got, secret)
	}
	webtest.WantRedirect(t, admin.Post("/settings/notifications", "/settings/notifications/webhook/remove", nil), "/settings/notifications")
	if admin.Get("/settings/notifications").Has(`[data-testid="webhook-secret"]`) {
		t.Error("the removed webhook's secret is still shown")
	}
}
