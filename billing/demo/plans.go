package demo

import (
	"context"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// signUpOnPro creates the demo organization on Starter and upgrades it to Pro at once through
// the demo checkout, exactly as the plans page does: the first cycle's allotment is topped up
// to 100,000 credits, and the demo subscription renews Pro at every later cycle start (plan
// charges that History invoices).
func signUpOnPro(ctx context.Context, svc *billing.Service, ids *identity.Service, admin string, created func(org string) error) (string, error) {
	org, err := ids.CreateOrg(ctx, billing.NewOrg{Name: OrgName, PlanCode: billing.PlanStarter}, admin)
	if err != nil {
		return "", fmt.Errorf("demo: org: %w", err)
	}
	if err := created(org); err != nil { // before the upgrade: its invoice bills the org's details
		return "", err
	}
	co, _, err := svc.StartPlanCheckout(ctx, org, billing.PlanPro, admin, billing.ProviderDemo)
	if err != nil {
		return "", fmt.Errorf("demo: upgrade: %w", err)
	}
	plans := payments.NewPlans(svc, payments.PlanConfig{})
	if _, err := plans.PayDemo(ctx, org, co.ID); err != nil {
		return "", fmt.Errorf("demo: pay the upgrade: %w", err)
	}
	return org, nil
}
