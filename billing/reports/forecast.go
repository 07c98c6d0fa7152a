package reports

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// ForecastDays is the window of the forecast's usage rate: today and the 6 days before it.
const ForecastDays = 7

// minRateWindow keeps a young organization's first minutes from being extrapolated wildly.
const minRateWindow = 24 * time.Hour

// Forecast projects an organization's usage at its current rate.
type Forecast struct {
	At time.Time // when the forecast was made
	// DailyRate is the average credits used per day over the rate window: since the start of
	// the day ForecastDays-1 days ago (org time zone), or since the organization was created
	// if later, and at least one day.
	DailyRate  billing.Millicredits
	RateWindow time.Duration        // the time the rate was measured over
	RateUsed   billing.Millicredits // credits used in that window (by when usage happened)

	Balance billing.Millicredits // available credits now (negative in arrears)
	// Exhausted is true when the balance is at or below zero: flows are paused now.
	Exhausted bool
	// RunsOutAt is when the balance reaches zero at DailyRate: nil when exhausted already or
	// when there is no usage in the window (it never runs out at a zero rate). It ignores the
	// allotment that renews at the cycle's end and expires unused; compare with CycleEnd.
	RunsOutAt *time.Time

	CycleStart, CycleEnd time.Time
	CycleUsed            billing.Millicredits // credits used so far in this cycle
	// CycleProjected is what the cycle will end at: CycleUsed plus DailyRate for the time left
	// until CycleEnd.
	CycleProjected billing.Millicredits
	MonthlyLimit   *billing.Millicredits
	// LimitReachedAt is when the monthly limit is reached at DailyRate, if that happens before
	// the cycle ends; nil otherwise (no limit, zero rate, or not this cycle). When the limit is
	// reached already it is At.
	LimitReachedAt *time.Time
}

// Forecast returns an organization's usage forecast at its current 7-day rate: when its
// credits run out (balance / daily rate) and what its cycle will end at (cycle used + rate ×
// time left). Zero usage means no run-out time and a projection equal to the cycle's usage so
// far; a balance at or below zero (arrears included) is Exhausted with no run-out time.
// ENOTFOUND for an unknown organization.
func (s *Service) Forecast(ctx context.Context, orgID string) (*Forecast, error) {
	now := s.store.Now()
	a, err := s.core.CurrentAccount(ctx, orgID, now)
	if err != nil {
		return nil, err
	}
	loc := s.store.Location(a.Timezone)
	first := DateOf(now, loc).AddDays(1 - ForecastDays)
	var used billing.Millicredits
	if err := s.store.DB().GetContext(ctx, &used, queries.SelectUsageSince, orgID, first); err != nil {
		return nil, fmt.Errorf("billing: forecast usage: %w", err)
	}
	since := first.Start(loc)
	if a.CycleAnchor.After(since) {
		since = a.CycleAnchor // the org's creation: nothing was used before it
	}
	window := max(now.Sub(since), minRateWindow)
	return newForecast(now, a, used, window), nil
}

// newForecast does the forecast's arithmetic (exact integers; durations in nanoseconds).
func newForecast(now time.Time, a *billing.Account, used billing.Millicredits, window time.Duration) *Forecast {
	f := &Forecast{
		At: now, RateWindow: window, RateUsed: used, Balance: a.Balance,
		CycleStart: a.CycleStart, CycleEnd: a.CycleEnd, CycleUsed: a.CycleUsed, CycleProjected: a.CycleUsed,
		MonthlyLimit: a.MonthlyLimit,
	}
	if used < 0 {
		used = 0
	}
	f.DailyRate = billing.Millicredits(mulDiv(int64(used), int64(24*time.Hour), int64(window)))
	f.Exhausted = a.Balance <= 0
	if used == 0 {
		if f.MonthlyLimit != nil && a.CycleUsed >= *f.MonthlyLimit {
			f.LimitReachedAt = &now
		}
		return f
	}
	// Time to use x credits at the rate is x × window / used.
	timeFor := func(x billing.Millicredits) time.Duration {
		return time.Duration(mulDiv(int64(x), int64(window), int64(used)))
	}
	if !f.Exhausted {
		t := now.Add(timeFor(a.Balance))
		f.RunsOutAt = &t
	}
	if left := a.CycleEnd.Sub(now); left > 0 {
		f.CycleProjected += billing.Millicredits(mulDiv(int64(used), int64(left), int64(window)))
	}
	if f.MonthlyLimit != nil {
		if a.CycleUsed >= *f.MonthlyLimit {
			f.LimitReachedAt = &now
		} else if t := now.Add(timeFor(*f.MonthlyLimit - a.CycleUsed)); t.Before(a.CycleEnd) {
			f.LimitReachedAt = &t
		}
	}
	return f
}

// mulDiv returns a × b / c rounded down, without overflowing in between; the result saturates
// at the int64 range. c must be positive.
func mulDiv(a, b, c int64) int64 {
	r := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	r.Quo(r, big.NewInt(c))
	if !r.IsInt64() {
		if r.Sign() < 0 {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return r.Int64()
}
