package reports_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// FuzzParseDate feeds the report date parser arbitrary text: never a panic; a date it accepts
// is inside the window and prints back as given.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-01", "0001-01-01", "9999-12-31", "2026-02-30", "1999-12-31", "2000-01-01", "", "2026-1-1", "+2026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := reports.ParseDate(s)
		if err != nil {
			if billing.ErrorCode(err) != billing.EINVALID || !utf8.ValidString(billing.ErrorMessage(err)) && utf8.ValidString(s) {
				t.Fatalf("refusal %v", err)
			}
			return
		}
		if d.IsZero() || d.Year() < reports.MinYear || d.Year() > reports.MaxYear || d.String() != s {
			t.Fatalf("accepted %q as %v", s, d)
		}
	})
}

// FuzzReportQueryNormalize feeds the report query's checks arbitrary filters: never a panic,
// and a query it accepts names a known interval, grouping and type.
func FuzzReportQueryNormalize(f *testing.F) {
	f.Add("day", "type", "", "", "ai", 10, 0)
	f.Add("week", "flow", "flow_1", "u", "", 0, 30)
	f.Add("bogus", "x", "", "", "bogus", -1, 400)
	f.Fuzz(func(t *testing.T, interval, groupBy, flow, user, typ string, top, days int) {
		from := reports.NewDate(2026, 1, 1)
		q := reports.Query{From: from, To: from.AddDays(days % 1000), Interval: reports.Interval(interval),
			GroupBy: reports.GroupBy(groupBy), FlowID: flow, UserID: user, Type: typ, TopFlows: top}
		n, err := q.Normalize()
		if err != nil {
			if billing.ErrorCode(err) != billing.EINVALID {
				t.Fatalf("code %q", billing.ErrorCode(err))
			}
			if msg := billing.ErrorMessage(err); len(msg) > 600 {
				t.Fatalf("message of %d bytes", len(msg))
			}
			return
		}
		if n.Type != "" && !strings.Contains(strings.Join(billing.Types, ","), n.Type) {
			t.Fatalf("accepted type %q", n.Type)
		}
	})
}
