package billing_test

import (
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
)

func TestCSVText_NeutralisesFormulasAndKeepsText(t *testing.T) {
	cases := map[string]string{
		`=HYPERLINK("http://evil.example","click")`: `'=HYPERLINK("http://evil.example","click")`,
		"+1+cmd|calc!A0":              "'+1+cmd|calc!A0",
		"-2+3+cmd|' /C calc'!A0":      "'-2+3+cmd|' /C calc'!A0",
		"@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
		"\t=1":                        "'\t=1",
		"\r=1":                        "'\r=1",
		"flow_123":                    "flow_123",
		"exec=1":                      "exec=1",
		"":                            "",
		"'already":                    "'already",
		"Über-flow":                   "Über-flow",
	}
	for in, want := range cases {
		if got := billing.CSVText(in); got != want {
			t.Errorf("CSVText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorf_QuotesAShortPrefixOfLongValues(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	err := billing.Errorf(billing.EINVALID, "unknown model %q for type %q: %s", long, "ai", "use one of claude-haiku, claude-sonnet, claude-opus, gpt-4o, gpt-4o-mini and nothing else at all")
	want := `unknown model "` + strings.Repeat("x", billing.MaxQuoted) + `…" for type "ai": use one of claude-haiku, claude-sonnet, claude-opus, gpt-4o, gpt-4o-mini and nothing else at all`
	if err.Message != want {
		t.Errorf("message:\n%s\nwant\n%s", err.Message, want)
	}
	if got := billing.Errorf(billing.EINVALID, "100%% of %q, %d%%", "ok", 5).Message; got != `100% of "ok", 5%` {
		t.Errorf("message %q", got)
	}
	if got := billing.Quote("ünïcödé " + long); !strings.HasPrefix(got, `"ünïcödé xxx`) || !strings.HasSuffix(got, `"…`) || len([]rune(got)) != billing.MaxQuoted+3 {
		t.Errorf("Quote: %q", got)
	}
}
