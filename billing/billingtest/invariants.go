package billingtest

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// AssertLedger checks every invariant of an organization's ledger and the figures derived from
// it; a test calls it after each scenario. The rules are billing.CheckLedger's (billing/check.sql),
// the ones `lux check` verifies: one definition.
func AssertLedger(t testing.TB, db *sqlx.DB, orgID string) {
	t.Helper()
	violations, err := billing.CheckLedger(context.Background(), db, orgID)
	if err != nil {
		t.Fatalf("ledger invariants of org %s: %v", orgID, err)
	}
	for _, v := range violations {
		t.Errorf("ledger invariant broken: %s (off by %d)", v.Invariant, v.Off)
	}
}
