package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
)

// fuzzSeeds are valid batches and the edge cases around every rule of the decoder.
func fuzzSeeds() []string {
	event := func(fields string) string { return `{"events":[` + fields + `]}` }
	ok := `{"id":"evt_1","flowId":"flow_123","executionId":"exec_456","type":"ai","model":"claude-sonnet","quantity":1532,"occurredAt":"2026-11-26T10:00:00Z"}`
	var many strings.Builder
	many.WriteString(`{"events":[`)
	for i := range billing.MaxBatch {
		if i > 0 {
			many.WriteByte(',')
		}
		fmt.Fprintf(&many, `{"id":"e%d","flowId":"f","executionId":"x","type":"email","quantity":1}`, i)
	}
	many.WriteString(`]}`)
	tooMany := strings.Replace(many.String(), `]}`, `,{"id":"last","flowId":"f","executionId":"x","type":"email","quantity":1}]}`, 1)
	return []string{
		// Valid batches.
		event(ok),
		event(ok + `,` + strings.Replace(ok, "evt_1", "evt_2", 1)),
		event(`{"id":"e","flowId":"f","executionId":"x","userId":"usr_1","type":"email","quantity":1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"voice_call","quantity":61,"occurredAt":"2026-11-26T10:00:00.123456789+02:00"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1e3}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1000.0}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1000000000000}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1,"model":null,"userId":null,"occurredAt":null}`),
		event(`{"ID":"e","FLOWID":"f","executionid":"x","Type":"sms","quantity":1}`),
		event(`{"id":"é✓","flowId":"f","executionId":"x","type":"sms","quantity":1,"unknown":{"a":[1,2]}}`),
		many.String(),
		// Bad shapes.
		``, ` `, `null`, `[]`, `{}`, `"x"`, `{"events":null}`, `{"events":[]}`, `{"events":{}}`, `{"events":"x"}`,
		`{"events":[null]}`, `{"events":[5]}`, `{"events":[[]]}`, `{"events":[{}]}`,
		`{"events":[` + ok, event(ok) + `}`, event(ok) + `]`, event(ok) + ` {}`, event(ok) + `x`,
		tooMany,
		// Missing and empty fields.
		event(`{"flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"","flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"  ","flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"e","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"e","flowId":"f","type":"sms","quantity":1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","quantity":1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"ai","quantity":1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"ai","model":"","quantity":1}`),
		// Quantities.
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":0}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":-1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":-0}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1.5}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1.0000000000000001}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1000000000001}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":9223372036854775808}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1e999999999}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1e-999999999}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":"5"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":true}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":null}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":[1]}`),
		// Types and times.
		event(`{"id":5,"flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1,"occurredAt":"yesterday"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1,"occurredAt":"2026-13-01T00:00:00Z"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1,"occurredAt":"2026-11-26 10:00:00"}`),
		event(`{"id":"e","flowId":"f","executionId":"x","type":"sms","quantity":1,"occurredAt":1764151200}`),
		event(`{"id":"` + strings.Repeat("a", 129) + `","flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event(`{"id":"\u0000","flowId":"f","executionId":"x","type":"sms","quantity":1}`),
		event("{\"id\":\"\xff\",\"flowId\":\"f\",\"executionId\":\"x\",\"type\":\"sms\",\"quantity\":1}"),
	}
}

// FuzzDecodeUsageRequest feeds the usage decoder arbitrary bodies. It must never panic; every
// refusal is a client error with a message; every batch it accepts keeps the documented rules:
// 1 to 1,000 events, each with an id, flow, execution and type, a quantity from 1 to
// billing.MaxQuantity, and a model for AI.
func FuzzDecodeUsageRequest(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := handlers.DecodeUsageRequest(body)
		if err != nil {
			code := billing.ErrorCode(err)
			if code != billing.EINVALID && code != billing.ETOOLARGE {
				t.Fatalf("refusal with code %q (want invalid or too_large): %v", code, err)
			}
			if msg := billing.ErrorMessage(err); strings.TrimSpace(msg) == "" || !utf8.ValidString(msg) {
				t.Fatalf("refusal without a readable message: %q", msg)
			}
			if events != nil {
				t.Fatalf("refusal returned %d events as well", len(events))
			}
			return
		}
		if n := len(events); n < 1 || n > billing.MaxBatch {
			t.Fatalf("accepted a batch of %d events", n)
		}
		for i, e := range events {
			for name, v := range map[string]string{"id": e.ID, "flowId": e.FlowID, "executionId": e.ExecutionID, "type": e.Type} {
				if strings.TrimSpace(v) == "" {
					t.Fatalf("events[%d]: accepted with an empty %s", i, name)
				}
			}
			if e.Quantity <= 0 || e.Quantity > billing.MaxQuantity {
				t.Fatalf("events[%d]: accepted quantity %d", i, e.Quantity)
			}
			if e.Type == billing.TypeAI && e.Model == "" {
				t.Fatalf("events[%d]: accepted an AI event without a model", i)
			}
		}
		// Decoding is deterministic: the same body gives the same events (idempotency hashes
		// depend on it).
		again, err := handlers.DecodeUsageRequest(bytes.Clone(body))
		if err != nil || len(again) != len(events) {
			t.Fatalf("second decode differs: %v", err)
		}
		for i := range events {
			a, b := events[i], again[i]
			if a.ID != b.ID || a.Quantity != b.Quantity || !a.OccurredAt.Equal(b.OccurredAt) || a.Model != b.Model {
				t.Fatalf("events[%d] decoded differently: %+v vs %+v", i, a, b)
			}
		}
		// A body it accepts is valid JSON.
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not valid JSON: %q", body)
		}
	})
}

// TestDecodeUsageRequest_Messages checks that each refusal names what to fix.
func TestDecodeUsageRequest_Messages(t *testing.T) {
	t.Parallel()
	ev := func(fields string) string { return `{"events":[{` + fields + `}]}` }
	base := `"id":"e","flowId":"f","executionId":"x","type":"sms"`
	cases := []struct {
		name, body, code, want string
	}{
		{"trailing brace", `{"events":[{` + base + `,"quantity":1}]}}`, billing.EINVALID, "after the JSON object"},
		{"trailing bracket", `{"events":[{` + base + `,"quantity":1}]}]`, billing.EINVALID, "after the JSON object"},
		{"quantity as a string", ev(base + `,"quantity":"5"`), billing.EINVALID, `"quantity" must be a JSON number, not a string`},
		{"quantity as a non-numeric string", ev(base + `,"quantity":"abc"`), billing.EINVALID, `"quantity" must be a JSON number`},
		{"quantity as a boolean", ev(base + `,"quantity":true`), billing.EINVALID, `"quantity" must be a JSON number, not a boolean`},
		{"quantity not quite whole", ev(base + `,"quantity":1.0000000000000001`), billing.EINVALID, `"quantity" must be a positive whole number`},
		{"quantity over the maximum as a float", ev(base + `,"quantity":5e12`), billing.EINVALID, `"quantity" 5e12 is over the most`},
		{"quantity with a huge exponent", ev(base + `,"quantity":1e999999999`), billing.EINVALID, `"quantity"`},
		{"event that is not an object", `{"events":[5]}`, billing.EINVALID, "events[0]: an event must be a JSON object"},
		{"null event", `{"events":[null]}`, billing.EINVALID, "events[0]: an event must be a JSON object, not null"},
		{"1,001 events", `{"events":[` + strings.TrimSuffix(strings.Repeat(`{}, `, billing.MaxBatch+1), ", ") + `]}`, billing.ETOOLARGE, "at most 1000 events"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := handlers.DecodeUsageRequest([]byte(c.body))
			if billing.ErrorCode(err) != c.code || !strings.Contains(billing.ErrorMessage(err), c.want) {
				t.Fatalf("got %v; want code %s with %q", err, c.code, c.want)
			}
		})
	}
	for _, c := range []struct{ q string }{{"1e3"}, {"1000.0"}, {"10E2"}, {"100000e-2"}} {
		evs, err := handlers.DecodeUsageRequest([]byte(ev(base + `,"quantity":` + c.q)))
		if err != nil || evs[0].Quantity != 1000 {
			t.Errorf("quantity %s: got %v, %v; want 1000", c.q, evs, err)
		}
	}
}
