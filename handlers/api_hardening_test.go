package handlers_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
)

// Regression tests of the hardening issue: each probe that once answered 500, or was
// accepted, is refused with a 4xx and a message.

func TestAPI_InvalidUTF8OrNULAnywhereIs400(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	for _, p := range []string{
		"/api/v1/executions/%ff%fe", "/api/v1/executions/%00", "/api/v1/executions/a%c3",
		"/api/v1/usage?flowId=%ff", "/api/v1/usage?userId=%00", "/api/v1/usage?type=%ff",
		"/api/v1/usage?%ff=1", "/api/v1/usage?flowId=%zz",
	} {
		wantError(t, e.call("GET", p, a.key, nil), http.StatusBadRequest, billing.EINVALID, "UTF-8")
	}
	for name, body := range map[string]string{
		"NUL escape in a value": `{"events":[{"id":"e1","flowId":"f\u0000","executionId":"x","type":"email","quantity":1}]}`,
		"NUL escape in a key":   `{"events":[{"id\u0000":"e1","flowId":"f","executionId":"x","type":"email","quantity":1}]}`,
		"invalid UTF-8 bytes":   "{\"events\":[{\"id\":\"e\xff\xfe\",\"flowId\":\"f\",\"executionId\":\"x\",\"type\":\"email\",\"quantity\":1}]}",
		"a raw NUL byte":        "{\"events\":[{\"id\":\"e\x00\",\"flowId\":\"f\",\"executionId\":\"x\",\"type\":\"email\",\"quantity\":1}]}",
	} {
		t.Run(name, func(t *testing.T) {
			wantError(t, e.call("POST", "/api/v1/usage", a.key, body), http.StatusBadRequest, billing.EINVALID, "UTF-8")
		})
	}
	// "\\u0000" is a backslash and "u0000", not a NUL: accepted.
	r := e.call("POST", "/api/v1/usage", a.key, `{"events":[{"id":"e-ok","flowId":"f\\u0000","executionId":"x","type":"email","quantity":1}]}`)
	if r.Status != http.StatusOK {
		t.Errorf("an escaped backslash before u0000: HTTP %d %s", r.Status, r.Body)
	}
	assertNoEventsBut(t, e, a.org, 1)
}

func TestAPI_DuplicateKeysInABodyAre400(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	for _, c := range []struct{ body, mention string }{
		{`{"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1,"quantity":1000000}]}`, `"quantity" is given twice in events[0]`},
		{`{"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1}, {"id":"e2","flowId":"f","executionId":"x","type":"email","Quantity":1,"quantity":7}]}`, `"quantity" is given twice in events[1]`},
		{`{"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1,"quantit\u0079":2}]}`, `given twice in events[0]`},
		{`{"events":[],"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1}]}`, `"events" is given twice`},
	} {
		wantError(t, e.call("POST", "/api/v1/usage", a.key, c.body), http.StatusBadRequest, billing.EINVALID, c.mention)
	}
	wantError(t, e.call("POST", "/api/v1/authorize", a.key, `{"flowId":"f","executionId":"x","flowId":"g"}`), http.StatusBadRequest, billing.EINVALID, `"flowId" is given twice`)
	// The same key in two different objects is fine.
	r := e.call("POST", "/api/v1/usage", a.key, `{"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1},{"id":"e2","flowId":"f","executionId":"x","type":"email","quantity":1}]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("two events: HTTP %d %s", r.Status, r.Body)
	}
	assertNoEventsBut(t, e, a.org, 2)
}

func TestAPI_JSONBodiesNeedTheJSONContentType(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	body := `{"events":[{"id":"e1","flowId":"f","executionId":"x","type":"email","quantity":1}]}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x"} {
		req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/usage", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.key)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := e.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType || !bytes.Contains(b, []byte(`Content-Type: application/json`)) {
			t.Errorf("Content-Type %q: HTTP %d %s, want 415 naming the header", ct, res.StatusCode, b)
		}
	}
	assertNoEventsBut(t, e, a.org, 0)
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/api/v1/usage", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("application/json; charset=utf-8: HTTP %d", res.StatusCode)
	}
}

func TestAPI_ZeroTimesAndOutOfWindowDatesAre400(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	for _, at := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z"} {
		r := e.call("POST", "/api/v1/usage", a.key, batch(map[string]any{"id": "e-" + at, "flowId": "f", "executionId": "x", "type": "email", "quantity": 1, "occurredAt": at}))
		wantError(t, r, http.StatusBadRequest, billing.EINVALID, "occurredAt")
	}
	assertNoEventsBut(t, e, a.org, 0)
	for _, q := range []string{"from=0001-01-01&to=9999-12-31", "to=0001-01-01", "from=0001-01-01", "from=2026-01-01&to=9999-12-31", "from=1999-12-31&to=2000-01-05"} {
		wantError(t, e.call("GET", "/api/v1/usage?"+q, a.key, nil), http.StatusBadRequest, billing.EINVALID, "outside the dates reports cover")
	}
}

func TestAPI_UnknownTypeFilterIs400(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	wantError(t, e.call("GET", "/api/v1/usage?type=bogus", a.key, nil), http.StatusBadRequest, billing.EINVALID, `type "bogus" is not one of ai, email`)
	wantError(t, e.call("GET", "/api/v1/usage?type=bogus&format=csv", a.key, nil), http.StatusBadRequest, billing.EINVALID, `"bogus"`)
	if r := e.call("GET", "/api/v1/usage?type=email", a.key, nil); r.Status != http.StatusOK {
		t.Errorf("type=email: HTTP %d %s", r.Status, r.Body)
	}
}

func TestAPI_HugeValuesAreQuotedShortInMessages(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	huge := strings.Repeat("z", 100_000)
	for _, ev := range []map[string]any{
		{"id": "e1", "flowId": "f", "executionId": "x", "type": "ai", "model": huge, "quantity": 1},
		{"id": "e1", "flowId": "f", "executionId": "x", "type": huge, "quantity": 1},
		{"id": "e1", "flowId": "f", "executionId": "x", "type": "email", "quantity": 1, "occurredAt": huge},
	} {
		msg := wantError(t, e.call("POST", "/api/v1/usage", a.key, batch(ev)), http.StatusBadRequest, billing.EINVALID, strings.Repeat("z", billing.MaxQuoted))
		if len(msg) > 400 || strings.Contains(msg, strings.Repeat("z", billing.MaxQuoted+1)) || !strings.Contains(msg, "…") {
			t.Errorf("message of %d bytes: %.200s…", len(msg), msg)
		}
	}
	msg := wantError(t, e.call("GET", "/api/v1/usage?interval="+huge[:5000], a.key, nil), http.StatusBadRequest, billing.EINVALID)
	if len(msg) > 400 {
		t.Errorf("query message of %d bytes", len(msg))
	}
}

func TestAPI_CSVCellsCannotBeFormulas(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	evil := []string{`=HYPERLINK("http://evil.example","click")`, "+1+cmd|calc!A0", "-2+3+cmd|'/C_calc'!A0", "@SUM(1+1)*cmd|'/C_calc'!A0"}
	var events []map[string]any
	for i, v := range evil {
		events = append(events, map[string]any{"id": v, "flowId": v, "executionId": "x" + string(rune('a'+i)), "type": "email", "quantity": 1})
	}
	if r := e.call("POST", "/api/v1/usage", a.key, batch(events...)); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d %s", r.Status, r.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/api/v1/usage?format=csv&groupBy=flow", nil)
	req.Header.Set("Authorization", "Bearer "+a.key)
	res, err := e.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil || len(rows) != 1+len(evil) {
		t.Fatalf("CSV: %v, %d rows", err, len(rows))
	}
	for _, row := range rows[1:] {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %d %q starts a formula", i, cell)
			}
		}
		if row[1][0] != '\'' || row[3] != "1" || row[5] != "1" {
			t.Errorf("row %q: the flow is not neutralised with a leading ' or the numbers are not numbers", row)
		}
	}
}

// assertNoEventsBut checks that org has exactly n usage events.
func assertNoEventsBut(t *testing.T, e *apiEnv, org string, n int) {
	t.Helper()
	var got int
	if err := e.DB.Get(&got, `SELECT count(*) FROM usage_events WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Errorf("%d usage events stored, want %d", got, n)
	}
}
