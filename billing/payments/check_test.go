package payments_test

import (
	"strings"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
)

// The payments rules are part of billing.CheckLedger (`lux check`): each tampering below is
// one a bug could leave behind, and each is reported for the org.
func TestCheckLedger_ReportsBrokenPurchasesAndRefunds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, tamper, want string
	}{
		{"grant without its event", `DELETE FROM payment_events WHERE purchase_id = $1`,
			"every paid purchase was granted on a processed provider event"},
		{"paid without a grant of its amount", `UPDATE grants SET amount_mc = amount_mc + 1, remaining_mc = remaining_mc + 1
			WHERE id = (SELECT grant_id FROM purchases WHERE id = $1)`,
			"a purchase is paid exactly when it has a grant, of its own amount and reference"},
		{"refund of more money than its share", `UPDATE refunds SET amount_cents = amount_cents + 100 WHERE purchase_id = $1`,
			"a refund returns no more money than its credits' share of the price"},
		{"refund entry without its refund", `DELETE FROM refunds WHERE purchase_id = $1`,
			"every refund entry is a recorded refund"},
		{"refund of more credits than were unused", `UPDATE refunds SET credits_mc = credits_mc + 1 WHERE purchase_id = $1`,
			"each refund removed its credits from its purchase's grant, no more than was unused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, false)
			p := f.buy(t, 500)
			f.paid(t, p)
			f.use(t, 1000+100)
			if _, err := f.pay.Refund(ctx, f.org, p.ID, f.admin); err != nil {
				t.Fatal(err)
			}
			if v, err := f.core.CheckLedger(ctx, f.org); err != nil || len(v) != 0 {
				t.Fatalf("sound ledger: %v, %v", v, err)
			}
			// Tampered inside a transaction that is rolled back: the fixture's closing
			// AssertLedger sees the sound ledger again.
			tx, err := f.db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(c.tamper, p.ID); err != nil {
				t.Fatal(err)
			}
			v, err := billing.CheckLedger(ctx, tx, "")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, x := range v {
				found = found || (x.OrgID == f.org && strings.Contains(x.Invariant, c.want))
			}
			if !found {
				t.Fatalf("violations %v lack %q", v, c.want)
			}
		})
	}
}
