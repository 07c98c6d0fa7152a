package billingtest

import (
	"testing"

	"github.com/jmoiron/sqlx"
)

// AssertLedger checks every invariant of an organization's ledger and the figures derived from
// it; a test calls it after each scenario.
func AssertLedger(t testing.TB, db *sqlx.DB, orgID string) {
	t.Helper()
	checks := []struct {
		name string
		sql  string
	}{
		{"cached balance equals the sum of the ledger", `
			SELECT a.balance_mc - COALESCE((SELECT sum(amount_mc) FROM ledger_entries e WHERE e.org_id = a.org_id), 0)
			FROM accounts a WHERE a.org_id = $1`},
		{"balance equals live grants minus arrears", `
			SELECT a.balance_mc - (COALESCE((SELECT sum(remaining_mc) FROM grants g WHERE g.org_id = a.org_id), 0) - a.arrears_mc)
			FROM accounts a WHERE a.org_id = $1`},
		{"every grant's remainder equals its amount minus its allocations", `
			SELECT count(*) FROM grants g
			WHERE g.org_id = $1 AND g.remaining_mc <> g.amount_mc - COALESCE((SELECT sum(amount_mc) FROM allocations a WHERE a.grant_id = g.id), 0)`},
		{"no grant is below zero", `SELECT count(*) FROM grants WHERE org_id = $1 AND remaining_mc < 0`},
		{"arrears equal unfunded usage minus what was settled", `
			SELECT a.arrears_mc - (COALESCE((SELECT sum(unfunded_mc) FROM ledger_entries e WHERE e.org_id = a.org_id), 0)
			                      - COALESCE((SELECT sum(amount_mc) FROM allocations x WHERE x.org_id = a.org_id AND x.settled), 0))
			FROM accounts a WHERE a.org_id = $1`},
		{"each usage entry is paid by its allocations plus its unfunded part", `
			SELECT count(*) FROM ledger_entries e WHERE e.org_id = $1 AND e.kind = 'usage'
			AND -e.amount_mc <> e.unfunded_mc + COALESCE((SELECT sum(amount_mc) FROM allocations a WHERE a.entry_id = e.id AND NOT a.settled), 0)`},
		{"usage entries equal the events' costs", `
			SELECT COALESCE((SELECT -sum(amount_mc) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage'), 0)
			     - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
		{"each usage entry equals its own events", `
			SELECT count(*) FROM ledger_entries e WHERE e.org_id = $1 AND e.kind = 'usage'
			AND -e.amount_mc <> (SELECT COALESCE(sum(cost_mc), 0) FROM usage_events u WHERE u.org_id = e.org_id AND u.entry_id = e.id)`},
		{"the daily rollup equals the events", `
			SELECT COALESCE((SELECT sum(credits_mc) FROM usage_daily WHERE org_id = $1), 0)
			     - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
		{"execution totals equal the events", `
			SELECT COALESCE((SELECT sum(credits_mc) FROM execution_usage WHERE org_id = $1), 0)
			     - COALESCE((SELECT sum(cost_mc) FROM usage_events WHERE org_id = $1), 0)`},
	}
	for _, c := range checks {
		var diff int64
		if err := db.Get(&diff, c.sql, orgID); err != nil {
			t.Fatalf("ledger invariant %q: %v", c.name, err)
		}
		if diff != 0 {
			t.Errorf("ledger invariant broken: %s (off by %d)", c.name, diff)
		}
	}
}
