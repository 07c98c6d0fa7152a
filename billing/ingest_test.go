package billing_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// Batches of many orgs share transactions; each org's ledger must come out exact, and a batch
// that fails must fail alone.
func TestRecordUsage_ManyOrgsConcurrentlyEachExact(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	type org struct{ id, admin string }
	orgs := []org{{f.Org, f.Admin}}
	for i := range 7 {
		u, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: fmt.Sprintf("o%d@example.com", i), Password: "correct horse"})
		if err != nil {
			t.Fatal(err)
		}
		id, err := f.Identity.CreateOrg(ctx, billing.NewOrg{Name: fmt.Sprintf("Org %d", i)}, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, org{id, u.ID})
	}
	const perOrg = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts, oks := 0, 0
	for oi, o := range orgs {
		for c := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perOrg / 4 {
					id := fmt.Sprintf("e_%d_%d", c, i)
					e := billing.UsageEvent{ID: id, FlowID: "flow", ExecutionID: fmt.Sprintf("x%d", c), Type: "sms", Quantity: int64(1 + oi%3)}
					if _, err := f.Svc.RecordUsage(ctx, o.id, o.admin, []billing.UsageEvent{e}); err != nil {
						t.Errorf("org %d: %v", oi, err)
						return
					}
					// The same id with another body: refused, and it must not disturb the others.
					bad := e
					bad.Quantity++
					_, err := f.Svc.RecordUsage(ctx, o.id, o.admin, []billing.UsageEvent{bad, {ID: id + "_other", FlowID: "flow", ExecutionID: "x", Type: "email", Quantity: 1}})
					mu.Lock()
					if billing.ErrorCode(err) == billing.ECONFLICT {
						conflicts++
					} else {
						t.Errorf("org %d: reused id: %v, want ECONFLICT", oi, err)
					}
					oks++
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if conflicts != oks {
		t.Errorf("%d conflicts of %d reuses", conflicts, oks)
	}
	for oi, o := range orgs {
		cs, err := f.Svc.CreditSummary(ctx, o.id)
		if err != nil {
			t.Fatal(err)
		}
		want := billing.Credits(1000 - int64(perOrg*2*(1+oi%3)))
		if cs.Balance != want {
			t.Errorf("org %d: balance %s, want %s", oi, cs.Balance, want)
		}
		var n int
		_ = f.DB.Get(&n, `SELECT count(*) FROM usage_events WHERE org_id = $1`, o.id)
		if n != perOrg {
			t.Errorf("org %d: %d events recorded, want %d", oi, n, perOrg)
		}
		billingtest.AssertLedger(t, f.DB, o.id)
	}
}
