package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/luxstudio/lux-billing/billing/identity"
)

// waitText waits until the element's text, spaces collapsed, is want.
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	js := fmt.Sprintf(`((document.querySelector(%q) || {}).innerText || "").replace(/\s+/g, " ").trim() === %q`, sel, want)
	if _, err := chromedp.Run(tb.ctx, chromedp.Poll[bool](js, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		got := tb.evalString(fmt.Sprintf(`((document.querySelector(%q) || {}).innerText || "(none)").replace(/\s+/g, " ").trim()`, sel))
		tb.t.Fatalf("%s shows %q, want %q: %v", sel, got, want, err)
	}
}

// retype replaces what a field holds by typing, as a person does.
func (tb *tab) retype(id, text string) {
	tb.t.Helper()
	// Select what the field holds, then type over it (keys go to the focused field).
	tb.do(chromedp.WaitVisible(chromedp.ID(id)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(f => { f.focus(); f.select(); })(document.getElementById(%q))`, id)),
		chromedp.KeyEvent(text))
}

// Typing recalculates the month after a pause: the total, the line's credits and the plan
// follow, a bad number gets its message and hides the total, and the address keeps the lines.
func TestBrowser_CalculatorRecalculatesAsYouType(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, _, err := a.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}, "Analytical Engines"); err != nil {
		t.Fatal(err)
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	tb.do(chromedp.Click(testID("nav-calculator")))
	tb.wait(testID("calc-total"))
	tb.waitText(`[data-testid="calc-total"]`, "78,600 credits")
	tb.waitText(`[data-testid="calc-plan-name"]`, "Pro")

	tb.retype("line-1-count", "20000") // emails: 2,000 → 20,000
	tb.waitText(`[data-testid="calc-total"]`, "96,600 credits")
	tb.waitText(`#line-1-credits`, "20,000 credits")
	tb.waitText(`[data-testid="calc-cost"]`, "$966.00 a month at $0.01 a credit")

	tb.retype("line-0-count", "30000") // Sonnet: 225,000 credits → over Pro
	tb.waitText(`[data-testid="calc-plan-name"]`, "Enterprise")
	tb.waitText(`[data-testid="calc-total"]`, "246,600 credits")

	tb.do(chromedp.SetValue(chromedp.ID("line-0-model"), "claude-haiku"), chromedp.Evaluate[chromedp.Void](
		`document.getElementById("line-0-model").dispatchEvent(new Event("change", {bubbles: true}))`))
	tb.waitText(`#line-0-credits`, "45,000 credits")
	tb.waitText(`[data-testid="calc-plan-name"]`, "Pro")

	tb.retype("line-2-count", "-5")
	tb.waitText(`#line-2-count-error`, "Can't be negative.")
	tb.wait(testID("calc-invalid"))
	if n := tb.count(`[data-testid="calc-total"]`); n != 0 {
		t.Errorf("a total is shown for bad input")
	}
	tb.retype("line-2-count", "500")
	tb.waitText(`[data-testid="calc-total"]`, "66,600 credits")
	if msg := tb.evalString(`document.getElementById("line-2-count-error").textContent.trim()`); msg != "" {
		t.Errorf("stale message %q", msg)
	}

	// Adding a line redraws the form with it; the estimate includes it.
	tb.do(chromedp.Click(testID("calc-add-voice_synthesis")))
	tb.waitText(`#line-4-credits`, "100 credits")
	tb.waitText(`[data-testid="calc-total"]`, "66,700 credits")
	// Removing the Haiku line.
	tb.do(chromedp.Click(`#line-0-credits ~ [data-testid="calc-remove"]`))
	tb.waitText(`[data-testid="calc-total"]`, "21,700 credits")
	tb.waitText(`[data-testid="calc-plan-name"]`, "Pro")
	if loc := tb.location(); !strings.Contains(loc, "/settings/billing/calculator?") || !strings.Contains(loc, "count=20000") || strings.Contains(loc, "remove=") {
		t.Errorf("the address does not keep the lines (and only them): %s", loc)
	}
	// Reloading shows the same lines.
	tb.open(tb.location())
	tb.waitText(`[data-testid="calc-total"]`, "21,700 credits")
}

// The page and the API give the same numbers for the same lines.
func TestBrowser_CalculatorAgreesWithTheAPI(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	u, org, err := a.Identity.SignUp(context.Background(), identity.NewUser{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := a.Identity.CreateAPIKey(context.Background(), org, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"lines":[{"type":"ai","model":"claude-opus","count":300,"quantity":20000},{"type":"voice_call","count":50,"quantity":150},{"type":"voice_synthesis","count":300,"quantity":1200}]}`
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/v1/estimate", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var est struct {
		Total           json.Number
		RecommendedPlan string
		Lines           []struct{ Credits json.Number }
	}
	if err := json.NewDecoder(res.Body).Decode(&est); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("API: %d %v", res.StatusCode, err)
	}
	tb := newTab(t, a.URL)
	tb.login("ada@example.com", "correct horse")
	// Voice calls of 2 min 30 s are billed 3 minutes each: the form takes 3 minutes.
	tb.open("/settings/billing/calculator?type=ai&model=claude-opus&count=300&quantity=20000&type=voice_call&model=&count=50&quantity=3&type=voice_synthesis&model=&count=300&quantity=1200")
	total := strings.TrimSuffix(tb.text(testID("calc-total")), " credits")
	if strings.ReplaceAll(total, ",", "") != est.Total.String() || est.Total.String() != "91110" {
		t.Errorf("page %s, API %s", total, est.Total)
	}
	for i, l := range est.Lines {
		got := strings.TrimSuffix(tb.text(chromedp.CSS(fmt.Sprintf("#line-%d-credits", i))), " credits")
		if strings.ReplaceAll(got, ",", "") != l.Credits.String() {
			t.Errorf("line %d: page %s, API %s", i, got, l.Credits)
		}
	}
	if got := tb.text(testID("calc-plan-name")); !strings.EqualFold(got, est.RecommendedPlan) {
		t.Errorf("plan: page %s, API %s", got, est.RecommendedPlan)
	}
}

// captureCalculator writes the calculator with a filled estimate (a tip and a top-up), light and
// dark, desktop and phone, and with a bad number.
func (tb *tab) captureCalculator(dir, who string) {
	tb.t.Helper()
	filled := screen{"calculator-filled", "/settings/billing/calculator?type=ai&model=claude-sonnet&count=10%2C000&quantity=1%2C500&type=ai&model=claude-opus&count=300&quantity=20%2C000&type=email&model=&count=2%2C000&quantity=1&type=sms&model=&count=500&quantity=1&type=voice_call&model=&count=120&quantity=1&type=voice_synthesis&model=&count=300&quantity=1%2C200", "calculator", http.StatusOK}
	tb.capture(dir, who, filled)
	tb.captureDark(dir, who, filled)
	bad := screen{"calculator-invalid", "/settings/billing/calculator?type=ai&model=claude-sonnet&count=-5&quantity=1%2C500&type=email&model=&count=lots&quantity=1", "calculator", http.StatusOK}
	tb.viewport(desktopWidth, 900, false)
	tb.checkPage(bad)
	tb.shoot(filepath.Join(dir, who+"-calculator-invalid-desktop.png"), true)
}
