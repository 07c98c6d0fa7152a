package estimate

import (
	"context"
	"fmt"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// Core is what the calculator reads from the billing core: the live rate card, the plans and
// the organization's credit summary (its plan and allotment).
type Core interface {
	Now() time.Time
	Rates() *billing.RateCard
	Plans(ctx context.Context) ([]billing.Plan, error)
	CreditSummary(ctx context.Context, orgID string) (*billing.CreditSummary, error)
}

// Usage is what the calculator reads of an organization's usage: the days of a range and what
// was used per type and model (billing/reports, from the daily rollup).
type Usage interface {
	ResolveRange(ctx context.Context, orgID string, preset reports.RangePreset, from, to reports.Date) (reports.Date, reports.Date, error)
	UsageMix(ctx context.Context, orgID string, from, to reports.Date) ([]reports.TypeUsage, error)
}

// Service estimates a month of work for an organization. It stores nothing.
type Service struct {
	core             Core
	usage            Usage
	creditPriceCents billing.Cents
}

// DefaultCreditPriceCents is the price of a credit when none is configured (SPEC §5: 1 US cent).
const DefaultCreditPriceCents billing.Cents = 1

// New returns the calculator over the core and the usage reports; creditPriceCents is the
// price of one credit (LUX_CREDIT_PRICE_CENTS), DefaultCreditPriceCents when not positive.
func New(core Core, usage Usage, creditPriceCents billing.Cents) *Service {
	if creditPriceCents <= 0 {
		creditPriceCents = DefaultCreditPriceCents
	}
	return &Service{core: core, usage: usage, creditPriceCents: creditPriceCents}
}

// Rates returns the rates in force now, by type then model: what the calculator offers. A
// model added to the rate card appears here as soon as the server's copy reloads.
func (s *Service) Rates() []billing.Rate { return s.core.Rates().Current(s.core.Now()) }

// CreditPriceCents returns the price of one credit.
func (s *Service) CreditPriceCents() billing.Cents { return s.creditPriceCents }

// Estimate prices lines for the organization orgID, whose plan decides TopUp. Invalid lines
// are an *InvalidError (EINVALID) naming every field to fix; an unknown organization is
// ENOTFOUND.
func (s *Service) Estimate(ctx context.Context, orgID string, lines []Line) (*Estimate, error) {
	p, err := s.pricing(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return Compute(p, lines)
}

func (s *Service) pricing(ctx context.Context, orgID string) (Pricing, error) {
	plans, err := s.core.Plans(ctx)
	if err != nil {
		return Pricing{}, err
	}
	cs, err := s.core.CreditSummary(ctx, orgID)
	if err != nil {
		return Pricing{}, err
	}
	allotment := cs.Allotment // an Enterprise org's own allotment
	if cs.Plan.MonthlyCredits != nil {
		allotment = *cs.Plan.MonthlyCredits
	}
	return Pricing{Rates: s.Rates(), Plans: plans, Current: cs.Plan, CurrentAllotment: allotment,
		CreditPriceCents: s.creditPriceCents}, nil
}

// LastDays is the window "Start from my last 30 days" reads.
const LastDays = reports.RangeLast30Days

// FromUsage returns lines that repeat what the organization used over the last 30 days
// (today included, in its time zone): one line per usage type and model, done as many times as
// there were events, each the average quantity rounded up (so a voice call's average length is
// billed by the started minute, which can differ slightly from the calls' own minutes). Types
// or models no longer on the rate card are left out. No usage gives no lines.
func (s *Service) FromUsage(ctx context.Context, orgID string) ([]Line, error) {
	from, to, err := s.usage.ResolveRange(ctx, orgID, LastDays, reports.Date{}, reports.Date{})
	if err != nil {
		return nil, err
	}
	mix, err := s.usage.UsageMix(ctx, orgID, from, to)
	if err != nil {
		return nil, fmt.Errorf("estimate: usage of the last 30 days: %w", err)
	}
	priced := map[[2]string]bool{}
	for _, r := range s.Rates() {
		priced[[2]string{r.Type, r.Model}] = true
	}
	var lines []Line
	for _, u := range mix {
		if u.Events <= 0 || !priced[[2]string{u.Type, u.Model}] {
			continue
		}
		each := (u.Quantity + u.Events - 1) / u.Events
		lines = append(lines, Line{Type: u.Type, Model: u.Model, Count: min(u.Events, MaxCount), Quantity: min(each, MaxQuantity)})
	}
	return lines, nil
}
