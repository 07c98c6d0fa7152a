package billing

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/jmoiron/sqlx"
)

//go:embed check.sql
var checkSQL string

// invariant is one ledger rule of check.sql: its statement and what it says.
type invariant struct {
	query string
	rule  string
}

var (
	checkQueries = ParseQueries("billing/check.sql", checkSQL)
	// invariants lists every rule CheckLedger verifies, in report order.
	invariants = []invariant{
		{checkQueries.Get("balance-is-ledger-sum"), "the cached balance equals the sum of the ledger"},
		{checkQueries.Get("balance-is-grants-minus-arrears"), "the balance equals live grants minus arrears"},
		{checkQueries.Get("grant-remainder-is-amount-minus-allocations"), "every grant's remainder equals its amount minus its allocations"},
		{checkQueries.Get("no-grant-below-zero"), "no grant is below zero"},
		{checkQueries.Get("arrears-are-unfunded-minus-settled"), "arrears equal unfunded usage minus what was settled"},
		{checkQueries.Get("usage-entry-is-allocations-plus-unfunded"), "each usage entry is paid by its allocations plus its unfunded part"},
		{checkQueries.Get("usage-entries-are-event-costs"), "usage entries equal the events' costs"},
		{checkQueries.Get("usage-entry-is-its-events"), "each usage entry equals its own events"},
		{checkQueries.Get("events-are-their-keys"), "every event row matches its idempotency key, and every key has its event row unless its month was detached"},
		{checkQueries.Get("daily-rollup-is-events"), "the daily rollup equals the events"},
		{checkQueries.Get("flow-rollup-is-daily-rollup"), "the per-flow daily rollup equals the daily rollup"},
		{checkQueries.Get("weekly-flow-rollup-is-daily"), "the per-flow weekly rollup equals the per-flow daily rollup"},
		{checkQueries.Get("execution-totals-are-events"), "execution totals equal the events"},
		{checkQueries.Get("allotment-grants-add-up"), "a cycle's allotment grants add up to the highest allotment level reached in it (upgrade top-ups)"},
		{checkQueries.Get("allotment-grants-expire-together"), "a cycle's allotment grants all expire at the cycle's end"},
		{checkQueries.Get("no-grant-expires-twice"), "no grant expires twice"},
		{checkQueries.Get("no-allotment-outlives-its-cycle"), "no allotment outlives its cycle"},
		{checkQueries.Get("one-renewal-charge-per-cycle"), "a cycle has at most one renewal charge"},
		{checkQueries.Get("plan-charge-points-at-its-allotment"), "every plan charge points at an allotment grant of its org and that grant's entry"},
		{checkQueries.Get("paid-purchase-has-its-grant"), "a purchase is paid exactly when it has a grant, of its own amount and reference"},
		{checkQueries.Get("no-purchase-granted-twice"), "no purchase is granted twice"},
		{checkQueries.Get("paid-purchase-has-its-event"), "every paid purchase was granted on a processed provider event"},
		{checkQueries.Get("refund-took-unused-credits-of-its-purchase"), "each refund removed its credits from its purchase's grant, no more than was unused"},
		{checkQueries.Get("refund-money-within-its-share"), "a refund returns no more money than its credits' share of the price"},
		{checkQueries.Get("refund-entry-is-a-refund"), "every refund entry is a recorded refund"},
	}
	selectOrgExists = checkQueries.Get("select-org-exists")
)

// LedgerViolation is one ledger invariant that one organization breaks. Off is by how much
// (in millicredits) or in how many rows, depending on the invariant.
type LedgerViolation struct {
	OrgID     string
	Invariant string
	Off       int64
}

// String describes the violation for a report.
func (v LedgerViolation) String() string {
	return fmt.Sprintf("org %s: %s (off by %d)", v.OrgID, v.Invariant, v.Off)
}

// CheckLedger verifies every ledger invariant (see docs/DESIGN.md, "Ledger") for one
// organization, or for all of them when orgID is "". It returns the violations found, none
// when the ledger is sound; an unknown organization is ENOTFOUND. A capability that adds
// ledger rules adds its invariant to check.sql and invariants.
func (s *Service) CheckLedger(ctx context.Context, orgID string) ([]LedgerViolation, error) {
	return CheckLedger(ctx, s.DB(), orgID)
}

// CheckLedger is Service.CheckLedger on a database handle: `lux check` and the tests'
// billingtest.AssertLedger run the same rules.
func CheckLedger(ctx context.Context, db sqlx.QueryerContext, orgID string) ([]LedgerViolation, error) {
	var org any // NULL checks every organization
	if orgID != "" {
		var exists bool
		if err := sqlx.GetContext(ctx, db, &exists, selectOrgExists, orgID); err != nil {
			return nil, fmt.Errorf("billing: check ledger: %w", err)
		}
		if !exists {
			return nil, Errorf(ENOTFOUND, "no organization with id %s", Quote(orgID))
		}
		org = orgID
	}
	var out []LedgerViolation
	for _, inv := range invariants {
		var rows []struct {
			OrgID string `db:"org_id"`
			Off   int64  `db:"off"`
		}
		if err := sqlx.SelectContext(ctx, db, &rows, inv.query, org); err != nil {
			return nil, fmt.Errorf("billing: check ledger (%s): %w", inv.rule, err)
		}
		for _, r := range rows {
			out = append(out, LedgerViolation{OrgID: r.OrgID, Invariant: inv.rule, Off: r.Off})
		}
	}
	return out, nil
}
