package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckQuery feeds the edge's query-string check arbitrary raw queries: it never panics,
// and whatever it lets through decodes to valid UTF-8 without NUL, so no query value can reach
// the database as bytes it would refuse.
func FuzzCheckQuery(f *testing.F) {
	for _, s := range []string{"flowId=%ff", "userId=%00", "type=%ff", "a=b&c=d", "%zz", "from=2026-01-01&to=2026-02-01", "x=%e2%82%ac", "x=%c3", ";", "a=1;b=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkQuery(raw) != nil {
			return
		}
		values, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatalf("passed %q, which does not parse: %v", raw, err)
		}
		for k, vs := range values {
			for _, v := range append(vs, k) {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
					t.Fatalf("passed %q with value %q", raw, v)
				}
			}
		}
	})
}

// FuzzJSONHoldsNUL checks the body check's JSON scan: never a panic, and a body it passes
// decodes to strings without NUL.
func FuzzJSONHoldsNUL(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `{"\u0000":1}`, `{"a":"\\u0000"}`, `["x","y\u0000z"]`, `{"a":`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if jsonHoldsNUL(body) {
			return
		}
		if strings.Contains(string(body), `\u0000`) && validJSONWithNUL(body) {
			t.Fatalf("missed the NUL in %q", body)
		}
	})
}
