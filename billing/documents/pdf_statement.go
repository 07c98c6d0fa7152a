package documents

import (
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
)

// statement prints a statement's summary and its three breakdowns of the credits used.
func (r *renderer) statement() {
	p, st := r.pdf, r.d.Body.Statement
	if st == nil {
		return
	}
	cols := []float64{contentW - 45, 45}
	r.section("Summary of credits")
	r.tableHeader(cols, []string{"", "Credits"}, []string{"L", "R"})
	rows := []struct {
		label string
		value billing.Millicredits
		sign  string
		bold  bool
	}{
		{"Opening balance", st.Opening, "", true},
		{"Plan allotment granted", st.AllotmentGranted, "+", false},
		{"Credits purchased", st.Purchased, "+", false},
		{"Other credits (promotions, free credits)", st.OtherGrants, "+", false},
		{"Adjustments", st.Adjusted, "±", false},
		{"Refunded", st.Refunded, "–", false},
		{"Plan allotment expired (unused)", st.AllotmentExpired, "–", false},
		{"Other credits expired", st.Expired - st.AllotmentExpired, "–", false},
		{"Credits used", st.Used, "–", false},
		{"Closing balance", st.Closing, "", true},
	}
	for i, row := range rows {
		if i == len(rows)-1 {
			p.SetDrawColor(ink.r, ink.g, ink.b)
			p.SetLineWidth(0.4)
			p.Line(margin, p.GetY(), margin+contentW, p.GetY())
		}
		style := ""
		if row.bold {
			style = "B"
		}
		r.font(style, 9.5)
		r.color(ink)
		p.SetX(margin)
		label := row.label
		if row.sign != "" {
			label = row.sign + "  " + label
		}
		r.text(cols[0], 6.2, label, "L")
		r.text(cols[1], 6.2, row.value.String(), "R")
		p.Ln(6.2)
	}
	r.font("", 8)
	r.color(muted)
	p.SetX(margin)
	d := r.d
	note := "Opening balance + credits in – credits out = closing balance. "
	if d.PeriodStart != nil && d.PeriodEnd != nil {
		layout := "2 January 2006 15:04 MST"
		note = fmt.Sprintf("The cycle runs from %s to %s; usage counts when it was received. ", d.PeriodStart.In(r.loc).Format(layout), d.PeriodEnd.In(r.loc).Format(layout)) + note
	}
	if st.Arrears > 0 {
		note += fmt.Sprintf("Arrears at the cycle's end: %s credits of usage no credits had paid for yet; they are settled first from the next credits.", st.Arrears)
	} else {
		note += "No arrears at the cycle's end."
	}
	for _, l := range r.wrap(note, contentW) {
		p.SetX(margin)
		r.text(contentW, 4.2, l, "L")
		p.Ln(4.2)
	}
	p.Ln(3)
	r.breakdown("Credits used by member", "Member", st.ByMember, st.Used)
	r.breakdown("Credits used by flow", "Flow", st.ByFlow, st.Used)
	r.breakdown("Credits used by integration type", "Type", st.ByType, st.Used)
}

func (r *renderer) section(title string) {
	p := r.pdf
	r.font("B", 11)
	r.color(ink)
	p.SetX(margin)
	r.text(contentW, 7, title, "L")
	p.Ln(8)
}

// breakdown prints one table of shares with a total row equal to used.
func (r *renderer) breakdown(title, what string, shares []Share, used billing.Millicredits) {
	p := r.pdf
	if p.GetY() > 250 {
		p.AddPage()
	}
	r.section(title)
	cols := []float64{contentW - 70, 40, 30}
	r.tableHeader(cols, []string{what, "Credits", "Share"}, []string{"L", "R", "R"})
	if len(shares) == 0 {
		r.font("", 9)
		r.color(muted)
		p.SetX(margin)
		r.text(contentW, 6, "No usage in this period.", "L")
		p.Ln(9)
		return
	}
	for _, s := range shares {
		r.font("", 9.5)
		r.color(ink)
		if s.Key == "" {
			r.color(muted)
		}
		p.SetX(margin)
		r.text(cols[0], 6, s.Label, "L")
		r.text(cols[1], 6, s.Credits.String(), "R")
		r.text(cols[2], 6, percent(s.Credits, used), "R")
		p.Ln(6)
	}
	p.SetDrawColor(rule.r, rule.g, rule.b)
	p.Line(margin, p.GetY(), margin+contentW, p.GetY())
	r.font("B", 9.5)
	r.color(ink)
	p.SetX(margin)
	r.text(cols[0], 6.5, "Total", "L")
	r.text(cols[1], 6.5, used.String(), "R")
	r.text(cols[2], 6.5, "100%", "R")
	p.Ln(11)
}

// percent is part of whole to one decimal, rounded half up ("12.5%").
func percent(part, whole billing.Millicredits) string {
	if whole <= 0 {
		return "–"
	}
	tenths := (int64(part)*2000 + int64(whole)) / (2 * int64(whole))
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}
