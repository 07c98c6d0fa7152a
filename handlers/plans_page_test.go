package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// An admin upgrades Free → Starter through the demo checkout, schedules a downgrade and
// cancels it; the page shows each step.
func TestPlansPage_AdminUpgradesThenSchedulesAndCancelsADowngrade(t *testing.T) {
	s := webtest.NewSite(t)
	b, org := s.SignedUp("ada@example.com", "Analytical Engines")

	p := b.Get("/settings/billing/plans")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := p.Text(`[data-testid="plan-free"] [data-testid="current-plan"]`); got != "Current plan" {
		t.Fatalf("Free is not marked current: %q", got)
	}
	for _, want := range []string{"Testing", "Small projects", "Production apps", "Large scale"} {
		if !strings.Contains(p.Doc.Text(), want) {
			t.Errorf("the page lacks the seed's %q", want)
		}
	}
	if !p.Has(`[data-testid="upgrade-starter"]`) || !p.Has(`[data-testid="upgrade-pro"]`) || !p.Has(`[data-testid="contact-sales"]`) {
		t.Fatalf("an admin on Free should see Upgrade buttons and Contact sales:\n%s", p.Body)
	}
	if href, _ := p.Doc.Find(`[data-testid="contact-sales"]`).Attr("href"); !strings.HasPrefix(href, "mailto:sales@lux.local?") {
		t.Errorf("Contact sales links to %q", href)
	}

	p = b.Post("/settings/billing/plans", "/settings/billing/plans", url.Values{"plan": {"starter"}})
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/settings/billing/plans/checkout/pco_") {
		t.Fatalf("upgrade: %d to %q, want the demo checkout", p.StatusCode, p.Header.Get("Location"))
	}
	checkout := p.Header.Get("Location")
	p = b.Get(checkout)
	webtest.WantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.Doc.Text(), "no card is charged") || !p.Has(`[data-testid="pay-plan"]`) {
		t.Fatalf("the demo checkout page:\n%s", p.Body)
	}
	webtest.WantRedirect(t, b.Post(checkout, checkout, nil), "/settings/billing/plans")
	p = b.Get("/settings/billing/plans")
	if got := p.Text(`[data-testid="summary-allotment"]`); got != "10,000 credits" {
		t.Fatalf("allotment after the upgrade: %q, want 10,000 credits", got)
	}
	if !p.Has(`[data-testid="plan-starter"] [data-testid="current-plan"]`) || !strings.Contains(p.Doc.Text(), "You are on Starter now: 9,000 credits") {
		t.Fatalf("after paying, Starter is not current or no notice:\n%s", p.Text(`main`))
	}
	// Paying the same checkout again changes nothing.
	if p := b.Post("/settings/billing/plans", checkout, nil); p.StatusCode != http.StatusSeeOther && p.StatusCode != http.StatusConflict {
		t.Fatalf("paying twice: %d", p.StatusCode)
	}

	// Downgrade to Free: scheduled for the next cycle, then cancelled (htmx and plain form).
	p = b.Post("/settings/billing/plans", "/settings/billing/plans", url.Values{"plan": {"free"}}, "HX-Request", "true")
	if p.StatusCode != http.StatusNoContent || p.Header.Get("HX-Redirect") != "/settings/billing/plans" {
		t.Fatalf("downgrade by htmx: %d, HX-Redirect %q", p.StatusCode, p.Header.Get("HX-Redirect"))
	}
	p = b.Get("/settings/billing/plans")
	if !p.Has(`[data-testid="pending-change"]`) || !strings.Contains(p.Text(`[data-testid="pending-change"]`), "Changing to Free on") || !p.Has(`[data-testid="cancel-downgrade"]`) {
		t.Fatalf("no pending downgrade with Cancel:\n%s", p.Text(`main`))
	}
	if !p.Has(`[data-testid="plan-starter"] [data-testid="current-plan"]`) {
		t.Fatal("a downgrade changed the plan before the next cycle")
	}
	webtest.WantRedirect(t, b.Post("/settings/billing/plans", "/settings/billing/plans/cancel", nil), "/settings/billing/plans")
	if p := b.Get("/settings/billing/plans"); p.Has(`[data-testid="pending-change"]`) {
		t.Fatal("the downgrade is still pending after Cancel")
	}

	// Refusals come back inline with what to do.
	p = b.Post("/settings/billing/plans", "/settings/billing/plans", url.Values{"plan": {"enterprise"}}, "HX-Request", "true")
	webtest.WantStatus(t, p, http.StatusBadRequest)
	if !strings.Contains(p.Text(`[data-testid="alert-error"]`), "contact sales") {
		t.Fatalf("enterprise refusal: %q", p.Body)
	}
	p = b.Post("/settings/billing/plans", "/settings/billing/plans/cancel", nil)
	webtest.WantStatus(t, p, http.StatusNotFound)
	if !strings.Contains(p.Text(`[data-testid="alert-error"]`), "No plan change is waiting") {
		t.Fatalf("cancel with nothing pending: %q", p.Text(`main`))
	}
	billingtest.AssertLedger(t, s.DB, org)
}

// Members see the plans without buttons, and posting changes is forbidden.
func TestPlansPage_MembersSeeNoButtonsAndCannotPost(t *testing.T) {
	s := webtest.NewSite(t)
	admin, org := s.SignedUp("ada@example.com", "Analytical Engines")
	_ = admin
	email := s.Member(org, "mel@example.com", identity.RoleMember)
	m := s.Browser()
	m.Login(email, "correct horse")
	p := m.Get("/settings/billing/plans")
	webtest.WantStatus(t, p, http.StatusOK)
	if p.Has(`[data-testid^="upgrade-"]`) || p.Has(`[data-testid^="downgrade-"]`) || p.Has(`[data-testid="cancel-downgrade"]`) {
		t.Fatal("a member sees plan change buttons")
	}
	if !strings.Contains(p.Text(`[data-testid="plans-note"]`), "Only an admin of Analytical Engines can change its plan") {
		t.Fatalf("member note: %q", p.Text(`[data-testid="plans-note"]`))
	}
	for _, path := range []string{"/settings/billing/plans", "/settings/billing/plans/cancel", "/settings/billing/plans/checkout/pco_x"} {
		webtest.WantStatus(t, m.Post("/settings/billing/plans", path, url.Values{"plan": {"pro"}}), http.StatusForbidden)
	}
	if cs, _ := s.Billing.CreditSummary(ctx, org); cs.Plan.Code != "free" {
		t.Fatalf("a member changed the plan to %s", cs.Plan.Code)
	}
}
