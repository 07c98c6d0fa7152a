package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

// usageCLIEnv serves the real API on its own database for one org with usage, and returns the
// client configuration the lux commands use.
func usageCLIEnv(t *testing.T) *Config {
	t.Helper()
	ctx := context.Background()
	ts := webtest.New(t, webtest.Options{Clock: billingtest.NewClock(time.Date(2026, 3, 20, 15, 0, 0, 0, time.UTC))})
	u, org, err := ts.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada", Password: "correct horse"}, "Ada Org")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := ts.Identity.CreateAPIKey(ctx, org, u.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Billing.NameFlow(ctx, org, "flow_support", "Support triage"); err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	_, err = ts.Billing.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{
		{ID: "1", FlowID: "flow_support", ExecutionID: "x1", Type: "ai", Model: "claude-sonnet", Quantity: 1532, OccurredAt: day(2, 10)},
		{ID: "2", FlowID: "flow_support", ExecutionID: "x1", Type: "email", Quantity: 1, OccurredAt: day(2, 10)},
		{ID: "3", FlowID: "flow_calls", ExecutionID: "x2", Type: "voice_call", Quantity: 61, OccurredAt: day(10, 9)},
		{ID: "4", FlowID: "flow_calls", ExecutionID: "x3", Type: "sms", Quantity: 2, OccurredAt: day(19, 23)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Config{APIURL: ts.URL, APIKey: key}
}

func TestUsageCmd_PrintsTheReportAsTables(t *testing.T) {
	t.Parallel()
	c := usageCLIEnv(t)
	var out bytes.Buffer
	cmd := usageCmd{From: "2026-03-01", To: "2026-03-20", Interval: "week", GroupBy: "flow"}
	if err := cmd.run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"Usage 2026-03-01 – 2026-03-20 by flow, per week (UTC), in credits",
		"Week of      flow_calls  Support triage  Total",
		"2026-02-23*           0               0      0",
		"2026-03-02            0            8.66   8.66",
		"Total                14            8.66  22.66",
		"* the range covers only part of this period.",
		"Support triage (flow_support)     8.66  38.2%     1,533       2",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}

	out.Reset()
	cmd = usageCmd{Range: "7d", Interval: "day", GroupBy: "type", JSON: true}
	if err := cmd.run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	var u api.Usage
	if err := json.Unmarshal(out.Bytes(), &u); err != nil || u.From.String() != "2026-03-14" || u.Total.Credits != billing.Credits(4) {
		t.Errorf("--json: %s (%v)", out.String(), err)
	}

	out.Reset()
	cmd = usageCmd{From: "2026-03-01", To: "2026-03-20", Interval: "month", GroupBy: "type", CSV: true}
	if err := cmd.run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "period_start,group_key,group_label,credits,quantity,events\n2026-03-01,ai,AI,7.66,1532,1\n") {
		t.Errorf("--csv:\n%s", out.String())
	}

	cmd = usageCmd{From: "2026-03-20", To: "2026-03-01", Interval: "day", GroupBy: "type"}
	err := cmd.run(context.Background(), c, &out)
	if err == nil || !strings.Contains(err.Error(), "before the start date") || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("a reversed range: %v", err)
	}
}

func TestUsageCmd_NoUsageSaysSo(t *testing.T) {
	t.Parallel()
	c := usageCLIEnv(t)
	var out bytes.Buffer
	if err := (usageCmd{From: "2025-01-01", To: "2025-01-31", Interval: "day", GroupBy: "user"}).run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "No usage in this range.") {
		t.Errorf("output:\n%s", out.String())
	}
}
