package main

import (
	"context"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// benchEnv is what the load needs: one API key per organization (keys[0] is the hot org's).
type benchEnv struct {
	user string
	orgs []string
	keys []string
}

// setUp creates n Pro organizations administered by one user, each with a never-expiring
// purchase of 10 million credits (so no cell runs into arrears) and an API key. It goes
// through the billing service on the server's database, as `lux apikey create` does.
func setUp(ctx context.Context, dbURL string, n int) (*benchEnv, error) {
	db, err := billing.OpenDB(ctx, dbURL, false)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	svc, err := billing.New(ctx, db)
	if err != nil {
		return nil, err
	}
	u, err := identity.New(svc).CreateUser(ctx, identity.NewUser{Email: "bench@lux.local", Name: "Bench", Password: "bench-password"})
	if err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	env := &benchEnv{user: u.ID}
	for i := range n {
		org, err := identity.New(svc).CreateOrg(ctx, billing.NewOrg{Name: fmt.Sprintf("Bench %02d", i), PlanCode: "pro"}, u.ID)
		if err != nil {
			return nil, fmt.Errorf("create org: %w", err)
		}
		if _, err := svc.GrantCredits(ctx, org, billing.GrantPurchase, billing.Credits(10_000_000), nil, fmt.Sprintf("bench-%d", i), "Benchmark credits"); err != nil {
			return nil, fmt.Errorf("grant credits: %w", err)
		}
		key, _, err := identity.New(svc).CreateAPIKey(ctx, org, u.ID, "bench")
		if err != nil {
			return nil, fmt.Errorf("create api key: %w", err)
		}
		env.orgs = append(env.orgs, org)
		env.keys = append(env.keys, key)
	}
	return env, nil
}
