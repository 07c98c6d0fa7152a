package demo

import (
	"context"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/limits"
)

// seedLimits gives the demo organization what the Limits page edits, through the limits
// capability (so the audit log has the admin's changes): an org limit of at least 150,000
// credits with alerts at 50, 75, 90 and 100 %, a low-balance alert at 10,000 credits, and own
// limits for the developer (at least 80,000) and operations (at least 20,000).
//
// Each limit is kept above what its flows already used this cycle (usage in the demo is random
// and the cycle may be far along), so the demo never starts paused: the developer, who runs
// the busiest flows, is well on the way to their own limit, the organization has headroom.
func seedLimits(ctx context.Context, svc *billing.Service, ids *identity.Service, org, admin, dev, ops string) error {
	acct, err := svc.CurrentAccount(ctx, org, svc.Now())
	if err != nil {
		return err
	}
	members, err := svc.MemberStandings(ctx, org)
	if err != nil {
		return err
	}
	used := map[string]billing.Millicredits{}
	for _, m := range members {
		used[m.UserID] = m.Used
	}
	lim := limits.New(svc, ids)
	by := limits.Actor{UserID: admin, Source: limits.SourcePage}
	orgLimit := above(billing.Credits(150000), acct.CycleUsed, 3, 2, billing.Credits(10000))
	lowBalance := billing.Credits(10000)
	if _, err := lim.Update(ctx, org, by, limits.Change{
		SetMonthlyLimit: true, MonthlyLimit: &orgLimit,
		SetThresholds: true, Thresholds: []int{50, 75, 90, 100},
		SetLowBalance: true, LowBalance: &lowBalance,
	}); err != nil {
		return fmt.Errorf("demo: limits: %w", err)
	}
	for _, m := range []struct {
		user  string
		floor billing.Millicredits
	}{{dev, billing.Credits(80000)}, {ops, billing.Credits(20000)}} {
		limit := above(m.floor, used[m.user], 5, 4, billing.Credits(5000))
		if _, err := lim.SetMemberLimit(ctx, org, by, m.user, &limit); err != nil {
			return fmt.Errorf("demo: member limit: %w", err)
		}
	}
	return nil
}

// above returns floor, or used × num/den rounded up to a multiple of step when that is more.
func above(floor, used billing.Millicredits, num, den int64, step billing.Millicredits) billing.Millicredits {
	v := used * billing.Millicredits(num) / billing.Millicredits(den)
	v = (v + step - 1) / step * step
	return max(floor, v)
}
