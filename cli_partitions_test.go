package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

func TestCLI_PartitionsListsMonthsAndRefusesToDetachANeededOne(t *testing.T) {
	t.Parallel()
	db, dsn := billingtest.NewDB(t)
	ctx := context.Background()
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	u, org, err := identity.New(svc).SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	// An event of ten months ago, before that month has a partition: it waits in the default one.
	old := billing.MonthStart(time.Now()).AddDate(0, -10, 14)
	if _, err := svc.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{
		{ID: "evt_old", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 3, OccurredAt: old},
		{ID: "evt_now", FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1},
	}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": dsn}
	month := old.Format("2006-01")

	out, errOut, code := runLux(t, env, "partitions")
	if code != 0 {
		t.Fatalf("lux partitions: exit %d\n%s%s", code, out, errOut)
	}
	// The command's own start made the old month's partition and moved its event there.
	if !regexp.MustCompile(`(?m)^\s*` + month + `\s+1\s+` + billing.PartitionName(old) + `\s+attached`).MatchString(out) {
		t.Errorf("the listing lacks %s with its one event:\n%s", month, out)
	}
	if !regexp.MustCompile(`(?m)^\s*other\s+0\s+usage_events_default\s+attached`).MatchString(out) {
		t.Errorf("the listing lacks the empty default partition:\n%s", out)
	}

	// Received in the open cycle: the cycle's statement will read it.
	next := old.AddDate(0, 1, 0).Format("2006-01")
	out, errOut, code = runLux(t, env, "partitions", "detach", "--before", next)
	if code == 0 || !strings.Contains(errOut, "still needed") {
		t.Fatalf("lux partitions detach --before %s: exit %d, want a refusal\n%s%s", next, code, out, errOut)
	}
	if _, _, code := runLux(t, env, "partitions", "detach", "--before", "March"); code == 0 {
		t.Error("lux partitions detach --before March: exit 0")
	}
	out, errOut, code = runLux(t, env, "partitions")
	if code != 0 || !strings.Contains(out, billing.PartitionName(old)+"  attached") {
		t.Errorf("after the refusal the month is not attached: exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := runLux(t, env, "check"); code != 0 || !strings.Contains(out, "Ledger OK") {
		t.Errorf("lux check: exit %d\n%s%s", code, out, errOut)
	}
}
