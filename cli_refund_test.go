package main

import (
	"context"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

func TestCLI_RefundRefundsUnusedCreditsOnce(t *testing.T) {
	t.Parallel()
	db, dsn := billingtest.NewDB(t)
	ctx := context.Background()
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(svc)
	u, org, err := ids.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Engines")
	if err != nil {
		t.Fatal(err)
	}
	pay := payments.New(svc, ids, payments.Config{})
	p, err := pay.StartPurchase(ctx, org, u.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pay.PayDemo(ctx, org, p.ID); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn, "STRIPE_SECRET_KEY": ""}
	out, errOut, code := runLux(t, env, "refund", "--purchase", p.ID)
	if code != 0 || !strings.Contains(out, "Refunded 1,000 unused credits of purchase "+p.ID+": $10.00") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runLux(t, env, "refund", "--purchase", p.ID)
	if code != 1 || !strings.Contains(errOut, "refunded already") {
		t.Fatalf("second refund: exit %d: %s", code, errOut)
	}
	_, errOut, code = runLux(t, env, "refund", "--purchase", "pur_nosuch")
	if code != 1 || !strings.Contains(errOut, `no purchase "pur_nosuch"`) {
		t.Fatalf("unknown purchase: exit %d: %s", code, errOut)
	}
	billingtest.AssertLedger(t, db, org)
}
