package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing/identity"
)

// An admin sets a monthly limit on the Limits page, usage through the API goes over it, the
// overview's banner says so and links to the Limits page, the admin raises the limit there and
// the banner is gone — and authorize answers 402, then 200. A member's limit is set inline in
// its row.
func TestBrowser_LimitPausesAndRaisingItResumes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	ada, org, err := a.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada Admin", Password: "correct horse"}, "Initech")
	if err != nil {
		t.Fatal(err)
	}
	dev, err := a.Identity.CreateUser(ctx, identity.NewUser{Email: "dev@example.com", Name: "Dev", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Identity.AddMember(ctx, org, dev.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Identity.CreateAPIKey(ctx, org, ada.ID, "flow engine")
	if err != nil {
		t.Fatal(err)
	}
	api := func(path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, a.URL+path, bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	authorize := func() int { return api("/api/v1/authorize", `{"flowId":"flow_1","executionId":"exec_1"}`) }

	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	tb.open("/settings/billing/limits")
	tb.retype("limits-monthly", "100")
	tb.do(chromedp.Click(testID("limits-save")))
	if got := tb.text(testID("limits-saved")); !strings.Contains(got, "Limits saved") {
		t.Fatalf("saved message = %q", got)
	}
	if got := tb.text(chromedp.CSS(`#limits-audit [data-testid="audit-row"]`)); !strings.Contains(got, "None → 100 credits") {
		t.Errorf("the log, swapped in by htmx: %q", got)
	}

	// 150 emails: over the limit. Usage is recorded; flows pause.
	if s := api("/api/v1/usage", `{"events":[{"id":"e1","flowId":"flow_1","executionId":"exec_1","type":"email","quantity":150}]}`); s != http.StatusOK {
		t.Fatalf("usage: HTTP %d", s)
	}
	if s := authorize(); s != http.StatusPaymentRequired {
		t.Errorf("authorize over the limit: HTTP %d, want 402", s)
	}
	tb.open("/settings/billing")
	if got := tb.text(testID("pause-banner")); !strings.Contains(got, "monthly credit limit is reached") {
		t.Errorf("banner = %q", got)
	}
	tb.do(chromedp.Click(chromedp.CSS(`[data-testid="pause-banner"] a[href="/settings/billing/limits"]`)))
	tb.wait(testID("limits-form"))
	tb.retype("limits-monthly", "500")
	tb.do(chromedp.Click(testID("limits-save")))
	tb.wait(testID("limits-saved"))

	// The member's own limit, inline in its row.
	row := `tr[data-user="` + dev.ID + `"]`
	tb.do(chromedp.SendKeys(chromedp.CSS(row+` [data-testid="member-limit-input"]`), "20"),
		chromedp.Click(chromedp.CSS(row+` [data-testid="member-limit-save"]`)))
	tb.wait(chromedp.CSS(row + ` [data-testid="member-limit-saved"]`))
	if n := tb.count(`#limits-audit [data-testid="audit-row"]`); n != 3 {
		t.Errorf("%d audit rows after three changes", n)
	}

	tb.open("/settings/billing")
	tb.wait(testID("balance"))
	if n := tb.count(`[data-testid="pause-banner"]`); n != 0 {
		t.Errorf("the pause banner is still shown after raising the limit")
	}
	if s := authorize(); s != http.StatusOK {
		t.Errorf("authorize after raising the limit: HTTP %d, want 200", s)
	}
}
