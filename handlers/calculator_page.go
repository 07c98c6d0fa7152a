package handlers

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	calc "github.com/luxstudio/lux-billing/billing/estimate"
	"github.com/luxstudio/lux-billing/views"
)

// exampleMonth is what the calculator shows on a first visit: the month of the seed's worked
// example (10,000 Sonnet calls of 1,500 tokens, 2,000 emails, 500 SMS, 120 one-minute calls).
var exampleMonth = []views.CalcLine{
	{Type: billing.TypeAI, Model: "claude-sonnet", Count: "10,000", Quantity: "1,500"},
	{Type: billing.TypeEmail, Count: "2,000", Quantity: "1"},
	{Type: billing.TypeSMS, Count: "500", Quantity: "1"},
	{Type: billing.TypeVoiceCall, Count: "120", Quantity: "1"},
}

// Calculator is the cost calculator (GET /settings/billing/calculator), for every member. The
// form's fields (type, model, count, quantity, repeated per line) come in the query; "add",
// "remove" and "start=usage" change the lines first. An htmx request aimed at the results gets
// only the results (and each line's figures out of band); one aimed at the calculator gets
// the calculator; anything else gets the page.
func (h *Pages) Calculator(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	q := c.QueryParams()
	v := views.Calculator{Shell: h.Shell(c, views.NavCalculator, "Calculator"), Models: aiRates(h.Estimate.Rates())}
	v.Lines = calcLines(q)
	if len(q) == 0 {
		v.Lines = append([]views.CalcLine(nil), exampleMonth...)
	}
	if k := q.Get("add"); k != "" && len(v.Lines) < calc.MaxLines {
		v.Lines = append(v.Lines, newCalcLine(k, v.Models))
	}
	if i, err := strconv.Atoi(q.Get("remove")); err == nil && i >= 0 && i < len(v.Lines) {
		v.Lines = append(v.Lines[:i], v.Lines[i+1:]...)
	}
	if q.Get("start") == "usage" {
		lines, err := h.Estimate.FromUsage(ctx, org)
		if err != nil {
			return err
		}
		if len(lines) == 0 {
			v.Notice = "No usage in the last 30 days yet, so the lines are as they were."
		} else {
			v.Lines = fromLines(lines)
			v.Notice = "These lines repeat what your flows used in the last 30 days."
		}
	}
	for i := range v.Lines {
		v.Lines[i].Index = i
	}
	v.CanAdd = len(v.Lines) < calc.MaxLines
	// The address shows the lines, never the action: reloading it must not add or remove again.
	here := views.PathCalculator + "?" + calcQuery(v.Lines).Encode()
	if !IsHTMX(c) && (q.Has("add") || q.Has("remove")) {
		return c.Redirect(http.StatusSeeOther, here)
	}
	if err := h.priceLines(c, &v); err != nil {
		return err
	}
	if IsHTMX(c) {
		c.Response().Header().Set("HX-Replace-Url", here)
	}
	switch c.Request().Header.Get("HX-Target") {
	case "calc-results":
		if IsHTMX(c) {
			return Render(c, http.StatusOK, views.CalcResults(v, true))
		}
	case "calculator":
		if IsHTMX(c) {
			return Render(c, http.StatusOK, views.CalculatorView(v))
		}
	}
	return Render(c, http.StatusOK, views.CalculatorPage(v))
}

// priceLines reads the typed numbers and, when every line is valid, estimates the month and
// puts each line's credits and tip in place; otherwise each problem goes next to its field.
func (h *Pages) priceLines(c echo.Context, v *views.Calculator) error {
	lines := make([]calc.Line, len(v.Lines))
	bad := false
	for i := range v.Lines {
		l := &v.Lines[i]
		var err error
		var count, qty int64
		if count, err = calc.ParseNumber(l.Count, calc.MaxCount); err != nil {
			l.CountError, bad = billing.ErrorMessage(err), true
		}
		limit := int64(calc.MaxQuantity)
		if l.Type == billing.TypeVoiceCall {
			limit /= 60 // minutes per call on the form
		}
		if qty, err = calc.ParseNumber(l.Quantity, limit); err != nil {
			l.QuantityError, bad = billing.ErrorMessage(err), true
		}
		if l.Type == billing.TypeVoiceCall {
			qty *= 60
		}
		lines[i] = calc.Line{Type: l.Type, Model: l.Model, Count: count, Quantity: qty}
	}
	if len(lines) == 0 {
		return nil
	}
	est, err := h.Estimate.Estimate(c.Request().Context(), viewer(c).Membership.OrgID, lines)
	if inv := calc.AsInvalid(err); inv != nil {
		for _, f := range inv.Fields {
			if f.Line < 0 {
				v.Error = views.Sentence(f.Message)
				continue
			}
			l := &v.Lines[f.Line]
			field := map[string]*string{"type": &l.TypeError, "model": &l.ModelError, "count": &l.CountError, "quantity": &l.QuantityError}[f.Field]
			if field == nil {
				field = &l.CountError
			}
			if *field == "" { // the form's own reading of the number says it better
				*field = f.Message
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	if bad {
		return nil
	}
	v.Estimate = est
	for i := range v.Lines {
		credits := est.Lines[i].Credits
		v.Lines[i].Credits = &credits
		if s, ok := est.Best(i); ok {
			v.Lines[i].Tip = s.String()
		}
	}
	return nil
}

// calcLines reads the form's lines: the i-th type, model, count and quantity make line i.
func calcLines(q url.Values) []views.CalcLine {
	types, models, counts, qtys := q["type"], q["model"], q["count"], q["quantity"]
	at := func(s []string, i int) string {
		if i < len(s) {
			return s[i]
		}
		return ""
	}
	n := min(len(types), calc.MaxLines+1) // one over, so that the domain says so
	out := make([]views.CalcLine, n)
	for i := range out {
		out[i] = views.CalcLine{Type: types[i], Model: at(models, i), Count: at(counts, i), Quantity: at(qtys, i)}
		if views.CalcKindOf(types[i]).QuantityLabel == "" && out[i].Quantity == "" {
			out[i].Quantity = "1"
		}
	}
	return out
}

// calcQuery is the form's query for lines, as calcLines reads it.
func calcQuery(lines []views.CalcLine) url.Values {
	q := url.Values{}
	if len(lines) == 0 {
		q.Set("lines", "none") // not a first visit: no example month
	}
	for _, l := range lines {
		q.Add("type", l.Type)
		q.Add("model", l.Model)
		q.Add("count", l.Count)
		q.Add("quantity", l.Quantity)
	}
	return q
}

// newCalcLine is a line of kind typ with the kind's example figures.
func newCalcLine(typ string, models []billing.Rate) views.CalcLine {
	k := views.CalcKindOf(typ)
	l := views.CalcLine{Type: typ, Count: k.Default[0], Quantity: k.Default[1]}
	if typ == billing.TypeAI && len(models) > 0 {
		l.Model = models[0].Model
		for _, m := range models {
			if m.Model == "claude-sonnet" {
				l.Model = m.Model
			}
		}
	}
	return l
}

// fromLines shows estimate lines on the form (voice calls in minutes, rounded up).
func fromLines(lines []calc.Line) []views.CalcLine {
	out := make([]views.CalcLine, len(lines))
	for i, l := range lines {
		qty := l.Quantity
		if l.Type == billing.TypeVoiceCall {
			qty = (qty + 59) / 60
		}
		out[i] = views.CalcLine{Type: l.Type, Model: l.Model, Count: billing.Thousands(l.Count), Quantity: billing.Thousands(qty)}
	}
	return out
}

// aiRates keeps the AI models of the rate card.
func aiRates(rates []billing.Rate) []billing.Rate {
	var out []billing.Rate
	for _, r := range rates {
		if r.Type == billing.TypeAI {
			out = append(out, r)
		}
	}
	return out
}
