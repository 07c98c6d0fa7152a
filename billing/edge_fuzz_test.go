package billing_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
)

// FuzzCSVText checks the CSV cell helper: no cell it returns starts a formula, and it changes a
// value only by a leading apostrophe.
func FuzzCSVText(f *testing.F) {
	for _, s := range []string{"=1+1", "+1", "-1", "@x", "\t=1", "\r=1", "plain", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := billing.CSVText(s)
		if out != s && out != "'"+s {
			t.Fatalf("CSVText(%q) = %q", s, out)
		}
		if out != "" && strings.ContainsRune("=+-@\t\r", rune(out[0])) {
			t.Fatalf("CSVText(%q) = %q starts a formula", s, out)
		}
	})
}

// FuzzErrorfQuotesShort checks that a quoted value never comes back whole past MaxQuoted
// characters, whatever it holds.
func FuzzErrorfQuotesShort(f *testing.F) {
	f.Add(strings.Repeat("x", 200))
	f.Add("short")
	f.Fuzz(func(t *testing.T, v string) {
		msg := billing.Errorf(billing.EINVALID, "value %q is wrong (%d%%)", v, 5).Message
		if utf8.RuneCountInString(v) > billing.MaxQuoted && strings.Contains(msg, v) && v != "" {
			t.Fatalf("the whole value came back: %q", msg)
		}
		if len(msg) > 4*billing.MaxQuoted*4+64 {
			t.Fatalf("message of %d bytes", len(msg))
		}
	})
}
