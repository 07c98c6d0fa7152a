package main

import (
	"context"
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestCLI_CheckPassesOnASoundLedgerAndReportsABrokenOne(t *testing.T) {
	t.Parallel()
	db, dsn := billingtest.NewDB(t)
	ctx := context.Background()
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(svc)
	u, org, err := ids.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{{ID: "evt_1", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 3}}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn}

	for _, args := range [][]string{{"check"}, {"check", "--org", org}} {
		out, errOut, code := runLux(t, env, args...)
		if code != 0 || !strings.Contains(out, "Ledger OK") {
			t.Fatalf("lux %v on a sound ledger: exit %d\n%s%s", args, code, out, errOut)
		}
	}

	// A cached balance that no longer equals its ledger: the one thing a crash must never leave.
	if _, err := db.Exec(`UPDATE accounts SET balance_mc = balance_mc + 5 WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runLux(t, env, "check")
	if code != 1 {
		t.Fatalf("lux check on a broken ledger: exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"FAILED", org, "the cached balance equals the sum of the ledger (off by 5)", "the balance equals live grants minus arrears (off by 5)"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, _, code := runLux(t, env, "check", "--org", "org_nope"); code != 1 {
		t.Errorf("lux check --org of an unknown org: exit %d, want 1", code)
	}
}
