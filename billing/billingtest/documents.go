package billingtest

import (
	"testing"

	"github.com/jmoiron/sqlx"
)

// AssertDocuments checks the invariants of an organization's billing documents (and the
// numbering of all documents): statements add up and follow on from each other, credit notes
// never return more than their invoice, numbers are gap-free per series and year.
func AssertDocuments(t testing.TB, db *sqlx.DB, orgID string) {
	t.Helper()
	checks := []struct {
		name string
		sql  string
	}{
		{"every statement adds up (opening + in − out = closing)", `
			SELECT count(*) FROM documents d, LATERAL (SELECT d.body->'statement' AS s) x
			WHERE d.org_id = $1 AND d.kind = 'statement'
			AND (s->>'opening')::numeric + (s->>'allotmentGranted')::numeric + (s->>'purchased')::numeric
			  + (s->>'otherGrants')::numeric + (s->>'adjusted')::numeric - (s->>'refunded')::numeric
			  - (s->>'expired')::numeric - (s->>'used')::numeric <> (s->>'closing')::numeric`},
		{"a statement's used credits are its credits_mc", `
			SELECT count(*) FROM documents WHERE org_id = $1 AND kind = 'statement'
			AND (body->'statement'->>'used')::numeric * 1000 <> credits_mc`},
		{"each statement opens with the previous one's closing", `
			SELECT count(*) FROM (
			  SELECT (body->'statement'->>'opening')::numeric AS opening,
			         lag((body->'statement'->>'closing')::numeric) OVER (ORDER BY period_start) AS prev_closing,
			         period_start, lag(period_end) OVER (ORDER BY period_start) AS prev_end
			  FROM documents WHERE org_id = $1 AND kind = 'statement') s
			WHERE prev_end = period_start AND opening <> prev_closing`},
		{"credit notes never return more than their invoice", `
			SELECT count(*) FROM documents i WHERE i.org_id = $1 AND i.kind = 'invoice'
			AND i.total_cents < (SELECT COALESCE(sum(c.total_cents), 0) FROM documents c WHERE c.corrects_id = i.id)`},
		{"numbers are gap-free and unique per series and year", `
			SELECT count(*) FROM (
			  SELECT substring(number from '^(.*)-\d{4}-\d{6}$') AS series, substring(number from '-(\d{4})-\d{6}$') AS year,
			         count(*) AS n, max(substring(number from '(\d{6})$')::int) AS top
			  FROM documents WHERE $1::text IS NOT NULL GROUP BY 1, 2) s
			WHERE n <> top`},
	}
	for _, c := range checks {
		var bad int64
		if err := db.Get(&bad, c.sql, orgID); err != nil {
			t.Fatalf("document invariant %q: %v", c.name, err)
		}
		if bad != 0 {
			t.Errorf("document invariant broken: %s (%d)", c.name, bad)
		}
	}
}
