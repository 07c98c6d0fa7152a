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
		{"a cycle's allotment grants add up to the highest allotment level reached in it (upgrade top-ups)", `
			SELECT count(*) FROM (
				SELECT sum(amount_mc) AS total,
				       max(CASE WHEN source_ref LIKE '%/top-up/%' THEN split_part(source_ref, '/', 3)::bigint ELSE amount_mc END) AS level
				FROM grants WHERE org_id = $1 AND kind = 'plan_allotment'
				GROUP BY split_part(source_ref, '/', 1)) c
			WHERE total <> level`},
		{"a cycle's allotment grants all expire at the cycle's end", `
			SELECT count(*) FROM (
				SELECT count(DISTINCT expires_at) AS ends FROM grants WHERE org_id = $1 AND kind = 'plan_allotment'
				GROUP BY split_part(source_ref, '/', 1)) c
			WHERE ends <> 1`},
		{"no grant expires twice", `
			SELECT count(*) FROM (SELECT grant_id FROM ledger_entries WHERE org_id = $1 AND kind = 'expiry'
			                      GROUP BY grant_id HAVING count(*) > 1) x`},
		{"no allotment outlives its cycle", `
			SELECT count(*) FROM grants g JOIN accounts a ON a.org_id = g.org_id
			WHERE g.org_id = $1 AND g.kind = 'plan_allotment' AND g.expires_at <= a.cycle_start AND g.remaining_mc > 0`},
		{"a cycle has at most one renewal charge", `
			SELECT count(*) FROM (SELECT period_start FROM plan_charges WHERE org_id = $1 AND kind = 'renewal'
			                      GROUP BY period_start HAVING count(*) > 1) x`},
		{"every plan charge points at an allotment grant of its org and that grant's entry", `
			SELECT count(*) FROM plan_charges c
			LEFT JOIN grants g ON g.id = c.grant_id
			LEFT JOIN ledger_entries e ON e.id = c.entry_id
			WHERE c.org_id = $1 AND c.grant_id IS NOT NULL
			  AND (g.org_id <> c.org_id OR g.kind <> 'plan_allotment' OR e.grant_id IS DISTINCT FROM g.id)`},
		{"a purchase is paid exactly when it has a grant, of its own amount and reference", `
			SELECT count(*) FROM purchases p LEFT JOIN grants g ON g.id = p.grant_id
			WHERE p.org_id = $1 AND ((p.status = 'paid') <> (g.id IS NOT NULL)
			   OR g.amount_mc <> p.credits_mc OR g.kind <> 'purchase' OR g.source_ref <> p.id OR g.org_id <> p.org_id)`},
		{"no purchase is granted twice", `
			SELECT count(*) FROM purchases p
			WHERE p.org_id = $1 AND (SELECT count(*) FROM grants g WHERE g.org_id = p.org_id AND g.kind = 'purchase' AND g.source_ref = p.id) > 1`},
		{"each refund removed its credits from its purchase's grant, no more than was unused", `
			SELECT count(*) FROM refunds r
			JOIN purchases p ON p.id = r.purchase_id
			JOIN ledger_entries e ON e.id = r.entry_id
			WHERE r.org_id = $1 AND (e.kind <> 'refund' OR e.amount_mc <> -r.credits_mc OR e.grant_id IS DISTINCT FROM p.grant_id
			   OR r.credits_mc > p.credits_mc - COALESCE((SELECT sum(a.amount_mc) FROM allocations a
			                                                WHERE a.grant_id = p.grant_id AND a.entry_id <> r.entry_id), 0)
			   OR (SELECT sum(a.amount_mc) FROM allocations a WHERE a.entry_id = e.id AND a.grant_id = p.grant_id) <> r.credits_mc)`},
		{"a refund returns no more money than its credits' share of the price", `
			SELECT count(*) FROM refunds r JOIN purchases p ON p.id = r.purchase_id
			WHERE r.org_id = $1 AND 2 * r.amount_cents * p.credits_mc > 2 * p.price_cents * r.credits_mc + p.credits_mc`},
		{"every refund entry is a recorded refund", `
			SELECT count(*) FROM ledger_entries e
			WHERE e.org_id = $1 AND e.kind = 'refund' AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.entry_id = e.id)`},
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
