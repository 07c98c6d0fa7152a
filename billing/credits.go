package billing

import (
	"context"
	"fmt"
	"time"
)

// Plan is a subscription plan.
type Plan struct {
	Code           string        `db:"code"`
	Name           string        `db:"name"`
	MonthlyCredits *Millicredits `db:"monthly_credits_mc"` // nil: custom (Enterprise)
	PriceCents     Cents         `db:"price_cents"`
	Currency       string        `db:"currency"`
	BestFor        string        `db:"best_for"`
}

// CreditSummary is an organization's credit position now.
type CreditSummary struct {
	OrgID     string
	OrgName   string
	Plan      Plan
	Allotment Millicredits // this cycle's plan allotment, as granted
	// AllotmentRemaining is what is left of this cycle's allotment; it expires at CycleEnd.
	AllotmentRemaining Millicredits
	Purchased          Millicredits // what is left of purchased credits (never expire)
	Other              Millicredits // what is left of free, promo and adjustment grants
	Arrears            Millicredits // usage not yet paid by any grant
	Balance            Millicredits // available: all grants' remainders minus arrears
	CycleStart         time.Time
	CycleEnd           time.Time
	CycleUsed          Millicredits
	MonthlyLimit       *Millicredits
	LowBalance         *Millicredits // the org's low-balance alert; nil: none
	Timezone           string
	Paused             bool
	PauseReason        string
}

// CreditSummary returns the organization's credit summary, rolling the cycle over first if it ended.
func (s *Service) CreditSummary(ctx context.Context, orgID string) (*CreditSummary, error) {
	now := s.now()
	a, err := s.currentAccount(ctx, orgID, now)
	if err != nil {
		return nil, err
	}
	var sums struct {
		Purchased          Millicredits `db:"purchased_mc"`
		Other              Millicredits `db:"other_mc"`
		AllotmentGranted   Millicredits `db:"allotment_granted_mc"`
		AllotmentRemaining Millicredits `db:"allotment_remaining_mc"`
	}
	if err := s.db.GetContext(ctx, &sums, queries.SelectCreditSummary, orgID, cycleRef(a.CycleStart)); err != nil {
		return nil, fmt.Errorf("billing: credit summary: %w", err)
	}
	var org struct {
		OrgName string `db:"org_name"`
		Plan
	}
	if err := s.db.GetContext(ctx, &org, queries.SelectOrgPlan, orgID); err != nil {
		return nil, NotFound(err, "organization not found", "select org")
	}
	s.priced(&org.Plan)
	cs := &CreditSummary{
		OrgID: orgID, OrgName: org.OrgName, Plan: org.Plan,
		Allotment: sums.AllotmentGranted, AllotmentRemaining: sums.AllotmentRemaining,
		Purchased: sums.Purchased, Other: sums.Other, Arrears: a.Arrears, Balance: a.Balance,
		CycleStart: a.CycleStart, CycleEnd: a.CycleEnd, CycleUsed: a.CycleUsed,
		MonthlyLimit: a.MonthlyLimit, LowBalance: a.LowBalance, Timezone: a.Timezone,
	}
	cs.PauseReason = orgPauseReason(a)
	cs.Paused = cs.PauseReason != ""
	return cs, nil
}
