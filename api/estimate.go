package api

import (
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/estimate"
)

// EstimateRequest is the body of POST /api/v1/estimate: lines of work, each done count times
// a month (default 1), each time quantity units of its type (tokens, emails, messages,
// seconds, characters).
type EstimateRequest struct {
	Lines []EstimateLine `json:"lines"`
}

// EstimateLine is one line of work as the CLI sends it. The server decodes the numbers
// itself, so that a bad one is named in the error.
type EstimateLine struct {
	Type     string `json:"type"`
	Model    string `json:"model,omitempty"`
	Count    int64  `json:"count"`
	Quantity int64  `json:"quantity"`
}

// CostEstimate is the answer of POST /api/v1/estimate (SPEC §9) with a few additions for people:
// labels, the monthly cost in cents and the plans compared.
type CostEstimate struct {
	Lines           []EstimatedLine      `json:"lines"`
	Total           billing.Millicredits `json:"total"`
	RecommendedPlan string               `json:"recommendedPlan"`
	TopUp           billing.Millicredits `json:"topUp"`
	Savings         []EstimateSaving     `json:"savings"`
	// Cost is Total at the configured price of a credit.
	Cost  EstimateMoney `json:"cost"`
	Plans struct {
		Current     EstimatePlan `json:"current"`
		Recommended EstimatePlan `json:"recommended"`
	} `json:"plans"`
}

// EstimatedLine is a line with its credits a month.
type EstimatedLine struct {
	Type     string               `json:"type"`
	Model    string               `json:"model,omitempty"`
	Count    int64                `json:"count"`
	Quantity int64                `json:"quantity"`
	Label    string               `json:"label"`
	Unit     string               `json:"unit"`
	Credits  billing.Millicredits `json:"credits"`
}

// EstimateSaving is what a cheaper model would save on an AI line each month.
type EstimateSaving struct {
	Line        int                  `json:"line"`
	Model       string               `json:"model"`
	Alternative string               `json:"alternative"`
	Credits     billing.Millicredits `json:"credits"`
	Message     string               `json:"message"`
}

// EstimateMoney is the price of the estimate's credits.
type EstimateMoney struct {
	Cents            billing.Cents `json:"cents"`
	TopUpCents       billing.Cents `json:"topUpCents"`
	CreditPriceCents billing.Cents `json:"creditPriceCents"`
	Currency         string        `json:"currency"`
}

// EstimatePlan is a plan as the estimate compares it; Credits is null for a custom allotment
// (Enterprise) unless it is the organization's own.
type EstimatePlan struct {
	Code       string                `json:"code"`
	Name       string                `json:"name"`
	Credits    *billing.Millicredits `json:"credits"`
	PriceCents billing.Cents         `json:"priceCents"`
}

// NewCostEstimate shapes an estimate for the API.
func NewCostEstimate(e *estimate.Estimate) CostEstimate {
	out := CostEstimate{Lines: make([]EstimatedLine, len(e.Lines)), Total: e.Total,
		RecommendedPlan: e.Recommended.Code, TopUp: e.TopUp, Savings: make([]EstimateSaving, len(e.Savings)),
		Cost: EstimateMoney{Cents: e.Cents, TopUpCents: e.TopUpCents, CreditPriceCents: e.CreditPriceCents, Currency: "usd"}}
	for i, l := range e.Lines {
		out.Lines[i] = EstimatedLine{Type: l.Type, Model: l.Model, Count: l.Count, Quantity: l.Quantity,
			Label: l.Label, Unit: l.Unit, Credits: l.Credits}
	}
	for i, s := range e.Savings {
		out.Savings[i] = EstimateSaving{Line: s.Line, Model: s.Model, Alternative: s.Alternative, Credits: s.Credits, Message: s.String()}
	}
	allotment := e.CurrentAllotment
	out.Plans.Current = EstimatePlan{Code: e.Current.Code, Name: e.Current.Name, Credits: &allotment, PriceCents: e.Current.PriceCents}
	r := e.Recommended
	out.Plans.Recommended = EstimatePlan{Code: r.Code, Name: r.Name, Credits: r.MonthlyCredits, PriceCents: r.PriceCents}
	if r.Code == e.Current.Code {
		out.Plans.Recommended.Credits = &allotment
	}
	return out
}
