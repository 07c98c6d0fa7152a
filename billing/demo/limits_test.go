package demo_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/demo"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
)

// The demo org has an org limit, thresholds, a low-balance alert and two member limits, set
// through the audited path, and starts unpaused whatever day of its cycle it is seeded on.
func TestSeed_LimitsSetAndNothingPaused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, days := range []int{28} { // near the end of the first cycle, when most is used
		svc, db := billingtest.NewService(t)
		res, err := demo.Seed(ctx, db, time.Now(), days)
		if err != nil {
			t.Fatal(err)
		}
		o, err := limits.New(svc, identity.New(svc)).Overview(ctx, res.OrgID)
		if err != nil {
			t.Fatal(err)
		}
		if o.MonthlyLimit == nil || o.LowBalance == nil || !slices.Equal(o.Thresholds, []int{50, 75, 90, 100}) {
			t.Errorf("%d days: limit %v, low balance %v, thresholds %v", days, o.MonthlyLimit, o.LowBalance, o.Thresholds)
		}
		withLimit := 0
		for _, m := range o.Members {
			if m.Limit != nil {
				withLimit++
			}
			if m.Paused() {
				t.Errorf("%d days: %s is paused (%s of %s)", days, m.Email, m.Used, *m.Limit)
			}
		}
		if withLimit != 2 {
			t.Errorf("%d days: %d member limits, want 2", days, withLimit)
		}
		cs, err := svc.CreditSummary(ctx, res.OrgID)
		if err != nil || cs.Paused {
			t.Errorf("%d days: the demo org is paused (%v): %q", days, err, cs.PauseReason)
		}
		if len(o.Changes) != 5 || o.Changes[0].Actor != demo.AdminEmail {
			t.Errorf("%d days: %d audit entries, newest by %q", days, len(o.Changes), o.Changes[0].Actor)
		}
		billingtest.AssertLedger(t, db, res.OrgID)
	}
}
