package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/payments"
)

type orgSetPlanCmd struct {
	Org     string `required:"" help:"Organization id (org_…)."`
	Plan    string `required:"" enum:"free,starter,pro,enterprise" help:"free, starter, pro or enterprise."`
	Credits string `help:"Enterprise only: the monthly allotment in credits, e.g. 250000."`
	Now     bool   `help:"Change at once, topping this cycle's allotment up to the new plan's; without it the plan changes at the next cycle start."`
}

// Run changes an organization's plan (an operator's command on the database).
func (cmd orgSetPlanCmd) Run(ctx context.Context, c *Config, log *slog.Logger) error {
	db, svc, err := c.openService(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return cmd.run(ctx, svc, os.Stdout)
}

func (cmd orgSetPlanCmd) run(ctx context.Context, svc *billing.Service, w io.Writer) error {
	var credits *billing.Millicredits
	if cmd.Credits != "" {
		n, err := strconv.ParseInt(strings.ReplaceAll(cmd.Credits, ",", ""), 10, 64)
		if err != nil || n <= 0 {
			return billing.Errorf(billing.EINVALID, "--credits takes a whole number of credits more than 0, like 250000")
		}
		credits = new(billing.Millicredits)
		*credits = billing.Credits(n)
	}
	res, err := svc.SetPlan(ctx, cmd.Org, cmd.Plan, credits, cmd.Now)
	if err != nil {
		return err
	}
	st, err := svc.PlanStatus(ctx, cmd.Org)
	if err != nil {
		return err
	}
	if res.Change != nil {
		p := st.PendingPlan
		allot := st.Allotment
		if p.MonthlyCredits != nil {
			allot = *p.MonthlyCredits
		} else if credits != nil {
			allot = *credits
		}
		fmt.Fprintf(w, "%s moves from %s to %s (%s credits a month) at its next cycle start, %s.\n",
			cmd.Org, st.Plan.Name, p.Name, allot, res.Change.EffectiveAt.UTC().Format(time.RFC3339))
		return nil
	}
	fmt.Fprintf(w, "%s is on %s now (%s credits a month); this cycle's allotment got %s credits more (%s in all).\n",
		cmd.Org, st.Plan.Name, st.Allotment, res.TopUp, st.Granted)
	return nil
}

// planOptions turns the plan configuration into billing options: LUX_PLAN_PRICES is a list of
// code=cents pairs ("starter=2900,pro=24900").
func (c *Config) planOptions() ([]billing.Option, error) {
	prices := map[string]billing.Cents{}
	for _, pair := range strings.Split(c.PlanPrices, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		code, cents, ok := strings.Cut(strings.TrimSpace(pair), "=")
		n, err := strconv.ParseInt(cents, 10, 64)
		if !ok || err != nil || n < 0 {
			return nil, fmt.Errorf("LUX_PLAN_PRICES: %q is not code=cents (like pro=24900)", pair)
		}
		prices[code] = billing.Cents(n)
	}
	return []billing.Option{billing.WithPlanPrices(prices)}, nil
}

// planChanges builds the plan payments: Stripe's subscription Checkout when
// STRIPE_SECRET_KEY is set (price ids from STRIPE_PLAN_PRICES), else the demo provider.
func (c *Config) planChanges(svc *billing.Service, log *slog.Logger) (*payments.Plans, error) {
	cfg := payments.PlanConfig{BaseURL: strings.TrimRight(c.BaseURL, "/"), WebhookSecret: c.StripeWebhook, Log: log,
		CreditPrice: billing.Cents(c.CreditPriceCents)}
	if c.StripeSecretKey != "" {
		ids, err := payments.ParsePlanPriceIDs(c.StripePlanPrices)
		if err != nil {
			return nil, err
		}
		cfg.Provider = payments.NewStripePlans(c.StripeSecretKey, c.StripeAPIBase, ids)
	}
	return payments.NewPlans(svc, cfg), nil
}
