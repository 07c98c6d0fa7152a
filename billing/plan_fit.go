package billing

// PlanFit is how a plan would have covered an organization's recent cycles: each cycle's
// usage against the plan's allotment, and what buying credits on top would have cost in the
// heaviest cycle.
type PlanFit struct {
	Allotment Millicredits
	Cycles    []CycleFit
	// TopUp is the whole credits to buy on top of the allotment in the heaviest cycle (its
	// overage rounded up to a whole credit), TopUpPrice their price.
	TopUp      Millicredits
	TopUpPrice Cents
	// MonthlyCost is the plan's price plus TopUpPrice: what the heaviest cycle would cost.
	MonthlyCost Cents
}

// CycleFit is one cycle's usage against a plan's allotment.
type CycleFit struct {
	CycleUsage
	Percent int          // of the allotment used, rounded down; may pass 100
	Over    Millicredits // usage beyond the allotment
}

// FitPlan measures plan p with allotment against cycles, buying extra credits at creditPrice
// per whole credit.
func FitPlan(p Plan, allotment Millicredits, cycles []CycleUsage, creditPrice Cents) PlanFit {
	f := PlanFit{Allotment: allotment, MonthlyCost: p.PriceCents}
	var worst Millicredits
	for _, c := range cycles {
		cf := CycleFit{CycleUsage: c, Over: max(0, c.Used-allotment)}
		if allotment > 0 {
			cf.Percent = int(int64(c.Used) * 100 / int64(allotment))
		} else if c.Used > 0 {
			cf.Percent = 100
		}
		worst = max(worst, cf.Over)
		f.Cycles = append(f.Cycles, cf)
	}
	whole := (int64(worst) + int64(Credit) - 1) / int64(Credit)
	f.TopUp = Credits(whole)
	f.TopUpPrice = Cents(whole) * creditPrice
	f.MonthlyCost += f.TopUpPrice
	return f
}
