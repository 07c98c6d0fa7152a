package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// apiEnv is the real server on its own database, served over loopback HTTP, its clock at t0.
type apiEnv struct {
	*webtest.Server
	t testing.TB
}

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	return &apiEnv{Server: webtest.New(t, webtest.Options{Clock: billingtest.NewClock(t0)}), t: t}
}

// tenant is an organization with one user and an API key of theirs.
type tenant struct {
	org, user, key string
	keyID          int64
}

// signUp creates a user with a new Free organization (1,000 credits) and an API key.
func (e *apiEnv) signUp(name string) tenant {
	e.t.Helper()
	u, org, err := e.Identity.SignUp(ctx, identity.NewUser{Email: name + "@example.com", Name: name, Password: "correct horse"}, name+" Org")
	if err != nil {
		e.t.Fatalf("SignUp: %v", err)
	}
	return e.keyFor(org, u.ID)
}

// addMember creates a user, adds them to org with role and gives them a key.
func (e *apiEnv) addMember(org, name, role string) tenant {
	e.t.Helper()
	u, err := e.Identity.CreateUser(ctx, identity.NewUser{Email: name + "@example.com", Name: name, Password: "correct horse"})
	if err != nil {
		e.t.Fatalf("CreateUser: %v", err)
	}
	if err := e.Identity.AddMember(ctx, org, u.ID, role); err != nil {
		e.t.Fatalf("AddMember: %v", err)
	}
	return e.keyFor(org, u.ID)
}

func (e *apiEnv) keyFor(org, user string) tenant {
	e.t.Helper()
	key, id, err := e.Identity.CreateAPIKey(ctx, org, user, "test")
	if err != nil {
		e.t.Fatalf("CreateAPIKey: %v", err)
	}
	return tenant{org: org, user: user, key: key, keyID: id}
}

// response is an API answer; JSON holds the decoded body (numbers as json.Number).
type response struct {
	Status int
	Body   []byte
	JSON   map[string]any
}

// call sends a request with "Authorization: Bearer key" (none when key is empty). body is sent
// as is when it is a string or []byte, and as JSON otherwise.
func (e *apiEnv) call(method, path, key string, body any) response {
	e.t.Helper()
	auth := ""
	if key != "" {
		auth = "Bearer " + key
	}
	return e.callAuth(method, path, auth, body)
}

// callAuth sends a request with the given Authorization header (none when empty).
func (e *apiEnv) callAuth(method, path, auth string, body any) response {
	e.t.Helper()
	r, err := e.send(method, path, auth, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// send is callAuth for any goroutine: it returns what went wrong instead of failing the test.
func (e *apiEnv) send(method, path, auth string, body any) (response, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.URL+path, r)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.Client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	out := response{Status: res.StatusCode}
	if out.Body, err = io.ReadAll(res.Body); err != nil {
		return out, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if len(out.Body) > 0 {
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return out, fmt.Errorf("%s %s: Content-Type %q, want JSON; body %s", method, path, ct, out.Body)
		}
		dec := json.NewDecoder(bytes.NewReader(out.Body))
		dec.UseNumber()
		if err := dec.Decode(&out.JSON); err != nil {
			return out, fmt.Errorf("%s %s: body is not a JSON object: %v: %s", method, path, err, out.Body)
		}
	}
	return out, nil
}

// errorOf returns the code and message of an error answer, failing when it has no error object.
func errorOf(t testing.TB, r response) (code, message string) {
	t.Helper()
	eo, ok := r.JSON["error"].(map[string]any)
	if !ok {
		t.Fatalf("HTTP %d without an error object: %s", r.Status, r.Body)
	}
	code, _ = eo["code"].(string)
	message, _ = eo["message"].(string)
	if code == "" || strings.TrimSpace(message) == "" {
		t.Fatalf("error without a code or message: %s", r.Body)
	}
	return code, message
}

// wantError checks an error answer's status and code, and that its message mentions each of
// mentions.
func wantError(t testing.TB, r response, status int, code string, mentions ...string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("HTTP %d, want %d: %s", r.Status, status, r.Body)
	}
	gotCode, msg := errorOf(t, r)
	if gotCode != code {
		t.Errorf("error code %q, want %q (message %q)", gotCode, code, msg)
	}
	for _, m := range mentions {
		if !strings.Contains(msg, m) {
			t.Errorf("message %q does not mention %q", msg, m)
		}
	}
	return msg
}

// num returns a JSON number at path (keys separated by dots) as its literal text.
func num(t testing.TB, r response, path string) string {
	t.Helper()
	v := field(t, r, path)
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%s is %T (%v), want a number: %s", path, v, v, r.Body)
	}
	return n.String()
}

// field returns the JSON value at path; a missing key fails the test.
func field(t testing.TB, r response, path string) any {
	t.Helper()
	var cur any = r.JSON
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %q is not inside an object: %s", path, k, r.Body)
		}
		if cur, ok = m[k]; !ok {
			t.Fatalf("%s: no key %q: %s", path, k, r.Body)
		}
	}
	return cur
}

// state is what a refused request must leave unchanged.
type state struct {
	Events, Entries, Allocations, Executions, Flows int64
	Balance, Arrears, CycleUsed                     int64
}

func (e *apiEnv) state(org string) state {
	e.t.Helper()
	var s state
	err := e.DB.QueryRow(`SELECT
		(SELECT count(*) FROM usage_events WHERE org_id = $1),
		(SELECT count(*) FROM ledger_entries WHERE org_id = $1),
		(SELECT count(*) FROM allocations WHERE org_id = $1),
		(SELECT count(*) FROM execution_usage WHERE org_id = $1),
		(SELECT count(*) FROM flows WHERE org_id = $1),
		balance_mc, arrears_mc, cycle_used_mc
		FROM accounts WHERE org_id = $1`, org).Scan(&s.Events, &s.Entries, &s.Allocations, &s.Executions, &s.Flows, &s.Balance, &s.Arrears, &s.CycleUsed)
	if err != nil {
		e.t.Fatalf("state: %v", err)
	}
	return s
}

// batch wraps events in a usage request body.
func batch(events ...map[string]any) map[string]any { return map[string]any{"events": events} }

// event returns a valid event (1 email, 1 credit) with the given id.
func event(id string) map[string]any {
	return map[string]any{"id": id, "flowId": "flow_1", "executionId": "exec_1", "type": "email", "quantity": 1}
}

const specExample = `{"events":[{"id":"evt_1","flowId":"flow_123","executionId":"exec_456","type":"ai","model":"claude-sonnet","quantity":1532,"occurredAt":"2026-11-26T10:00:00Z"}]}`
