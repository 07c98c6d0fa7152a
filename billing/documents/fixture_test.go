package documents_test

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/reports"
)

var ctx = context.Background()

// t0 is a cycle anchor at midnight UTC, so cycles line up with the rollup's days.
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// fixture is an org with an admin and a member, the core and the documents service on one
// throwaway database, and a clock.
type fixture struct {
	svc    *billing.Service
	ids    *identity.Service
	rep    *reports.Service
	docs   *documents.Service
	db     *sqlx.DB
	clock  *billingtest.Clock
	org    string
	admin  string
	member string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := billingtest.NewClock(t0)
	svc, db := billingtest.NewService(t, billing.WithClock(clock.Now))
	f := &fixture{svc: svc, ids: identity.New(svc), rep: reports.New(svc), db: db, clock: clock}
	f.docs = documents.New(db, documents.Config{}, documents.WithClock(clock.Now))
	admin, err := f.ids.CreateUser(ctx, identity.NewUser{Email: "ada@example.com", Name: "Ada Admin", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	f.admin = admin.ID
	if f.org, err = f.ids.CreateOrg(ctx, billing.NewOrg{Name: "Initech Robotics", PlanCode: "starter"}, admin.ID); err != nil {
		t.Fatal(err)
	}
	member, err := f.ids.CreateUser(ctx, identity.NewUser{Email: "bob@example.com", Name: "Bob Member", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	f.member = member.ID
	if err := f.ids.AddMember(ctx, f.org, member.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	return f
}

var seq atomic.Int64

// use records one event for user on flow at the clock's time.
func (f *fixture) use(t *testing.T, user, flow, typ, model string, qty int64) {
	t.Helper()
	e := billing.UsageEvent{ID: fmt.Sprintf("evt_%d", seq.Add(1)), FlowID: flow, ExecutionID: fmt.Sprintf("exec_%d", seq.Add(1)), UserID: user, Type: typ, Model: model, Quantity: qty}
	if _, err := f.svc.RecordUsage(ctx, f.org, f.admin, []billing.UsageEvent{e}); err != nil {
		t.Fatalf("RecordUsage: %v", err)
	}
}

// buy grants a purchase of n credits through the core and issues its invoice, the way payments
// fulfils a purchase.
func (f *fixture) buy(t *testing.T, ref string, n int64) *documents.Document {
	t.Helper()
	if _, err := f.svc.GrantCredits(ctx, f.org, billing.GrantPurchase, billing.Credits(n), nil, ref, "Purchased credits"); err != nil {
		t.Fatal(err)
	}
	var d *documents.Document
	f.inTx(t, func(tx *sqlx.Tx) (err error) {
		d, err = f.docs.IssuePurchaseInvoice(ctx, tx, documents.Purchase{
			OrgID: f.org, Ref: ref, Credits: billing.Credits(n), UnitCents: 1, Amount: billing.Cents(n),
			Currency: "usd", Method: "Card (Stripe)", PaymentRef: "pi_" + ref,
		})
		return err
	})
	return d
}

func (f *fixture) inTx(t *testing.T, fn func(tx *sqlx.Tx) error) {
	t.Helper()
	tx, err := f.db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// pdfText renders d and returns pdftotext's reading of it (layout kept).
func pdfText(t *testing.T, d *documents.Document) string {
	t.Helper()
	b, err := documents.PDF(d)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = strings.NewReader(string(b))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext (apt-get install poppler-utils): %v", err)
	}
	return string(out)
}

func asProfileError(err error, pe **documents.ProfileError) bool { return errors.As(err, pe) }
