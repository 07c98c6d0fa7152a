// Package estimate is the cost calculator: it prices a month of work (lines of AI calls,
// emails, SMS, voice calls and voice synthesis) from the live rate card, recommends the
// cheapest plan that covers it, says what to buy on top of the organization's plan and what a
// cheaper AI model would save. Nothing is stored. The page, the API and the CLI all call
// Service.Estimate, so they give the same numbers.
package estimate

import (
	"errors"
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/luxstudio/lux-billing/billing"
)

// Limits of an estimate. Anything above them is a typing slip rather than a plan.
const (
	MaxLines = 50
	// MaxCount is the most times a month a line may be done: a billion.
	MaxCount = 1_000_000_000
	// MaxQuantity is the most units one time may carry (the same bound as a usage event).
	MaxQuantity = billing.MaxQuantity
	// MaxLineCredits bounds a line's cost: a trillion credits a month.
	MaxLineCredits = 1_000_000_000_000 * billing.Credit
)

// Line is one kind of work done Count times a month, each time Quantity units of its type
// (tokens, emails, messages, seconds, characters: the unit of a usage event). A voice call's
// seconds are billed per started minute, per call.
type Line struct {
	Type     string
	Model    string // the AI model; "" for other types
	Count    int64
	Quantity int64
}

// PricedLine is a line with its cost.
type PricedLine struct {
	Line
	Label   string               // the rate card's name: "Claude Sonnet", "Email"
	Unit    string               // the rate card's unit: "tokens", "seconds"
	Credits billing.Millicredits // a month of it
}

// Saving is what running an AI line on a cheaper model would save a month.
type Saving struct {
	Line             int    // index of the line in Estimate.Lines
	Model            string // the line's model
	ModelLabel       string
	Alternative      string // the cheaper model
	AlternativeLabel string
	Credits          billing.Millicredits // saved a month
}

// Estimate is the cost of a month of work.
type Estimate struct {
	Lines []PricedLine
	Total billing.Millicredits
	// Cents is Total at the configured price of a credit, rounded half up to the cent.
	Cents            billing.Cents
	CreditPriceCents billing.Cents
	// Recommended is the cheapest plan whose monthly allotment covers Total; Enterprise (custom
	// allotment) when no plan does.
	Recommended billing.Plan
	// Current is the organization's plan and CurrentAllotment its monthly allotment (an
	// Enterprise org's own).
	Current          billing.Plan
	CurrentAllotment billing.Millicredits
	// TopUp is what to buy each month on top of the current plan's allotment (0 when it covers
	// Total), and TopUpCents its price.
	TopUp      billing.Millicredits
	TopUpCents billing.Cents
	// Savings lists, per AI line, every cheaper model and what it would save, most first.
	Savings []Saving
}

// Pricing is what an estimate is computed from: the rates in force, the plans, the
// organization's plan and allotment, and the price of a credit.
type Pricing struct {
	Rates            []billing.Rate // in force now (billing.RateCard.Current)
	Plans            []billing.Plan // in display order, cheapest first
	Current          billing.Plan
	CurrentAllotment billing.Millicredits
	CreditPriceCents billing.Cents
}

// FieldError is a problem with one field of one line, in words a person can act on.
type FieldError struct {
	Line    int    // index of the line; -1 for the request as a whole
	Field   string // "type", "model", "count" or "quantity"; "" for the whole line or request
	Message string
}

// InvalidError lists every problem of an estimate's lines. It unwraps to a billing.Error with
// code EINVALID whose message names each field ("lines[0].count: …"), so the web layer's one
// error mapping answers 400.
type InvalidError struct {
	Fields []FieldError
}

// Error implements error.
func (e *InvalidError) Error() string { return "estimate: " + e.message() }

func (e *InvalidError) message() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		switch {
		case f.Line < 0:
			parts[i] = f.Message
		case f.Field == "":
			parts[i] = fmt.Sprintf("lines[%d]: %s", f.Line, f.Message)
		default:
			parts[i] = fmt.Sprintf("lines[%d].%s: %s", f.Line, f.Field, f.Message)
		}
	}
	return strings.Join(parts, "; ")
}

// Unwrap returns the error as a billing.Error (EINVALID).
func (e *InvalidError) Unwrap() error { return billing.Errorf(billing.EINVALID, "%s", e.message()) }

// For returns the message for a field of a line, or "".
func (e *InvalidError) For(line int, field string) string {
	if e == nil {
		return ""
	}
	for _, f := range e.Fields {
		if f.Line == line && f.Field == field {
			return f.Message
		}
	}
	return ""
}

// AsInvalid returns err's *InvalidError, or nil.
func AsInvalid(err error) *InvalidError {
	var inv *InvalidError
	if errors.As(err, &inv) {
		return inv
	}
	return nil
}

// Compute prices lines with p. Every problem of every line is reported at once as an
// *InvalidError: an unknown type or model, a negative or absurdly large count or quantity, or
// a line whose cost is over MaxLineCredits. No figure is returned for invalid lines.
func Compute(p Pricing, lines []Line) (*Estimate, error) {
	if len(lines) > MaxLines {
		return nil, &InvalidError{Fields: []FieldError{{Line: -1, Message: fmt.Sprintf("an estimate has at most %d lines (got %d): combine similar ones", MaxLines, len(lines))}}}
	}
	rates := map[[2]string]billing.Rate{}
	for _, r := range p.Rates {
		rates[[2]string{r.Type, r.Model}] = r
	}
	est := &Estimate{Lines: make([]PricedLine, len(lines)), CreditPriceCents: p.CreditPriceCents,
		Current: p.Current, CurrentAllotment: p.CurrentAllotment}
	var bad []FieldError
	for i, l := range lines {
		errs := checkLine(p.Rates, l)
		for j := range errs {
			errs[j].Line = i
		}
		if len(errs) > 0 {
			bad = append(bad, errs...)
			continue
		}
		r := rates[[2]string{l.Type, l.Model}]
		credits, ok := lineCost(r, l)
		if !ok {
			bad = append(bad, FieldError{Line: i, Message: fmt.Sprintf("this line would cost over %s credits a month: check the numbers", MaxLineCredits)})
			continue
		}
		est.Lines[i] = PricedLine{Line: l, Label: r.Label, Unit: r.Unit, Credits: credits}
		est.Total += credits // at most MaxLines × MaxLineCredits: far from overflow
	}
	if len(bad) > 0 {
		return nil, &InvalidError{Fields: bad}
	}
	est.Cents = price(est.Total, p.CreditPriceCents)
	est.Recommended = recommend(p.Plans, est.Total)
	est.TopUp = max(0, est.Total-p.CurrentAllotment)
	est.TopUpCents = price(est.TopUp, p.CreditPriceCents)
	est.Savings = savings(p.Rates, est.Lines)
	return est, nil
}

// checkLine returns the problems of one line (with Line unset).
func checkLine(rates []billing.Rate, l Line) []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	var types, models []string
	known := false
	for _, r := range rates {
		if len(types) == 0 || types[len(types)-1] != r.Type {
			types = append(types, r.Type)
		}
		if r.Type == l.Type {
			known = true
			if r.Model != "" {
				models = append(models, r.Model)
			}
		}
	}
	switch {
	case l.Type == "":
		add("type", "choose a type of work: %s", strings.Join(types, ", "))
	case !known:
		add("type", "unknown type %q: choose one of %s", l.Type, strings.Join(types, ", "))
	case len(models) > 0 && l.Model == "":
		add("model", "choose a model: %s", strings.Join(models, ", "))
	case len(models) > 0 && !contains(models, l.Model):
		add("model", "unknown model %q: choose one of %s", l.Model, strings.Join(models, ", "))
	case len(models) == 0 && l.Model != "":
		add("model", "%s takes no model (got %q)", billing.TypeLabel(l.Type), l.Model)
	}
	if msg := checkNumber(l.Count, MaxCount); msg != "" {
		add("count", "%s", msg)
	}
	if msg := checkNumber(l.Quantity, MaxQuantity); msg != "" {
		add("quantity", "%s", msg)
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkNumber returns why n is not a count or quantity of at most limit, or "".
func checkNumber(n, limit int64) string {
	switch {
	case n < 0:
		return "can't be negative"
	case n > limit:
		return fmt.Sprintf("%s is more than the %s an estimate takes: check the number", billing.Thousands(n), billing.Thousands(limit))
	}
	return ""
}

// lineCost is Count × the rate's cost of Quantity units (ceil(Quantity / UnitSize) ×
// PerUnit); ok is false when it exceeds MaxLineCredits. Products are computed in 128 bits, so
// nothing wraps whatever the rate.
func lineCost(r billing.Rate, l Line) (billing.Millicredits, bool) {
	if l.Count == 0 || l.Quantity == 0 {
		return 0, true
	}
	size := max(r.UnitSize, 1)
	units := uint64(l.Quantity/size) + boolToUint(l.Quantity%size != 0)
	each, ok := mulAtMost(units, uint64(max(r.PerUnit, 0)), uint64(MaxLineCredits))
	if !ok {
		return 0, false
	}
	total, ok := mulAtMost(uint64(l.Count), each, uint64(MaxLineCredits))
	return billing.Millicredits(total), ok
}

// mulAtMost returns a × b when it is at most limit.
func mulAtMost(a, b, limit uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0 && lo <= limit
}

func boolToUint(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// price is m credits at centsPerCredit, rounded half up to the cent; 0 for m ≤ 0. m is at
// most MaxLines × MaxLineCredits, so the 128-bit product divides without overflow for any
// price below a billion dollars a credit.
func price(m billing.Millicredits, centsPerCredit billing.Cents) billing.Cents {
	if m <= 0 || centsPerCredit <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(m), uint64(centsPerCredit))
	lo, carry := bits.Add64(lo, 500, 0)
	hi += carry
	if hi >= 1000 {
		return billing.Cents(1<<63 - 1)
	}
	q, _ := bits.Div64(hi, lo, 1000)
	return billing.Cents(min(q, 1<<63-1))
}

// recommend returns the cheapest plan whose allotment covers total: plans are compared by
// allotment (a larger allotment is never cheaper); a plan with a custom allotment (Enterprise)
// when none does.
func recommend(plans []billing.Plan, total billing.Millicredits) billing.Plan {
	var fixed []billing.Plan
	custom := billing.Plan{Code: "enterprise", Name: "Enterprise"}
	for _, p := range plans {
		if p.MonthlyCredits == nil {
			custom = p
			continue
		}
		fixed = append(fixed, p)
	}
	sort.SliceStable(fixed, func(i, j int) bool { return *fixed[i].MonthlyCredits < *fixed[j].MonthlyCredits })
	for _, p := range fixed {
		if *p.MonthlyCredits >= total {
			return p
		}
	}
	return custom
}

// savings lists, per AI line, what each cheaper model of the same unit would save, most
// first; between equal savings, a model of the same family ("claude-…") first, then by name.
func savings(rates []billing.Rate, lines []PricedLine) []Saving {
	var out []Saving
	for i, l := range lines {
		if l.Type != billing.TypeAI || l.Credits == 0 {
			continue
		}
		var own billing.Rate
		for _, r := range rates {
			if r.Type == l.Type && r.Model == l.Model {
				own = r
			}
		}
		var mine []Saving
		for _, r := range rates {
			if r.Type != l.Type || r.Model == l.Model || r.Unit != own.Unit {
				continue
			}
			alt, _ := lineCost(r, l.Line) // cheaper than the line's own cost when it saves
			if alt >= l.Credits {
				continue
			}
			mine = append(mine, Saving{Line: i, Model: l.Model, ModelLabel: own.Label,
				Alternative: r.Model, AlternativeLabel: r.Label, Credits: l.Credits - alt})
		}
		family := func(m string) string { f, _, _ := strings.Cut(m, "-"); return f }
		sort.SliceStable(mine, func(a, b int) bool {
			x, y := mine[a], mine[b]
			if x.Credits != y.Credits {
				return x.Credits > y.Credits
			}
			fx, fy := family(x.Alternative) == family(l.Model), family(y.Alternative) == family(l.Model)
			if fx != fy {
				return fx
			}
			return x.Alternative < y.Alternative
		})
		out = append(out, mine...)
	}
	return out
}

// Best returns the largest saving for line i, if any.
func (e *Estimate) Best(i int) (Saving, bool) {
	for _, s := range e.Savings {
		if s.Line == i {
			return s, true
		}
	}
	return Saving{}, false
}

// String says what the saving is, for people: "Claude Sonnet → Claude Haiku saves 60,000
// credits a month".
func (s Saving) String() string {
	return fmt.Sprintf("%s → %s saves %s credits a month", s.ModelLabel, s.AlternativeLabel, s.Credits)
}
