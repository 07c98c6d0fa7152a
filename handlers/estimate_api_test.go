package handlers_test

import (
	"net/http"
	"strings"
	"testing"
)

// The SPEC §9 example, and the worked month: computed from the rate card, 78,600 → Pro.
func TestPostEstimate_SeedFormulaAndSpecShape(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	r := e.call(http.MethodPost, "/api/v1/estimate", ada.key, `{"lines":[
		{"type":"ai","model":"claude-sonnet","count":10000,"quantity":1500},
		{"type":"email","count":2000,"quantity":1},
		{"type":"sms","count":500},
		{"type":"voice_call","count":120,"quantity":60}]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	for _, want := range []string{
		`"lines":[{"type":"ai","model":"claude-sonnet","count":10000,"quantity":1500,"label":"Claude Sonnet","unit":"tokens","credits":75000},`,
		`{"type":"email","count":2000,"quantity":1,"label":"Email","unit":"emails","credits":2000}`,
		`{"type":"sms","count":500,"quantity":1,"label":"SMS","unit":"messages","credits":1000}`,
		`{"type":"voice_call","count":120,"quantity":60,"label":"Voice call","unit":"seconds","credits":600}]`,
		`"total":78600,"recommendedPlan":"pro","topUp":77600,`,
		`"savings":[{"line":0,"model":"claude-sonnet","alternative":"claude-haiku","credits":60000,"message":"Claude Sonnet → Claude Haiku saves 60,000 credits a month"}`,
		`"cost":{"cents":78600,"topUpCents":77600,"creditPriceCents":1,"currency":"usd"}`,
		`"current":{"code":"free","name":"Free","credits":1000,"priceCents":0}`,
		`"recommended":{"code":"pro","name":"Pro","credits":100000,"priceCents":24900}`,
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("body lacks %s\n%s", want, r.Body)
		}
	}
	// Nothing is stored: the balance is untouched.
	if c := e.call(http.MethodGet, "/api/v1/credits", ada.key, nil); c.JSON["balance"].(interface{ String() string }).String() != "1000" {
		t.Errorf("balance after an estimate: %v", c.JSON["balance"])
	}
}

func TestPostEstimate_AnyKeyMayCall(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	dev := e.addMember(ada.org, "dev", "member")
	r := e.call(http.MethodPost, "/api/v1/estimate", dev.key, `{"lines":[{"type":"email","count":5}]}`)
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), `"total":5,`) {
		t.Fatalf("member's key: HTTP %d %s", r.Status, r.Body)
	}
	if r := e.call(http.MethodPost, "/api/v1/estimate", "", `{"lines":[{"type":"email","count":5}]}`); r.Status != http.StatusUnauthorized {
		t.Fatalf("no key: HTTP %d", r.Status)
	}
}

func TestPostEstimate_400NamesTheField(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ada := e.signUp("ada")
	cases := []struct{ body, msg string }{
		{`{}`, `the body needs a "lines" array of 1 to 50 lines`},
		{`{"lines":[]}`, `the body needs a "lines" array`},
		{`{"lines":[5]}`, `lines[0]: a line must be a JSON object, not a number`},
		{`{"lines":[{"type":"email","count":-1}]}`, `lines[0].count: can't be negative`},
		{`{"lines":[{"type":"email","count":"12"}]}`, `lines[0].count: must be a JSON number, not a string`},
		{`{"lines":[{"type":"email","count":1.5}]}`, `lines[0].count: enter a whole number (got 1.5)`},
		{`{"lines":[{"type":"email","count":1000000000000}]}`, `lines[0].count: 1000000000000 is more than the 1,000,000,000 an estimate takes`},
		{`{"lines":[{"type":"ai","model":"claude-sonnet","count":1}]}`, `lines[0].quantity: required: the tokens of each time`},
		{`{"lines":[{"type":"email","count":1},{"type":"ai","model":"claude-poet","quantity":10}]}`, `lines[1].model: unknown model "claude-poet": choose one of claude-haiku, claude-opus, claude-sonnet, gpt-4o, gpt-4o-mini`},
		{`{"lines":[{"type":"fax","count":1}]}`, `lines[0].type: unknown type "fax": choose one of ai, email, sms, voice_call, voice_synthesis`},
		{`{"lines":[{"type":"ai","model":"claude-opus","count":1000000000,"quantity":1000000000000}]}`, `lines[0]: this line would cost over 1,000,000,000,000 credits a month`},
		{`{"lines":` + strings.Repeat(`[`, 1) + strings.TrimSuffix(strings.Repeat(`{"type":"sms"},`, 51), ",") + `]}`, `an estimate has at most 50 lines (got 51)`},
		{`not json`, `the body is not valid JSON`},
	}
	for _, c := range cases {
		r := e.call(http.MethodPost, "/api/v1/estimate", ada.key, c.body)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: HTTP %d, want 400: %s", c.body, r.Status, r.Body)
			continue
		}
		code, msg := errorOf(t, r)
		if code != "invalid" || !strings.Contains(msg, c.msg) {
			t.Errorf("%s: %s %q, want %q", c.body, code, msg, c.msg)
		}
	}
}
