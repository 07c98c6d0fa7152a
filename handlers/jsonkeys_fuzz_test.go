package handlers

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"net/http/httptest"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

// FuzzRefuseDuplicateKeys feeds the duplicate-key check arbitrary bodies: it never panics, a
// refusal is EINVALID with a short readable message, and a body it refuses really has an object
// with a key twice (decoding it into a map loses a key).
func FuzzRefuseDuplicateKeys(f *testing.F) {
	for _, s := range []string{
		`{"events":[{"id":"e","quantity":1,"quantity":2}]}`, `{"a":1,"A":2}`, `{"a":{"b":1},"c":[{"b":1},{"b":2}]}`,
		`{"a\u0062":1,"ab":2}`, `[{"x":1},{"x":1}]`, `{"a":[1,2,{"a":1}]}`, `{`, `"x"`, `{"a":1}}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := refuseDuplicateKeys(body)
		if err == nil {
			return
		}
		if billing.ErrorCode(err) != billing.EINVALID {
			t.Fatalf("code %q", billing.ErrorCode(err))
		}
		msg := billing.ErrorMessage(err)
		if !utf8.ValidString(msg) || !strings.Contains(msg, "given twice") {
			t.Fatalf("message %q", msg)
		}
		if json.Valid(body) && !hasFoldedDuplicate(body) {
			t.Fatalf("refused %q, which has no duplicate key", body)
		}
	})
}

// hasFoldedDuplicate is the oracle: decode every object into a map keyed by lower-cased keys
// and count the keys seen on the way.
func hasFoldedDuplicate(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	// Re-encode each object's keys in order with a decoder that keeps them.
	dec := json.NewDecoder(strings.NewReader(string(body)))
	type frame struct {
		obj, key bool
		seen     map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: d == '{', key: d == '{', seen: map[string]bool{}})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		}
		if top != nil && top.obj {
			if top.key {
				k := strings.ToLower(tok.(string))
				if top.seen[k] {
					return true
				}
				top.seen[k] = true
				top.key = false
			} else {
				top.key = true
			}
		}
	}
}

// FuzzDecodeAuthorizeRequest feeds POST /api/v1/authorize's decoder arbitrary bodies: it never
// panics and every refusal is a client error with a message.
func FuzzDecodeAuthorizeRequest(f *testing.F) {
	for _, s := range []string{
		`{"flowId":"f","executionId":"x"}`, `{"flowId":"f","executionId":"x","estimate":{"type":"ai","model":"gpt-4o","quantity":1000}}`,
		`{"estimate":{"quantity":"12"}}`, `{"estimate":{"quantity":1e400}}`, `{"flowId":1}`, `[]`, `{"flowId":"f"} {}`,
	} {
		f.Add([]byte(s))
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/authorize", strings.NewReader(string(body)))
		c := e.NewContext(req, httptest.NewRecorder())
		var r api.AuthorizeRequest
		err := decodeJSON(c, &r)
		if err == nil && r.Estimate != nil {
			_, err = estimate(r.Estimate)
		}
		if err != nil {
			if code := billing.ErrorCode(err); code != billing.EINVALID && code != billing.ETOOLARGE {
				t.Fatalf("code %q: %v", code, err)
			}
			if msg := billing.ErrorMessage(err); strings.TrimSpace(msg) == "" {
				t.Fatal("refusal without a message")
			}
		}
	})
}
