package handlers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

func TestOverview_PausedOrgShowsBannerArrearsAndWhomToAsk(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Org")
	u, _ := s.Identity.FindUserByEmail(context.Background(), "ada@example.com")
	_, err := s.Billing.RecordUsage(context.Background(), org, u.ID, []billing.UsageEvent{{ID: "e1", FlowID: "f", ExecutionID: "x", Type: billing.TypeEmail, Quantity: 1200}})
	if err != nil {
		t.Fatal(err)
	}
	p := admin.Get("/settings/billing")
	if got := p.Text(`[data-testid="pause-banner"] p`); got != billing.PauseMessage(billing.ReasonCreditsExhausted) {
		t.Errorf("pause banner = %q", got)
	}
	if got := p.Text(`[data-testid="arrears"] .value`); got != "−200" {
		t.Errorf("arrears = %q, want −200", got)
	}
	if got := p.Text(`[data-testid="balance"]`); !strings.HasPrefix(got, "-200") {
		t.Errorf("balance = %q", got)
	}
	if !p.Has(`[data-testid="pause-banner"] a[href="/settings/billing/credits"]`) {
		t.Errorf("the admin's banner should offer to add credits")
	}
	m := s.Browser()
	m.Login(s.Member(org, "mel@example.com", identity.RoleMember), "correct horse")
	if got := m.Get("/settings/billing").Text(`[data-testid="pause-banner"] .banner-actions`); got != "Ask your admin, Ada Lovelace, to resolve this." {
		t.Errorf("member's banner action = %q", got)
	}
}
