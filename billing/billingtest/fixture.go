package billingtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// T0 is the fixtures' starting instant: the last day of a month, so cycles clamp.
var T0 = time.Date(2026, 3, 31, 9, 30, 0, 0, time.UTC)

// Fixture is an organization with an admin on its own database, with every part of the
// domain built over one store and a controllable clock.
type Fixture struct {
	Svc      *billing.Service // the core
	Identity *identity.Service
	Reports  *reports.Service
	DB       *sqlx.DB
	Clock    *Clock
	Org      string // the organization's id
	Admin    string // its admin's user id
}

// NewFixture returns a Fixture whose organization is on plan, its clock at T0.
func NewFixture(t testing.TB, plan string) *Fixture {
	t.Helper()
	clock := NewClock(T0)
	svc, db := NewService(t, billing.WithClock(clock.Now))
	f := &Fixture{Svc: svc, Identity: identity.New(svc), Reports: reports.New(svc), DB: db, Clock: clock}
	ctx := context.Background()
	u, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("admin-%s@example.com", plan), Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	org, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: "Test Org", PlanCode: plan}, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.Org, f.Admin = org, u.ID
	return f
}

// Record records events as the admin; a failure ends the test.
func (f *Fixture) Record(t testing.TB, events ...billing.UsageEvent) *billing.UsageResult {
	t.Helper()
	res, err := f.Svc.RecordUsage(context.Background(), f.Org, f.Admin, events)
	if err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
	return res
}

// CreditSummary returns the organization's credit summary; a failure ends the test.
func (f *Fixture) CreditSummary(t testing.TB) *billing.CreditSummary {
	t.Helper()
	cs, err := f.Svc.CreditSummary(context.Background(), f.Org)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var evtSeq atomic.Int64

// Event returns a new event of flow_1, exec_1 with a unique id.
func Event(typ, model string, qty int64) billing.UsageEvent {
	return billing.UsageEvent{ID: fmt.Sprintf("evt_%d", evtSeq.Add(1)), FlowID: "flow_1", ExecutionID: "exec_1", Type: typ, Model: model, Quantity: qty}
}

// NewMember creates a user (password "correct horse") and adds them to the organization as a
// member; a failure ends the test.
func (f *Fixture) NewMember(t testing.TB, email, name string) *identity.User {
	t.Helper()
	ctx := context.Background()
	u, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: email, Name: name, Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Identity.AddMember(ctx, f.Org, u.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	return u
}
