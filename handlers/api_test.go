package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

var ctx = context.Background()

// t0 is the tests' "now": the day of the spec's example event.
var t0 = time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC)

func TestPostUsage_SpecExample(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")

	first := e.call("POST", "/api/v1/usage", a.key, specExample)
	if first.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", first.Status, first.Body)
	}
	want := `{"results":[{"id":"evt_1","credits":7.66,"duplicate":false}],"balance":992.34,"paused":false,"pauseReason":null}`
	if got := strings.TrimSpace(string(first.Body)); got != want {
		t.Errorf("first answer\n got %s\nwant %s", got, want)
	}

	again := e.call("POST", "/api/v1/usage", a.key, specExample)
	want = `{"results":[{"id":"evt_1","credits":7.66,"duplicate":true}],"balance":992.34,"paused":false,"pauseReason":null}`
	if got := strings.TrimSpace(string(again.Body)); again.Status != http.StatusOK || got != want {
		t.Errorf("resend: HTTP %d\n got %s\nwant %s", again.Status, got, want)
	}
	if s := e.state(a.org); s.Events != 1 || s.Balance != 992_340 {
		t.Errorf("after a resend: %d events, balance %d mc; want 1 event, 992340 mc", s.Events, s.Balance)
	}
	var user string
	if err := e.DB.Get(&user, `SELECT user_id FROM usage_events WHERE org_id = $1 AND id = 'evt_1'`, a.org); err != nil || user != a.user {
		t.Errorf("userId defaulted to %q (%v), want the key's user %q", user, err, a.user)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestPostUsage_OccurredAtDefaultsToReceipt(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	if r := e.call("POST", "/api/v1/usage", a.key, batch(event("e1"))); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	var at time.Time
	if err := e.DB.Get(&at, `SELECT occurred_at FROM usage_events WHERE org_id = $1`, a.org); err != nil || !at.Equal(t0) {
		t.Errorf("occurredAt = %v (%v), want the time of receipt %v", at, err, t0)
	}
}

func TestPostUsage_BadInputIsRefusedAndWritesNothing(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	other := e.signUp("bob")
	// Some history, so that "unchanged" is not just "empty".
	if r := e.call("POST", "/api/v1/usage", a.key, batch(event("before_1"), event("before_2"))); r.Status != http.StatusOK {
		t.Fatalf("setup: HTTP %d: %s", r.Status, r.Body)
	}
	before := e.state(a.org)

	// with returns a batch of a valid event and then the valid event changed by change.
	with := func(change func(ev map[string]any)) map[string]any {
		bad := event("bad")
		change(bad)
		return batch(event("fresh"), bad)
	}
	set := func(k string, v any) func(map[string]any) { return func(ev map[string]any) { ev[k] = v } }
	del := func(k string) func(map[string]any) { return func(ev map[string]any) { delete(ev, k) } }
	long := strings.Repeat("x", billing.MaxIDLength+1)
	var full strings.Builder
	full.WriteString(`{"events":[`)
	for i := range billing.MaxBatch + 1 {
		if i > 0 {
			full.WriteByte(',')
		}
		fmt.Fprintf(&full, `{"id":"big_%d","flowId":"f","executionId":"x","type":"email","quantity":1}`, i)
	}
	full.WriteString(`]}`)

	cases := []struct {
		name     string
		body     any
		status   int
		code     string
		mentions []string
	}{
		{"malformed JSON", `{"events":[{"id":"e1",`, 400, billing.EINVALID, []string{"JSON"}},
		{"not JSON at all", `events=1`, 400, billing.EINVALID, []string{"JSON"}},
		{"empty body", ``, 400, billing.EINVALID, []string{"empty"}},
		{"an array, not an object", `[]`, 400, billing.EINVALID, []string{"object"}},
		{"trailing data", `{"events":[{"id":"t","flowId":"f","executionId":"x","type":"email","quantity":1}]}}`, 400, billing.EINVALID, []string{"after the JSON"}},
		{"no events", `{}`, 400, billing.EINVALID, []string{`"events"`}},
		{"events not an array", `{"events":{"id":"e"}}`, 400, billing.EINVALID, []string{`"events"`, "array"}},
		{"no event in the batch", `{"events":[]}`, 400, billing.EINVALID, []string{`"events"`, "empty"}},
		{"an event that is not an object", `{"events":[1]}`, 400, billing.EINVALID, []string{"events[0]", "object"}},
		{"1,001 events", full.String(), 413, billing.ETOOLARGE, []string{"1000", "events"}},
		{"a body over 4 MB", `{"events":[],"pad":"` + strings.Repeat("x", 4<<20) + `"}`, 413, billing.ETOOLARGE, []string{"body"}},
		{"negative quantity", with(set("quantity", -5)), 400, billing.EINVALID, []string{"events[1]", `"quantity"`, "positive"}},
		{"zero quantity", with(set("quantity", 0)), 400, billing.EINVALID, []string{"events[1]", `"quantity"`}},
		{"fractional quantity", with(set("quantity", json.Number("1.5"))), 400, billing.EINVALID, []string{"events[1]", `"quantity"`, "whole"}},
		{"quantity as a string", with(set("quantity", "5")), 400, billing.EINVALID, []string{"events[1]", `"quantity"`, "number"}},
		{"quantity too large", with(set("quantity", billing.MaxQuantity+1)), 400, billing.EINVALID, []string{"events[1]", `"quantity"`}},
		{"missing id", with(del("id")), 400, billing.EINVALID, []string{"events[1]", `"id" is required`}},
		{"blank id", with(set("id", "  ")), 400, billing.EINVALID, []string{"events[1]", `"id" is required`}},
		{"missing flowId", with(del("flowId")), 400, billing.EINVALID, []string{"events[1]", `"flowId" is required`}},
		{"missing executionId", with(del("executionId")), 400, billing.EINVALID, []string{"events[1]", `"executionId" is required`}},
		{"missing type", with(del("type")), 400, billing.EINVALID, []string{"events[1]", `"type" is required`}},
		{"missing quantity", with(del("quantity")), 400, billing.EINVALID, []string{"events[1]", `"quantity" is required`}},
		{"id of the wrong JSON type", with(set("id", 42)), 400, billing.EINVALID, []string{"events[1]", `"id"`, "string"}},
		{"ai without a model", with(func(ev map[string]any) { ev["type"] = "ai" }), 400, billing.EINVALID, []string{"events[1]", `"model"`}},
		{"unknown type", with(set("type", "fax")), 400, billing.EINVALID, []string{"events[1]", "type", `"fax"`}},
		{"unknown model", with(func(ev map[string]any) { ev["type"], ev["model"] = "ai", "claude-unknown" }), 400, billing.EINVALID, []string{"events[1]", "model", `"claude-unknown"`}},
		{"a model on a type that takes none", with(set("model", "claude-sonnet")), 400, billing.EINVALID, []string{"events[1]", `"model"`}},
		{"timestamp not RFC 3339", with(set("occurredAt", "yesterday")), 400, billing.EINVALID, []string{"events[1]", `"occurredAt"`, "RFC 3339"}},
		{"timestamp without a zone", with(set("occurredAt", "2026-11-26T10:00:00")), 400, billing.EINVALID, []string{"events[1]", `"occurredAt"`}},
		{"timestamp as a number", with(set("occurredAt", 1764151200)), 400, billing.EINVALID, []string{"events[1]", `"occurredAt"`}},
		{"timestamp in the future", with(set("occurredAt", t0.Add(time.Hour).Format(time.RFC3339))), 400, billing.EINVALID, []string{"events[1]", `"occurredAt"`, "future"}},
		{"timestamp over 400 days old", with(set("occurredAt", t0.AddDate(0, 0, -401).Format(time.RFC3339))), 400, billing.EINVALID, []string{"events[1]", `"occurredAt"`, "400 days"}},
		{"over-long id", with(set("id", long)), 400, billing.EINVALID, []string{"events[1]", `"id"`, "128"}},
		{"over-long flowId", with(set("flowId", long)), 400, billing.EINVALID, []string{"events[1]", `"flowId"`, "128"}},
		{"over-long executionId", with(set("executionId", long)), 400, billing.EINVALID, []string{"events[1]", `"executionId"`, "128"}},
		{"over-long userId", with(set("userId", long)), 400, billing.EINVALID, []string{"events[1]", `"userId"`, "128"}},
		{"id with a space", with(set("id", "evt 1")), 400, billing.EINVALID, []string{"events[1]", `"id"`}},
		{"id with a control character", with(set("id", "evt\u0001")), 400, billing.EINVALID, []string{"events[1]", `"id"`}},
		{"userId not a member", with(set("userId", "usr_nobody")), 400, billing.EINVALID, []string{"events[1]", "userId", "not a member"}},
		{"userId of another org's user", with(set("userId", other.user)), 400, billing.EINVALID, []string{"events[1]", "userId", "not a member"}},
		{"same id twice with different bodies", batch(event("twice"), func() map[string]any { ev := event("twice"); ev["quantity"] = 2; return ev }()), 409, billing.ECONFLICT, []string{"events[1]", `"twice"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.call("POST", "/api/v1/usage", a.key, c.body)
			wantError(t, r, c.status, c.code, c.mentions...)
			if after := e.state(a.org); after != before {
				t.Errorf("a refused batch changed the org:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestPostUsage_ReusedIDWithDifferentBodyIsConflict(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	if r := e.call("POST", "/api/v1/usage", a.key, batch(event("evt_a"))); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	before := e.state(a.org)
	changed := event("evt_a")
	changed["quantity"] = 2
	r := e.call("POST", "/api/v1/usage", a.key, batch(event("evt_b"), changed))
	wantError(t, r, http.StatusConflict, billing.ECONFLICT, "events[1]", `"evt_a"`)
	if after := e.state(a.org); after != before {
		t.Errorf("the rejected batch wrote something:\nbefore %+v\nafter  %+v", before, after)
	}
	// Defaults count as sent: a userId or occurredAt added later is a different body too.
	for _, k := range []string{"userId", "occurredAt"} {
		ev := event("evt_a")
		ev[k] = map[string]string{"userId": a.user, "occurredAt": t0.Format(time.RFC3339)}[k]
		wantError(t, e.call("POST", "/api/v1/usage", a.key, batch(ev)), http.StatusConflict, billing.ECONFLICT)
	}
	// The good event of the rejected batch is recorded when sent again on its own.
	r = e.call("POST", "/api/v1/usage", a.key, batch(event("evt_b"), event("evt_a")))
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	if d := field(t, r, "results").([]any); d[0].(map[string]any)["duplicate"] != false || d[1].(map[string]any)["duplicate"] != true {
		t.Errorf("duplicate flags: %s", r.Body)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestPostUsage_RepeatedIDInOneBatchChargesOnce(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	r := e.call("POST", "/api/v1/usage", a.key, batch(event("same"), event("same"), event("other")))
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	want := `{"results":[{"id":"same","credits":1,"duplicate":false},{"id":"same","credits":1,"duplicate":true},{"id":"other","credits":1,"duplicate":false}],"balance":998,"paused":false,"pauseReason":null}`
	if got := strings.TrimSpace(string(r.Body)); got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestAPI_BadKeysAreUnauthorized(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	revoked := e.keyFor(a.org, a.user)
	// Used once before it is revoked, so that any cache of authenticated keys holds it.
	if r := e.call("GET", "/api/v1/credits", revoked.key, nil); r.Status != http.StatusOK {
		t.Fatalf("the key before revocation: HTTP %d: %s", r.Status, r.Body)
	}
	admin, err := e.Identity.FindMembership(ctx, a.org, a.user)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Identity.RevokeAPIKey(ctx, admin, revoked.keyID); err != nil {
		t.Fatal(err)
	}
	unknown := identity.APIKeyPrefix + strings.Repeat("0", 64)
	before := e.state(a.org)

	auths := []struct{ name, header, mention string }{
		{"no key", "", "Bearer"},
		{"malformed header", "Token " + a.key, "Bearer"},
		{"Bearer without a key", "Bearer", "Bearer"},
		{"Bearer with an empty key", "Bearer ", "Bearer"}, // header values lose trailing spaces in transit
		{"key without the lux_ prefix", "Bearer " + strings.TrimPrefix(a.key, identity.APIKeyPrefix), "API key"},
		{"truncated key", "Bearer " + a.key[:20], "API key"},
		{"unknown key", "Bearer " + unknown, "not valid"},
		{"revoked key", "Bearer " + revoked.key, "revoked"},
	}
	endpoints := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/usage", batch(event("e1"))},
		{"POST", "/api/v1/authorize", map[string]any{"flowId": "f", "executionId": "x"}},
		{"GET", "/api/v1/executions/exec_1", nil},
		{"GET", "/api/v1/credits", nil},
	}
	for _, au := range auths {
		for _, ep := range endpoints {
			t.Run(au.name+" "+ep.method+" "+ep.path, func(t *testing.T) {
				r := e.callAuth(ep.method, ep.path, au.header, ep.body)
				wantError(t, r, http.StatusUnauthorized, billing.EUNAUTHORIZED, au.mention)
			})
		}
	}
	if after := e.state(a.org); after != before {
		t.Errorf("unauthorized requests changed the org:\nbefore %+v\nafter  %+v", before, after)
	}
	// The scheme is case-insensitive (RFC 9110), and the good key works.
	if r := e.callAuth("GET", "/api/v1/credits", "bearer "+a.key, nil); r.Status != http.StatusOK {
		t.Errorf("lower-case bearer: HTTP %d: %s", r.Status, r.Body)
	}
}

func TestAPI_KeySeesOnlyItsOrg(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	b := e.signUp("bob")
	// Org A uses 50 credits on exec_a.
	evA := event("shared_id")
	evA["executionId"], evA["quantity"] = "exec_a", 50
	if r := e.call("POST", "/api/v1/usage", a.key, batch(evA)); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}

	// B cannot see A's execution, and is told the same as for one that does not exist.
	notFound := wantError(t, e.call("GET", "/api/v1/executions/exec_a", b.key, nil), http.StatusNotFound, billing.ENOTFOUND)
	nothing := wantError(t, e.call("GET", "/api/v1/executions/exec_none", b.key, nil), http.StatusNotFound, billing.ENOTFOUND)
	if strings.Replace(notFound, "exec_a", "exec_none", 1) != nothing {
		t.Errorf("another org's execution is told apart from a missing one: %q vs %q", notFound, nothing)
	}
	// B's credits are B's own.
	cb := e.call("GET", "/api/v1/credits", b.key, nil)
	if got := num(t, cb, "balance"); got != "1000" {
		t.Errorf("B's balance = %s, want its own 1000", got)
	}
	if got := field(t, cb, "org.id"); got != b.org {
		t.Errorf("B's credits are for org %v, want %s", got, b.org)
	}
	// Event ids are per org: B's event with A's id is B's own new event.
	evB := event("shared_id")
	evB["executionId"] = "exec_b"
	rb := e.call("POST", "/api/v1/usage", b.key, batch(evB))
	if rb.Status != http.StatusOK || field(t, rb, "results").([]any)[0].(map[string]any)["duplicate"] != false {
		t.Errorf("B's event with an id A used: HTTP %d %s", rb.Status, rb.Body)
	}
	// B can neither charge A's user nor ask on their behalf.
	evU := event("as_ada")
	evU["userId"] = a.user
	wantError(t, e.call("POST", "/api/v1/usage", b.key, batch(evU)), http.StatusBadRequest, billing.EINVALID, "not a member")
	wantError(t, e.call("POST", "/api/v1/authorize", b.key, map[string]any{"flowId": "f", "executionId": "x", "userId": a.user}), http.StatusBadRequest, billing.EINVALID, "not a member")

	// A is untouched by B.
	ca := e.call("GET", "/api/v1/credits", a.key, nil)
	if got := num(t, ca, "balance"); got != "950" {
		t.Errorf("A's balance = %s, want 950", got)
	}
	ex := e.call("GET", "/api/v1/executions/exec_a", a.key, nil)
	if ex.Status != http.StatusOK || num(t, ex, "credits.total") != "50" {
		t.Errorf("A's execution: HTTP %d %s", ex.Status, ex.Body)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
	billingtest.AssertLedger(t, e.DB, b.org)
}

// authorize asks whether a flow may go on, with an optional estimate and userId.
func (e *apiEnv) authorize(key string, extra map[string]any) response {
	e.t.Helper()
	body := map[string]any{"flowId": "flow_1", "executionId": "exec_1"}
	for k, v := range extra {
		body[k] = v
	}
	return e.call("POST", "/api/v1/authorize", key, body)
}

func wantAllowed(t testing.TB, r response, balance string) {
	t.Helper()
	if r.Status != http.StatusOK || field(t, r, "allowed") != true {
		t.Fatalf("want 200 allowed, got HTTP %d: %s", r.Status, r.Body)
	}
	if balance != "" && num(t, r, "balance") != balance {
		t.Errorf("balance %s, want %s", num(t, r, "balance"), balance)
	}
	if _, ok := r.JSON["error"]; ok {
		t.Errorf("an allowed answer carries an error: %s", r.Body)
	}
}

func wantRefused(t testing.TB, r response, reason string) {
	t.Helper()
	wantError(t, r, http.StatusPaymentRequired, billing.EPAYMENTREQUIRED)
	if field(t, r, "allowed") != false || field(t, r, "reason") != reason {
		t.Errorf("want allowed false with reason %s: %s", reason, r.Body)
	}
	if msg, _ := field(t, r, "message").(string); strings.TrimSpace(msg) == "" {
		t.Errorf("a refusal without a message: %s", r.Body)
	}
}

func TestAuthorize_CreditsExhaustedThenGrantResumes(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	wantAllowed(t, e.authorize(a.key, nil), "1000")
	// An estimate larger than the balance is refused up front.
	wantRefused(t, e.authorize(a.key, map[string]any{"estimate": map[string]any{"type": "email", "quantity": 1001}}), billing.ReasonCreditsExhausted)
	wantAllowed(t, e.authorize(a.key, map[string]any{"estimate": map[string]any{"type": "email", "quantity": 1000}}), "1000")

	// 1,001 emails: 1 credit of arrears. Usage is never refused.
	ev := event("big")
	ev["quantity"] = 1001
	r := e.call("POST", "/api/v1/usage", a.key, batch(ev))
	if r.Status != http.StatusOK || num(t, r, "balance") != "-1" || field(t, r, "paused") != true || field(t, r, "pauseReason") != billing.ReasonCreditsExhausted {
		t.Fatalf("usage beyond the balance: HTTP %d %s", r.Status, r.Body)
	}
	wantRefused(t, e.authorize(a.key, nil), billing.ReasonCreditsExhausted)

	// Exactly zero is still exhausted.
	if _, err := e.Billing.GrantCredits(ctx, a.org, billing.GrantPromo, billing.Credits(1), nil, "", ""); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, e.authorize(a.key, nil), billing.ReasonCreditsExhausted)

	// Buying credits resumes at once, with no other step.
	if _, err := e.Billing.GrantCredits(ctx, a.org, billing.GrantPurchase, billing.Credits(10), nil, "pi_test_1", ""); err != nil {
		t.Fatal(err)
	}
	wantAllowed(t, e.authorize(a.key, nil), "10")
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestAuthorize_MonthlyLimitReached(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	ev := event("hundred")
	ev["quantity"] = 100
	if r := e.call("POST", "/api/v1/usage", a.key, batch(ev)); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	setLimit := func(credits int64) {
		t.Helper()
		limit := billing.Credits(credits)
		if err := e.Billing.SetMonthlyLimit(ctx, a.org, &limit); err != nil {
			t.Fatal(err)
		}
	}
	setLimit(100)
	r := e.authorize(a.key, nil)
	wantRefused(t, r, billing.ReasonMonthlyLimitReached)
	if num(t, r, "monthlyLimit") != "100" || num(t, r, "cycleUsed") != "100" {
		t.Errorf("limit figures: %s", r.Body)
	}
	setLimit(150)
	wantAllowed(t, e.authorize(a.key, nil), "900")
	wantRefused(t, e.authorize(a.key, map[string]any{"estimate": map[string]any{"type": "email", "quantity": 51}}), billing.ReasonMonthlyLimitReached)
	// Credits come first: an org out of credits and over its limit is told it is out of credits.
	ev = event("rest")
	ev["quantity"] = 900
	if r := e.call("POST", "/api/v1/usage", a.key, batch(ev)); r.Status != http.StatusOK || field(t, r, "pauseReason") != billing.ReasonCreditsExhausted {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	wantRefused(t, e.authorize(a.key, nil), billing.ReasonCreditsExhausted)
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestAuthorize_MemberLimitReached(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	admin := e.signUp("ada")
	dev := e.addMember(admin.org, "dev", identity.RoleMember)
	ev := event("dev_usage")
	ev["quantity"] = 50
	if r := e.call("POST", "/api/v1/usage", dev.key, batch(ev)); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	setLimit := func(credits int64) {
		t.Helper()
		limit := billing.Credits(credits)
		if err := e.Billing.SetMemberLimit(ctx, admin.org, dev.user, &limit); err != nil {
			t.Fatal(err)
		}
	}
	setLimit(50)
	r := e.authorize(dev.key, nil)
	wantRefused(t, r, billing.ReasonMemberLimitReached)
	if num(t, r, "memberLimit") != "50" || num(t, r, "memberUsed") != "50" {
		t.Errorf("member figures: %s", r.Body)
	}
	// Only that member's flows pause: the admin goes on, unless asking for the member.
	wantAllowed(t, e.authorize(admin.key, nil), "950")
	wantRefused(t, e.authorize(admin.key, map[string]any{"userId": dev.user}), billing.ReasonMemberLimitReached)
	// Usage still records, and says the member is paused.
	r = e.call("POST", "/api/v1/usage", dev.key, batch(event("one_more")))
	if r.Status != http.StatusOK || field(t, r, "paused") != false {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	if mp, _ := field(t, r, "membersPaused").([]any); len(mp) != 1 || mp[0] != dev.user {
		t.Errorf("membersPaused = %v, want [%s]", mp, dev.user)
	}
	// Raising the limit resumes at once.
	setLimit(100)
	wantAllowed(t, e.authorize(dev.key, nil), "949")
	wantRefused(t, e.authorize(dev.key, map[string]any{"estimate": map[string]any{"type": "email", "quantity": 50}}), billing.ReasonMemberLimitReached)
	billingtest.AssertLedger(t, e.DB, admin.org)
}

func TestAuthorize_BadInput(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	cases := []struct {
		name, body string
		mentions   []string
	}{
		{"malformed JSON", `{"flowId":`, []string{"JSON"}},
		{"missing flowId", `{"executionId":"x"}`, []string{`"flowId"`}},
		{"missing executionId", `{"flowId":"f"}`, []string{`"executionId"`}},
		{"estimate of an unknown type", `{"flowId":"f","executionId":"x","estimate":{"type":"fax","quantity":1}}`, []string{"estimate", `"fax"`}},
		{"estimate without a quantity", `{"flowId":"f","executionId":"x","estimate":{"type":"email"}}`, []string{"estimate", `"quantity"`}},
		{"estimate with a negative quantity", `{"flowId":"f","executionId":"x","estimate":{"type":"email","quantity":-1}}`, []string{"estimate", `"quantity"`}},
		{"estimate quantity of the wrong type", `{"flowId":"f","executionId":"x","estimate":{"type":"email","quantity":true}}`, []string{`quantity`, "number"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.call("POST", "/api/v1/authorize", a.key, c.body), http.StatusBadRequest, billing.EINVALID, c.mentions...)
		})
	}
}

func TestGetExecution_CreditsByTypeAndTotal(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	body := `{"events":[
		{"id":"e1","flowId":"flow_123","executionId":"exec_456","type":"ai","model":"claude-sonnet","quantity":1200},
		{"id":"e2","flowId":"flow_123","executionId":"exec_456","type":"ai","model":"gpt-4o","quantity":1200},
		{"id":"e3","flowId":"flow_123","executionId":"exec_456","type":"email","quantity":1},
		{"id":"e4","flowId":"flow_123","executionId":"exec_other","type":"sms","quantity":1}]}`
	if r := e.call("POST", "/api/v1/usage", a.key, body); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	r := e.call("GET", "/api/v1/executions/exec_456", a.key, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	var got, want any
	_ = json.Unmarshal(r.Body, &got)
	_ = json.Unmarshal([]byte(`{"flowId":"flow_123","executionId":"exec_456","credits":{"ai":12,"email":1,"total":13}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("execution\n got %s\nwant {\"flowId\":\"flow_123\",\"executionId\":\"exec_456\",\"credits\":{\"ai\":12,\"email\":1,\"total\":13}}", r.Body)
	}
	wantError(t, e.call("GET", "/api/v1/executions/exec_unknown", a.key, nil), http.StatusNotFound, billing.ENOTFOUND, "exec_unknown")
}

// An execution id reaches the handler whole however it is escaped in the path: escapes, a
// query-like "?", non-ASCII, and reserved characters such as "/" and ":" sent escaped.
func TestGetExecution_EscapedAndReservedIDs(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	cases := []struct{ id, path string }{
		{"exec%41", "exec%2541"},
		{"exec?x=1", "exec%3Fx=1"},
		{"éxec", "%C3%A9xec"},
		{"exec:1", "exec:1"},
		{"exec/1", "exec%2F1"},
		{"exec:2", "exec%3A2"},
	}
	for i, c := range cases {
		ev := event(fmt.Sprintf("e%d", i))
		ev["executionId"] = c.id
		if r := e.call("POST", "/api/v1/usage", a.key, batch(ev)); r.Status != http.StatusOK {
			t.Fatalf("HTTP %d: %s", r.Status, r.Body)
		}
		r := e.call("GET", "/api/v1/executions/"+c.path, a.key, nil)
		if r.Status != http.StatusOK || field(t, r, "executionId") != c.id {
			t.Errorf("GET …/%s: HTTP %d: %s", c.path, r.Status, r.Body)
		}
	}
}

func TestGetCredits_Shape(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	r := e.call("GET", "/api/v1/credits", a.key, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	start, end := "2026-11-26T10:30:00Z", "2026-12-26T10:30:00Z"
	wantNums := map[string]string{"balance": "1000", "allotment.granted": "1000", "allotment.remaining": "1000", "purchased.remaining": "0", "cycle.used": "0"}
	wantVals := map[string]any{"plan": "free", "allotment.resetsAt": end, "cycle.start": start, "cycle.end": end, "monthlyLimit": nil, "paused": false, "pauseReason": nil}
	check := func(r response) {
		t.Helper()
		for p, v := range wantNums {
			if got := num(t, r, p); got != v {
				t.Errorf("%s = %s, want %s", p, got, v)
			}
		}
		for p, v := range wantVals {
			if got := field(t, r, p); got != v {
				t.Errorf("%s = %#v, want %#v", p, got, v)
			}
		}
	}
	check(r)

	// After usage, a purchase and a monthly limit.
	ev := event("e1")
	ev["quantity"] = 1500 // 1,000 from the allotment, then 500 of the purchase
	if _, err := e.Billing.GrantCredits(ctx, a.org, billing.GrantPurchase, billing.Credits(600), nil, "pi_1", ""); err != nil {
		t.Fatal(err)
	}
	if r := e.call("POST", "/api/v1/usage", a.key, batch(ev, map[string]any{"id": "e2", "flowId": "f", "executionId": "x", "type": "ai", "model": "claude-sonnet", "quantity": 1532})); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	limit := billing.Credits(5000)
	if err := e.Billing.SetMonthlyLimit(ctx, a.org, &limit); err != nil {
		t.Fatal(err)
	}
	wantNums = map[string]string{"balance": "92.34", "allotment.granted": "1000", "allotment.remaining": "0", "purchased.remaining": "92.34", "cycle.used": "1507.66", "monthlyLimit": "5000"}
	delete(wantVals, "monthlyLimit")
	check(e.call("GET", "/api/v1/credits", a.key, nil))

	// Out of credits: arrears, paused with the reason.
	ev = event("e3")
	ev["quantity"] = 100
	if r := e.call("POST", "/api/v1/usage", a.key, batch(ev)); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	wantNums = map[string]string{"balance": "-7.66", "arrears": "7.66", "purchased.remaining": "0", "cycle.used": "1607.66"}
	wantVals["paused"], wantVals["pauseReason"] = true, billing.ReasonCreditsExhausted
	check(e.call("GET", "/api/v1/credits", a.key, nil))
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	r := e.call("GET", "/healthz", "", nil)
	if r.Status != http.StatusOK || field(t, r, "status") != "ok" {
		t.Errorf("HTTP %d: %s", r.Status, r.Body)
	}
}

func TestAPI_UnknownRoutesAreJSON404(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	for _, p := range []string{"/api/v1/nope", "/api/v2/usage", "/api/", "/api/v1/executions/"} {
		wantError(t, e.call("GET", p, a.key, nil), http.StatusNotFound, billing.ENOTFOUND, p)
	}
	// Without a key an unknown /api/v1 path is 401 (authentication runs first): still JSON.
	r := e.call("GET", "/api/v1/nope", "", nil)
	if r.Status != http.StatusUnauthorized && r.Status != http.StatusNotFound {
		t.Errorf("unknown route without a key: HTTP %d: %s", r.Status, r.Body)
	}
	errorOf(t, r)
	// A wrong method on a known route is a JSON error too (its status: see the next test).
	errorOf(t, e.call("DELETE", "/api/v1/credits", a.key, nil))
}

func TestAPI_WrongMethodIs405(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	for _, c := range []struct{ method, path string }{{"DELETE", "/api/v1/credits"}, {"POST", "/api/v1/credits"}, {"GET", "/api/v1/authorize"}, {"PUT", "/api/v1/usage"}} {
		wantError(t, e.call(c.method, c.path, a.key, nil), http.StatusMethodNotAllowed, billing.EINVALID, c.method, c.path)
	}
}
