package billing

import (
	"context"
	_ "embed"
	"fmt"
	"reflect"
)

//go:embed check.sql
var checkSQL string

// checkQueries are the ledger invariants of check.sql, one query each.
type checkQueries struct {
	balanceIsLedgerSum          string `query:"balance-is-ledger-sum" invariant:"the cached balance equals the sum of the ledger"`
	balanceIsGrantsMinusArrears string `query:"balance-is-grants-minus-arrears" invariant:"the balance equals live grants minus arrears"`
	grantRemainder              string `query:"grant-remainder-is-amount-minus-allocations" invariant:"every grant's remainder equals its amount minus its allocations"`
	noGrantBelowZero            string `query:"no-grant-below-zero" invariant:"no grant is below zero"`
	arrears                     string `query:"arrears-are-unfunded-minus-settled" invariant:"arrears equal unfunded usage minus what was settled"`
	usageEntryPaid              string `query:"usage-entry-is-allocations-plus-unfunded" invariant:"each usage entry is paid by its allocations plus its unfunded part"`
	usageEntriesAreCosts        string `query:"usage-entries-are-event-costs" invariant:"usage entries equal the events' costs"`
	usageEntryIsItsEvents       string `query:"usage-entry-is-its-events" invariant:"each usage entry equals its own events"`
	dailyRollup                 string `query:"daily-rollup-is-events" invariant:"the daily rollup equals the events"`
	executionTotals             string `query:"execution-totals-are-events" invariant:"execution totals equal the events"`
	selectOrgExists             string `query:"select-org-exists"`
}

var checkQ = mustLoadQueries[checkQueries](checkSQL)

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
// ledger rules adds its invariant to check.sql and checkQueries.
func (s *Service) CheckLedger(ctx context.Context, orgID string) ([]LedgerViolation, error) {
	var org any // NULL checks every organization
	if orgID != "" {
		var exists bool
		if err := s.db.GetContext(ctx, &exists, checkQ.selectOrgExists, orgID); err != nil {
			return nil, fmt.Errorf("billing: check ledger: %w", err)
		}
		if !exists {
			return nil, Errorf(ENOTFOUND, "no organization with id %s", Quote(orgID))
		}
		org = orgID
	}
	var out []LedgerViolation
	v := reflect.ValueOf(*checkQ)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("invariant")
		if name == "" {
			continue
		}
		var rows []struct {
			OrgID string `db:"org_id"`
			Off   int64  `db:"off"`
		}
		if err := s.db.SelectContext(ctx, &rows, v.Field(i).String(), org); err != nil {
			return nil, fmt.Errorf("billing: check ledger (%s): %w", name, err)
		}
		for _, r := range rows {
			out = append(out, LedgerViolation{OrgID: r.OrgID, Invariant: name, Off: r.Off})
		}
	}
	return out, nil
}
