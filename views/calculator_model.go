package views

import (
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/estimate"
)

// Calculator is the cost calculator page: the lines of work as typed, and the estimate when
// every line is valid.
type Calculator struct {
	Shell
	Lines  []CalcLine
	Models []billing.Rate // the AI models on the rate card now
	// Estimate is nil when a line is invalid or there are no lines: no total is shown then.
	Estimate *estimate.Estimate
	Error    string // a problem of the whole form (too many lines)
	Notice   string // e.g. no usage in the last 30 days
	CanAdd   bool   // fewer lines than estimate.MaxLines
}

// CalcLine is one line of the calculator's form, as typed, with its messages.
type CalcLine struct {
	Index int
	Type  string
	Model string
	// Count and Quantity are the fields as typed. Quantity is in the form's unit: minutes per
	// call for voice calls, the usage unit otherwise; it is fixed at 1 for email and SMS.
	Count, Quantity string
	// Messages next to the fields; "" when the field is fine.
	TypeError, ModelError, CountError, QuantityError string
	Credits                                          *billing.Millicredits // nil when not priced
	Tip                                              string                // the best cheaper model, for AI lines
}

// CalcKind describes a type of work on the calculator's form.
type CalcKind struct {
	Type          string
	Label         string // "AI model"
	CountLabel    string // "Calls a month"
	QuantityLabel string // "Tokens per call"; "" when the quantity is fixed at 1
	Default       [2]string
}

// CalcKinds lists what the calculator can add, in order.
var CalcKinds = []CalcKind{
	{billing.TypeAI, "AI model", "Calls a month", "Tokens per call", [2]string{"1,000", "1,000"}},
	{billing.TypeEmail, "Email", "Emails a month", "", [2]string{"1,000", "1"}},
	{billing.TypeSMS, "SMS", "Messages a month", "", [2]string{"100", "1"}},
	{billing.TypeVoiceCall, "Voice calls", "Calls a month", "Minutes per call", [2]string{"100", "2"}},
	{billing.TypeVoiceSynthesis, "Voice synthesis", "Times a month", "Characters each", [2]string{"100", "1,000"}},
}

// CalcKindOf returns the kind of a type; an unknown type gets a generic description.
func CalcKindOf(typ string) CalcKind {
	for _, k := range CalcKinds {
		if k.Type == typ {
			return k
		}
	}
	return CalcKind{Type: typ, Label: typ, CountLabel: "Times a month", QuantityLabel: "Units each"}
}
