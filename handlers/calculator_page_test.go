package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// month is the worked month as the calculator's form sends it (voice in minutes).
func month() url.Values {
	return url.Values{
		"type":     {"ai", "email", "sms", "voice_call"},
		"model":    {"claude-sonnet", "", "", ""},
		"count":    {"10000", "2,000", "500", "120"},
		"quantity": {"1500", "1", "1", "1"},
	}
}

func lineCredits(p *webtest.Page) []string {
	var out []string
	p.Doc.Find(`[data-testid="calc-line-credits"]`).Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(s.Text()), " "))
	})
	return out
}

// Without JavaScript the calculator is a plain GET form: the same page comes back with the
// estimate, and the no-htmx request gets the whole page.
func TestCalculator_PlainFormShowsTheEstimate(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	p := b.Get("/settings/billing/calculator?" + month().Encode())
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`[data-testid="calc-form"][method="get"][action="/settings/billing/calculator"]`) || !p.Has(`[data-testid="page-title"]`) {
		t.Fatal("not the whole page with its plain form")
	}
	if got := p.Text(`[data-testid="calc-total"]`); strings.Join(strings.Fields(got), " ") != "78,600 credits" {
		t.Errorf("total %q", got)
	}
	if got := lineCredits(p); strings.Join(got, "|") != "75,000 credits|2,000 credits|1,000 credits|600 credits" {
		t.Errorf("line credits %q", got)
	}
	for sel, want := range map[string]string{
		`[data-testid="calc-cost"]`:                    "$786.00 a month at $0.01 a credit",
		`[data-testid="calc-plan-name"]`:               "Pro",
		`[data-testid="calc-topup"]`:                   "Buy 77,600 credits a month on top of its 1,000 ($776.00).",
		`[data-testid="calc-saving"]`:                  "Claude Sonnet → Claude Haiku saves 60,000 credits a month",
		`[data-testid="calc-line-tip"]`:                "Claude Sonnet → Claude Haiku saves 60,000 credits a month",
		`[data-testid="calc-topup"] .calc-block-label`: "On your Free plan",
	} {
		if got := strings.Join(strings.Fields(p.Text(sel)), " "); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	// The form keeps what was typed.
	if v, _ := p.Doc.Find(`#line-1-count`).Attr("value"); v != "2,000" {
		t.Errorf("email count shows %q", v)
	}
}

func TestCalculator_FirstVisitShowsAnExampleMonth(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	p := b.Get("/settings/billing/calculator")
	webtest.WantStatus(t, p, http.StatusOK)
	if got := strings.Join(strings.Fields(p.Text(`[data-testid="calc-total"]`)), " "); got != "78,600 credits" {
		t.Errorf("example total %q", got)
	}
}

func TestCalculator_EveryMemberMayUseIt(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	_, org := s.SignedUp("ada@example.com", "Analytical Engines")
	m := s.Browser()
	m.Login(s.Member(org, "mel@example.com", identity.RoleMember), "correct horse")
	p := m.Get("/settings/billing/calculator?" + month().Encode())
	webtest.WantStatus(t, p, http.StatusOK)
	if !p.Has(`[data-testid="calc-total"]`) {
		t.Fatal("a member gets no estimate")
	}
	if anon := s.Browser().Get("/settings/billing/calculator"); anon.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", anon.StatusCode)
	}
}

// Bad input gets a message next to its field and no total.
func TestCalculator_BadInputHasMessagesAndNoTotal(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	cases := []struct {
		line  int
		field string
		value string
		want  string
	}{
		{1, "count", "-3", "Can't be negative."},
		{1, "count", "lots", `"lots" is not a number: enter a whole number, like 2000.`},
		{1, "count", "", "Enter a number."},
		{0, "quantity", "1.5", "Enter a whole number (got 1.5)."},
		{0, "count", "99999999999", "99999999999 is more than the 1,000,000,000 an estimate takes: check the number."},
		{3, "quantity", "99999999999999", "is more than the 16,666,666,666 an estimate takes"},
		{0, "model", "claude-poet", `Unknown model "claude-poet": choose one of claude-haiku, claude-opus, claude-sonnet, gpt-4o, gpt-4o-mini.`},
	}
	for _, c := range cases {
		q := month()
		q[c.field][c.line] = c.value
		p := b.Get("/settings/billing/calculator?" + q.Encode())
		webtest.WantStatus(t, p, http.StatusOK)
		msg := strings.TrimSpace(p.Doc.Find("#line-" + string(rune('0'+c.line)) + "-" + c.field + "-error").Text())
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s %q: message %q, want %q", c.field, c.value, msg, c.want)
		}
		if p.Has(`[data-testid="calc-total"]`) || !p.Has(`[data-testid="calc-invalid"]`) {
			t.Errorf("%s %q: a total is shown for bad input", c.field, c.value)
		}
		if inv, _ := p.Doc.Find("#line-" + string(rune('0'+c.line)) + "-" + c.field).Attr("aria-invalid"); c.field != "model" && inv != "true" {
			t.Errorf("%s %q: field not marked invalid", c.field, c.value)
		}
	}
}

// follow answers a plain form's add or remove with a redirect to the address of the resulting
// lines (so that reloading it does not add or remove again), and follows it.
func follow(t *testing.T, b *webtest.Browser, path string) *webtest.Page {
	t.Helper()
	p := b.Get(path)
	loc := p.Header.Get("Location")
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/settings/billing/calculator?") || strings.Contains(loc, "add=") || strings.Contains(loc, "remove=") {
		t.Fatalf("%s: %d to %q", path, p.StatusCode, loc)
	}
	return b.Get(loc)
}

func TestCalculator_AddRemoveAndTooManyLines(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	q := month()
	q.Set("add", "voice_synthesis")
	p := follow(t, b, "/settings/billing/calculator?"+q.Encode())
	if n := p.Doc.Find(`[data-testid="calc-line"]`).Length(); n != 5 {
		t.Fatalf("%d lines after adding one", n)
	}
	// 100 × 1,000 characters = 100 credits on top.
	if got := strings.Join(strings.Fields(p.Text(`[data-testid="calc-total"]`)), " "); got != "78,700 credits" {
		t.Errorf("total with synthesis %q", got)
	}
	q = month()
	q.Set("remove", "0")
	p = follow(t, b, "/settings/billing/calculator?"+q.Encode())
	if got := strings.Join(strings.Fields(p.Text(`[data-testid="calc-total"]`)), " "); got != "3,600 credits" {
		t.Errorf("total without the AI line %q", got)
	}
	if got := p.Text(`[data-testid="calc-plan-name"]`); got != "Starter" {
		t.Errorf("plan %q", got)
	}
	// Removing every line leaves an empty calculator, not an error.
	p = follow(t, b, "/settings/billing/calculator?type=email&count=1&quantity=1&model=&remove=0")
	if !p.Has(`[data-testid="calc-no-lines"]`) || !p.Has(`[data-testid="calc-empty"]`) {
		t.Error("no empty state without lines")
	}
	many := url.Values{}
	for i := 0; i < 51; i++ {
		many.Add("type", "sms")
		many.Add("model", "")
		many.Add("count", "1")
		many.Add("quantity", "1")
	}
	p = b.Get("/settings/billing/calculator?" + many.Encode())
	if got := p.Text(`[data-testid="alert-error"]`); !strings.Contains(got, "at most 50 lines (got 51)") {
		t.Errorf("51 lines: %q", got)
	}
}

// htmx asks for the results only while the user types: they come with each line's credits
// and messages out of band, and never with the form's fields.
func TestCalculator_HtmxResultsFragment(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, _ := s.SignedUp("ada@example.com", "Analytical Engines")
	p := b.Get("/settings/billing/calculator?"+month().Encode(), "HX-Request", "true", "HX-Target", "calc-results")
	webtest.WantStatus(t, p, http.StatusOK)
	if p.Has(`[data-testid="calc-form"]`) || p.Has(`input`) || p.Has(`[data-testid="page-title"]`) {
		t.Fatal("the results fragment carries the form or the page")
	}
	if got := strings.Join(strings.Fields(p.Text(`#calc-results [data-testid="calc-total"]`)), " "); got != "78,600 credits" {
		t.Errorf("fragment total %q", got)
	}
	if n := p.Doc.Find(`[hx-swap-oob="true"][data-testid="calc-line-credits"]`).Length(); n != 4 {
		t.Errorf("%d out-of-band line figures", n)
	}
	q := month()
	q["count"][2] = "-1"
	p = b.Get("/settings/billing/calculator?"+q.Encode(), "HX-Request", "true", "HX-Target", "calc-results")
	if got := strings.TrimSpace(p.Doc.Find(`#line-2-count-error[hx-swap-oob="true"]`).Text()); got != "Can't be negative." {
		t.Errorf("out-of-band message %q", got)
	}
	// Adding a line redraws the calculator, not the page.
	q = month()
	q.Set("add", "ai")
	p = b.Get("/settings/billing/calculator?"+q.Encode(), "HX-Request", "true", "HX-Target", "calculator")
	if !p.Has(`#calculator [data-testid="calc-form"]`) || p.Has(`[data-testid="page-title"]`) {
		t.Fatal("adding a line: not the calculator fragment")
	}
	if n := p.Doc.Find(`[data-testid="calc-line"]`).Length(); n != 5 {
		t.Errorf("%d lines", n)
	}
	if loc := p.Header.Get("HX-Replace-Url"); !strings.HasPrefix(loc, "/settings/billing/calculator?") || strings.Contains(loc, "add=") || strings.Count(loc, "type=") != 5 {
		t.Errorf("HX-Replace-Url %q", loc)
	}
}

// The page and POST /api/v1/estimate give the same credits for the same lines (the page takes
// voice calls in minutes per call, the API in seconds).
func TestCalculator_PageAndAPIAgree(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, org := s.SignedUp("ada@example.com", "Analytical Engines")
	u, err := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := s.Identity.CreateAPIKey(ctx, org, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		typ, model string
		count, qty int64
		formQty    string
	}
	for _, lines := range [][]line{
		{{"ai", "claude-sonnet", 10000, 1500, "1500"}, {"email", "", 2000, 1, "1"}, {"sms", "", 500, 1, "1"}, {"voice_call", "", 120, 60, "1"}},
		{{"ai", "gpt-4o-mini", 7, 333, "333"}, {"voice_call", "", 50, 180, "3"}, {"voice_synthesis", "", 300, 1200, "1200"}},
		{{"ai", "claude-opus", 100000, 100000, "100000"}},
	} {
		q := url.Values{}
		var body strings.Builder
		body.WriteString(`{"lines":[`)
		for i, l := range lines {
			q.Add("type", l.typ)
			q.Add("model", l.model)
			q.Add("count", fmt.Sprint(l.count))
			q.Add("quantity", l.formQty)
			if i > 0 {
				body.WriteString(",")
			}
			fmt.Fprintf(&body, `{"type":%q,"model":%q,"count":%d,"quantity":%d}`, l.typ, l.model, l.count, l.qty)
		}
		body.WriteString("]}")
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/estimate", strings.NewReader(body.String()))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var api struct {
			Lines           []struct{ Credits billing.Millicredits }
			Total           billing.Millicredits
			RecommendedPlan string
			TopUp           billing.Millicredits
		}
		err = json.NewDecoder(res.Body).Decode(&api)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("API %d: %v", res.StatusCode, err)
		}
		p := b.Get("/settings/billing/calculator?" + q.Encode())
		var want []string
		for _, l := range api.Lines {
			want = append(want, l.Credits.String()+" credits")
		}
		if got := lineCredits(p); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("lines: page %q, API %q", got, want)
		}
		if got := strings.Join(strings.Fields(p.Text(`[data-testid="calc-total"]`)), " "); got != api.Total.String()+" credits" {
			t.Errorf("total: page %q, API %s", got, api.Total)
		}
		if got := p.Text(`[data-testid="calc-plan-name"]`); !strings.EqualFold(got, api.RecommendedPlan) {
			t.Errorf("plan: page %q, API %q", got, api.RecommendedPlan)
		}
		if api.TopUp > 0 && p.Text(`[data-testid="calc-topup-credits"]`) != api.TopUp.String() {
			t.Errorf("top-up: page %q, API %s", p.Text(`[data-testid="calc-topup-credits"]`), api.TopUp)
		}
	}
}

// "Start from my last 30 days" fills the lines from the org's usage (voice in minutes per call).
func TestCalculator_StartFromTheLast30Days(t *testing.T) {
	t.Parallel()
	s := webtest.NewSite(t)
	b, org := s.SignedUp("ada@example.com", "Analytical Engines")
	p := b.Get("/settings/billing/calculator?start=usage&" + month().Encode())
	if got := p.Text(`[data-testid="alert-info"]`); !strings.Contains(got, "No usage in the last 30 days yet") {
		t.Errorf("without usage: %q", got)
	}
	if n := p.Doc.Find(`[data-testid="calc-line"]`).Length(); n != 4 {
		t.Errorf("without usage the lines changed: %d", n)
	}
	u, _ := s.Identity.FindUserByEmail(ctx, "ada@example.com")
	_, err := s.Billing.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{
		{ID: "1", FlowID: "f", ExecutionID: "x", Type: "ai", Model: "claude-opus", Quantity: 2000},
		{ID: "2", FlowID: "f", ExecutionID: "x", Type: "ai", Model: "claude-opus", Quantity: 1000},
		{ID: "3", FlowID: "f", ExecutionID: "x", Type: "voice_call", Quantity: 130},
	})
	if err != nil {
		t.Fatal(err)
	}
	p = b.Get("/settings/billing/calculator?start=usage&" + month().Encode())
	if got := p.Text(`[data-testid="alert-info"]`); !strings.Contains(got, "These lines repeat what your flows used in the last 30 days") {
		t.Errorf("with usage: %q", got)
	}
	var got []string
	p.Doc.Find(`[data-testid="calc-line"]`).Each(func(_ int, l *goquery.Selection) {
		model, _ := l.Find(`select[name="model"] option[selected]`).Attr("value")
		count, _ := l.Find(`input[name="count"]`).Attr("value")
		qty, _ := l.Find(`input[name="quantity"]`).Attr("value")
		got = append(got, strings.TrimSpace(model+" "+count+"×"+qty))
	})
	// Two Opus calls of 1,500 tokens on average; one call of 130 s is 3 started minutes.
	if strings.Join(got, "|") != "claude-opus 2×1,500|1×3" {
		t.Errorf("lines %q", got)
	}
	if total := strings.Join(strings.Fields(p.Text(`[data-testid="calc-total"]`)), " "); total != "60 credits" {
		t.Errorf("total %q", total)
	}
}
