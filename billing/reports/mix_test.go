package reports_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/reports"
)

func TestUsageMix_PerTypeAndModelOverTheRange(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	at := func(day int) billing.UsageEvent {
		return billing.UsageEvent{FlowID: "f", ExecutionID: "x", OccurredAt: billingtest.T0.AddDate(0, 0, -day)}
	}
	var events []billing.UsageEvent
	add := func(day int, typ, model string, qty int64) {
		e := at(day)
		e.ID, e.Type, e.Model, e.Quantity = fmt.Sprintf("e%d", len(events)), typ, model, qty
		events = append(events, e)
	}
	add(0, "sms", "", 2)
	add(1, "ai", "claude-sonnet", 1000)
	add(2, "ai", "claude-sonnet", 3000)
	add(3, "ai", "claude-haiku", 500)
	add(4, "voice_call", "", 61)
	add(40, "email", "", 1) // outside
	f.Record(t, events...)
	from, to := reports.DateOf(billingtest.T0, time.UTC).AddDays(-29), reports.DateOf(billingtest.T0, time.UTC)
	mix, err := f.Reports.UsageMix(ctx, f.Org, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range mix {
		got = append(got, fmt.Sprintf("%s/%s %s %d×%d", u.Type, u.Model, u.Credits, u.Events, u.Quantity))
	}
	want := "[ai/claude-haiku 0.5 1×500 ai/claude-sonnet 20 2×4000 sms/ 4 1×2 voice_call/ 10 1×61]"
	if fmt.Sprint(got) != want {
		t.Errorf("mix %v\nwant %s", got, want)
	}
	if _, err := f.Reports.UsageMix(ctx, f.Org, to, from); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("reversed range: %v", err)
	}
	if _, err := f.Reports.UsageMix(ctx, "org_nope", from, to); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown org: %v", err)
	}
}
