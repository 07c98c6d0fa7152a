package billing_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

var ctx = context.Background()

// fixture is an organization with an admin on its own database.
type fixture struct {
	svc   *billing.Service
	db    *sqlx.DB
	clock *billingtest.Clock
	org   string
	admin string
}

var t0 = time.Date(2026, 3, 31, 9, 30, 0, 0, time.UTC)

func newFixture(t *testing.T, plan string) *fixture {
	t.Helper()
	clock := billingtest.NewClock(t0)
	svc, db := billingtest.NewService(t, billing.WithClock(clock.Now))
	u, err := svc.CreateUser(ctx, billing.NewUser{Email: fmt.Sprintf("admin-%s@example.com", plan), Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.CreateOrg(ctx, billing.NewOrg{Name: "Test Org", PlanCode: plan}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, db: db, clock: clock, org: org, admin: u.ID}
}

func (f *fixture) record(t *testing.T, events ...billing.UsageEvent) *billing.UsageResult {
	t.Helper()
	res, err := f.svc.RecordUsage(ctx, f.org, f.admin, events)
	if err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
	return res
}

func (f *fixture) credits(t *testing.T) *billing.CreditSummary {
	t.Helper()
	cs, err := f.svc.Credits(ctx, f.org)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var evtSeq atomic.Int64

// ev returns a new event with a unique id.
func ev(typ, model string, qty int64) billing.UsageEvent {
	return billing.UsageEvent{ID: fmt.Sprintf("evt_%d", evtSeq.Add(1)), FlowID: "flow_1", ExecutionID: "exec_1", Type: typ, Model: model, Quantity: qty}
}
