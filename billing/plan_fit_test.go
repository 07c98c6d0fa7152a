package billing_test

import (
	"testing"

	"github.com/luxstudio/lux-billing/billing"
)

func TestFitPlan_BuyingOnTopPricedInWholeCredits(t *testing.T) {
	starter := billing.Plan{Code: "starter", PriceCents: 2900}
	cycles := []billing.CycleUsage{{Used: billing.Credits(4000)}, {Used: billing.Credits(12000) + 1}, {Used: billing.Credits(10000)}}
	f := billing.FitPlan(starter, billing.Credits(10000), cycles, 1)
	// 2,000.001 credits over: 2,001 whole credits at 1 cent.
	if f.TopUp != billing.Credits(2001) || f.TopUpPrice != 2001 || f.MonthlyCost != 2900+2001 {
		t.Fatalf("fit = %+v", f)
	}
	if f.Cycles[0].Percent != 40 || f.Cycles[1].Percent != 120 || f.Cycles[2].Percent != 100 || f.Cycles[2].Over != 0 {
		t.Fatalf("cycles = %+v", f.Cycles)
	}
	if g := billing.FitPlan(starter, billing.Credits(100000), cycles, 1); g.TopUp != 0 || g.MonthlyCost != 2900 {
		t.Fatalf("a plan that covers every cycle: %+v", g)
	}
}
