package reports_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

func TestForecast_NoUsageNeverRunsOut(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.Clock.Advance(3 * 24 * time.Hour)
	fc, err := f.Reports.Forecast(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if fc.DailyRate != 0 || fc.RunsOutAt != nil || fc.Exhausted || fc.CycleProjected != 0 || fc.LimitReachedAt != nil {
		t.Errorf("forecast without usage: %+v", fc)
	}
	if fc.Balance != billing.Credits(1000) {
		t.Errorf("balance %s", fc.Balance)
	}
}

// sms records n SMS (2 credits each) at when.
func sms(t *testing.T, f *billingtest.Fixture, n int, when time.Time) {
	t.Helper()
	var batch []billing.UsageEvent
	for i := range n {
		batch = append(batch, billing.UsageEvent{ID: fmt.Sprintf("sms_%d_%d", when.UnixNano(), i), FlowID: "flow_sms", ExecutionID: "x", Type: "sms", Quantity: 1, OccurredAt: when})
	}
	f.Record(t, batch...)
}

func TestForecast_SevenDayRateProjectsRunOutAndCycleEnd(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")         // 1,000 credits; cycle 2026-03-31 09:30 → 2026-04-30 09:30 UTC
	now := billingtest.T0.Add(10 * 24 * time.Hour) // 2026-04-10 09:30 UTC
	f.Clock.Set(now)
	sms(t, f, 50, time.Date(2026, 4, 3, 23, 0, 0, 0, time.UTC)) // before the window: not in the rate
	for d := 4; d <= 10; d++ {
		sms(t, f, 5, time.Date(2026, 4, d, 8, 0, 0, 0, time.UTC)) // 10 credits a day
	}
	fc, err := f.Reports.Forecast(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	// The window is April 4 00:00 to now: 6 days 9.5 hours = 552,600 s, holding 70 credits.
	window := 552600 * time.Second
	if fc.RateWindow != window || fc.RateUsed != billing.Credits(70) {
		t.Fatalf("window %s with %s credits, want %s with 70", fc.RateWindow, fc.RateUsed, window)
	}
	if fc.DailyRate != 10944 { // 70,000 mc × 86,400 / 552,600, rounded down
		t.Errorf("daily rate %d mc, want 10944", fc.DailyRate)
	}
	// 1,000 − 100 − 70 = 830 credits left: 830,000 × 552,600 s / 70,000 = 6,552,257 s.
	if fc.Balance != billing.Credits(830) || fc.RunsOutAt == nil || fc.RunsOutAt.Sub(now).Truncate(time.Second) != 6552257*time.Second {
		t.Errorf("balance %s, runs out at %v (after %v)", fc.Balance, fc.RunsOutAt, fc.RunsOutAt.Sub(now))
	}
	// Cycle: 170 used, 20 days left at the rate: 70,000 × 1,728,000 / 552,600 = 218,892 mc.
	if fc.CycleUsed != billing.Credits(170) || fc.CycleProjected != billing.Credits(170)+218892 {
		t.Errorf("cycle used %s, projected %s; want 170 and 388.892", fc.CycleUsed, fc.CycleProjected)
	}
	if fc.Exhausted || fc.LimitReachedAt != nil || fc.MonthlyLimit != nil {
		t.Errorf("%+v", fc)
	}

	// A monthly limit of 300 credits is reached at the rate in (300 − 170) / rate, inside the cycle.
	limit := billing.Credits(300)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &limit); err != nil {
		t.Fatal(err)
	}
	fc, err = f.Reports.Forecast(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(time.Duration(13 * 552600 * int64(time.Second) / 7)) // 130,000 × window / 70,000
	if fc.LimitReachedAt == nil || !fc.LimitReachedAt.Equal(want) {
		t.Errorf("limit reached at %v, want %v", fc.LimitReachedAt, want)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestForecast_ArrearsAreExhaustedNow(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.Clock.Advance(time.Hour)
	sms(t, f, 600, billingtest.T0.Add(30*time.Minute)) // 1,200 credits of 1,000
	fc, err := f.Reports.Forecast(ctx, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	if !fc.Exhausted || fc.RunsOutAt != nil || fc.Balance != -billing.Credits(200) {
		t.Errorf("in arrears: %+v", fc)
	}
	// A young org's rate is measured over at least a day: 1,200 credits in its first hour is
	// 1,200 a day, not 28,800.
	if fc.RateWindow != 24*time.Hour || fc.DailyRate != billing.Credits(1200) {
		t.Errorf("rate %s over %s", fc.DailyRate, fc.RateWindow)
	}
	if _, err := f.Reports.Forecast(ctx, "org_nope"); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("unknown org: %v", err)
	}
}
