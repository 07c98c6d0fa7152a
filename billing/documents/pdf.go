package documents

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/luxstudio/lux-billing/billing"
)

// Page geometry (A4, millimetres) and colours.
const (
	pageW    = 210.0
	margin   = 18.0
	contentW = pageW - 2*margin
)

type rgb struct{ r, g, b int }

var (
	ink    = rgb{17, 24, 39}
	muted  = rgb{100, 110, 125}
	rule   = rgb{214, 219, 226}
	band   = rgb{243, 245, 248}
	accent = rgb{37, 70, 160}
	green  = rgb{21, 128, 61}
	red    = rgb{185, 28, 28}
)

// PDF renders d from its stored figures. The output depends only on d: rendering the same
// document again gives the same bytes.
func PDF(d *Document) ([]byte, error) {
	r := newRenderer(d)
	r.header()
	if d.Kind == KindStatement {
		r.statement()
	} else {
		r.invoice()
	}
	var buf bytes.Buffer
	if err := r.pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("documents: render %s: %w", d.Number, err)
	}
	return buf.Bytes(), nil
}

// Filename is the name a downloaded PDF is saved under.
func (d *Document) Filename() string {
	if d.Status == StatusDraft {
		return "lux-statement-draft.pdf"
	}
	return d.Number + ".pdf"
}

type renderer struct {
	pdf *fpdf.Fpdf
	tr  func(string) string
	d   *Document
	loc *time.Location
}

func newRenderer(d *Document) *renderer {
	p := fpdf.New("P", "mm", "A4", "")
	r := &renderer{pdf: p, tr: p.UnicodeTranslatorFromDescriptor(""), d: d, loc: d.Location()}
	at := d.IssuedAt.UTC()
	p.SetCreationDate(at)
	p.SetModificationDate(at)
	p.SetCatalogSort(true)
	p.SetTitle(r.tr(d.heading()+" "+d.Number), false)
	p.SetAuthor(r.tr(d.Body.Seller.Name), false)
	p.SetCreator("Lux Billing", false)
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, 22)
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(r.footer)
	p.AddPage()
	if d.Status == StatusDraft {
		r.watermark()
	}
	return r
}

// heading is the document's title as printed.
func (d *Document) heading() string {
	switch d.Kind {
	case KindCreditNote:
		return "Credit note"
	case KindStatement:
		return "Statement"
	}
	return "Invoice"
}

func (r *renderer) color(c rgb)                     { r.pdf.SetTextColor(c.r, c.g, c.b) }
func (r *renderer) font(style string, size float64) { r.pdf.SetFont("Helvetica", style, size) }

// text writes a cell of width w (0: to the right margin) and height h.
func (r *renderer) text(w, h float64, s, align string) {
	r.pdf.CellFormat(w, h, r.tr(s), "", 0, align, false, 0, "")
}

// fit sets the current style's font size so that s fits in width w — size, or smaller down to
// 7 points for a long value such as a payment reference — and returns s, shortened in its
// middle with "…" if it still does not fit: a value never runs into its label.
func (r *renderer) fit(w float64, s string, size float64) string {
	for ; size > 7 && r.pdf.GetStringWidth(r.tr(s)) > w-1; size -= 0.5 {
		r.pdf.SetFontSize(size - 0.5)
	}
	for rs := []rune(s); len(rs) > 8 && r.pdf.GetStringWidth(r.tr(s)) > w-1; {
		rs = append(rs[:len(rs)/2-1], rs[len(rs)/2+1:]...)
		s = string(rs[:len(rs)/2]) + "…" + string(rs[len(rs)/2:])
	}
	return s
}

func (r *renderer) date(t time.Time) string { return t.In(r.loc).Format("2 January 2006") }

func (r *renderer) watermark() {
	p := r.pdf
	p.SetAlpha(0.08, "Normal")
	r.color(red)
	r.font("B", 120)
	p.TransformBegin()
	p.TransformRotate(35, pageW/2, 160)
	p.Text(pageW/2-p.GetStringWidth("DRAFT")/2, 180, "DRAFT")
	p.TransformEnd()
	p.SetAlpha(1, "Normal")
}

func (r *renderer) header() {
	p, d := r.pdf, r.d
	s := d.Body.Seller
	top := p.GetY()
	// Seller, top left.
	r.color(ink)
	r.font("B", 15)
	p.SetXY(margin, top)
	r.text(100, 7, s.Name, "L")
	r.font("", 8.5)
	r.color(muted)
	y := top + 8
	for _, l := range r.partyLines(s) {
		p.SetXY(margin, y)
		r.text(100, 4.2, l, "L")
		y += 4.2
	}
	// Title and number, top right.
	r.font("B", 22)
	r.color(accent)
	p.SetXY(margin, top)
	r.text(contentW, 9, strings.ToUpper(d.heading()), "R")
	r.font("B", 10.5)
	r.color(ink)
	p.SetXY(margin, top+10)
	r.text(contentW, 5, d.Number, "R")
	if d.Kind == KindStatement {
		r.font("", 8.5)
		r.color(muted)
		p.SetXY(margin, top+15.5)
		r.text(contentW, 4.2, "Consolidated monthly statement of credits", "R")
	}
	y = max(y, top+22) + 3
	r.rule(y)
	if d.Status == StatusDraft {
		y += 4
		p.SetFillColor(254, 242, 242)
		p.SetDrawColor(red.r, red.g, red.b)
		p.Rect(margin, y, contentW, 13, "FD")
		r.color(red)
		r.font("B", 9.5)
		p.SetXY(margin+3, y+1.8)
		r.text(contentW-6, 4.5, "DRAFT – NOT A STATEMENT OF ACCOUNT", "L")
		r.font("", 8.5)
		p.SetXY(margin+3, y+6.5)
		r.text(contentW-6, 4.5, "The running cycle so far, as of "+d.Body.Statement.AsOf.In(r.loc).Format("2 January 2006 15:04 MST")+". The statement is issued when the cycle closes.", "L")
		y += 13
	}
	p.SetY(y + 6)
	r.parties()
}

func (r *renderer) rule(y float64) {
	r.pdf.SetDrawColor(rule.r, rule.g, rule.b)
	r.pdf.SetLineWidth(0.3)
	r.pdf.Line(margin, y, pageW-margin, y)
}

// partyLines are a party's address, country, tax id and email lines.
func (r *renderer) partyLines(pt Party) []string {
	lines := append([]string{}, pt.Address...)
	if pt.Country != "" {
		lines = append(lines, CountryName(pt.Country))
	}
	if pt.TaxID != "" {
		lines = append(lines, "Tax ID: "+pt.TaxID)
	}
	if pt.Email != "" {
		lines = append(lines, pt.Email)
	}
	return lines
}

// parties prints the bill-to block on the left and the document's facts on the right.
func (r *renderer) parties() {
	p, d := r.pdf, r.d
	y0 := p.GetY()
	label := "BILL TO"
	if d.Kind == KindStatement {
		label = "ACCOUNT"
	}
	r.smallCaps(margin, y0, label)
	r.color(ink)
	r.font("B", 10.5)
	p.SetXY(margin, y0+5)
	r.text(85, 5.5, d.Body.BillTo.Name, "L")
	r.font("", 9)
	y := y0 + 11
	for _, l := range r.partyLines(d.Body.BillTo) {
		p.SetXY(margin, y)
		r.text(85, 4.6, l, "L")
		y += 4.6
	}
	// Facts, right column.
	x := margin + 98.0
	fy := y0
	for _, f := range r.facts() {
		r.font("", 8.5)
		r.color(muted)
		p.SetXY(x, fy)
		r.text(34, 5, f[0], "L")
		r.font("B", 9)
		r.color(ink)
		if f[0] == "Status" {
			r.color(statusColor(d.Status))
		}
		// The value may reach left into its label's cell, up to just past the label.
		r.font("", 8.5)
		labelW := min(p.GetStringWidth(r.tr(f[0]))+3, 34)
		r.font("B", 9)
		w := contentW - 98 - labelW
		p.SetXY(x+labelW, fy)
		r.text(w, 5, r.fit(w, f[1], 9), "R")
		fy += 5.4
	}
	p.SetY(max(y, fy) + 8)
}

func statusColor(status string) rgb {
	switch status {
	case StatusPaid:
		return green
	case StatusDraft, StatusRefunded:
		return red
	}
	return ink
}

func (r *renderer) smallCaps(x, y float64, s string) {
	r.font("B", 7.5)
	r.color(muted)
	r.pdf.SetXY(x, y)
	r.text(80, 4, s, "L")
}

func (r *renderer) facts() [][2]string {
	d := r.d
	number := d.heading() + " number"
	out := [][2]string{{number, d.Number}, {"Issue date", r.date(d.IssuedAt)}}
	if d.Status == StatusDraft {
		out = [][2]string{{"Statement", "Draft (not numbered)"}, {"Figures as of", r.date(d.IssuedAt)}}
	}
	if d.PeriodStart != nil && d.PeriodEnd != nil {
		out = append(out, [2]string{"Period", periodLabel(*d.PeriodStart, *d.PeriodEnd, r.loc)})
	}
	if d.Body.CorrectsNumber != "" {
		out = append(out, [2]string{"Corrects invoice", d.Body.CorrectsNumber})
		if d.Body.CorrectsDate != nil {
			out = append(out, [2]string{"Invoice date", r.date(*d.Body.CorrectsDate)})
		}
	}
	if d.Kind != KindStatement {
		out = append(out, [2]string{"Currency", strings.ToUpper(d.Currency)})
	}
	out = append(out, [2]string{"Status", statusLabel(d)})
	if d.PaymentMethod != "" {
		out = append(out, [2]string{"Payment method", d.PaymentMethod})
	}
	if d.Body.PaymentRef != "" {
		out = append(out, [2]string{"Reference", d.Body.PaymentRef})
	}
	return out
}

// statusLabel is a document's status as printed.
func statusLabel(d *Document) string {
	switch d.Status {
	case StatusPaid:
		if d.Body.PaidAt != nil {
			return "Paid " + d.Body.PaidAt.In(d.Location()).Format("2 Jan 2006")
		}
		return "Paid"
	case StatusRefunded:
		return "Refunded"
	case StatusDraft:
		return "DRAFT"
	}
	return "Issued"
}

// invoice prints an invoice's or credit note's lines and totals.
func (r *renderer) invoice() {
	p, d := r.pdf, r.d
	cols := []float64{88, 24, 30, contentW - 88 - 24 - 30}
	r.tableHeader(cols, []string{"Description", "Quantity", "Unit price", "Amount"}, []string{"L", "R", "R", "R"})
	for _, l := range d.Body.Lines {
		y := p.GetY() + 1.5
		r.font("", 9.5)
		r.color(ink)
		p.SetXY(margin, y)
		r.text(cols[0], 5.5, l.Description, "L")
		qty := billing.Thousands(l.Quantity)
		if l.Unit != "" {
			qty += " " + l.Unit
		}
		r.text(cols[1], 5.5, qty, "R")
		r.text(cols[2], 5.5, money(l.UnitCents, d.Currency), "R")
		r.text(cols[3], 5.5, money(l.AmountCents, d.Currency), "R")
		y += 5.5
		if l.Detail != "" {
			r.font("", 8)
			r.color(muted)
			for _, dl := range r.wrap(l.Detail, cols[0]-2) {
				p.SetXY(margin, y)
				r.text(cols[0], 4, dl, "L")
				y += 4
			}
		}
		r.rule(y + 2)
		p.SetY(y + 2)
	}
	// Totals, right-aligned.
	y := p.GetY() + 4
	x := margin + contentW - 80
	total := "Total"
	if d.Kind == KindCreditNote {
		total = "Total credited"
	}
	rows := [][2]string{
		{"Subtotal", money(int64(d.Subtotal), d.Currency)},
		{taxLabel(d), money(int64(d.Tax), d.Currency)},
	}
	y = r.totalRows(x, y, rows)
	p.SetDrawColor(ink.r, ink.g, ink.b)
	p.SetLineWidth(0.4)
	p.Line(x, y+1, pageW-margin, y+1)
	y += 2.5
	r.font("B", 11.5)
	r.color(ink)
	p.SetXY(x, y)
	r.text(40, 7.5, total+" ("+strings.ToUpper(d.Currency)+")", "L")
	r.text(40, 7.5, money(int64(d.Total), d.Currency), "R")
	y += 8
	var after [][2]string
	switch d.Kind {
	case KindInvoice:
		after = [][2]string{{"Amount paid", money(int64(d.Total), d.Currency)}, {"Amount due", money(0, d.Currency)}}
	case KindCreditNote:
		after = [][2]string{{"Refunded to", d.PaymentMethod}}
	}
	r.notes(r.totalRows(x, y, after) + 10)
}

// totalRows prints label and value rows of the totals block from (x, y), skipping rows without
// a value, and returns the y below them.
func (r *renderer) totalRows(x, y float64, rows [][2]string) float64 {
	for _, row := range rows {
		if row[1] == "" {
			continue
		}
		r.font("", 9.5)
		r.color(muted)
		r.pdf.SetXY(x, y)
		r.text(40, 6, row[0], "L")
		r.color(ink)
		r.text(40, 6, row[1], "R")
		y += 6
	}
	return y
}

// notes prints the closing notes of an invoice or credit note.
func (r *renderer) notes(y float64) {
	p, d := r.pdf, r.d
	var lines []string
	switch d.Kind {
	case KindInvoice:
		lines = append(lines, "This invoice has been paid in full; no payment is due. Prices include tax where it applies.")
	case KindCreditNote:
		lines = append(lines, fmt.Sprintf("This credit note corrects invoice %s. The amount above has been returned to the original payment method.", d.Body.CorrectsNumber))
		if d.Body.Reason != "" {
			lines = append(lines, "Reason: "+d.Body.Reason)
		}
	}
	if d.Body.Seller.Email != "" {
		lines = append(lines, "Questions about this document? Write to "+d.Body.Seller.Email+" and quote "+d.Number+".")
	}
	r.smallCaps(margin, y, "NOTES")
	y += 5
	r.font("", 8.5)
	r.color(muted)
	for _, l := range lines {
		for _, sl := range r.wrap(l, contentW) {
			p.SetXY(margin, y)
			r.text(contentW, 4.3, sl, "L")
			y += 4.3
		}
	}
}

func (r *renderer) tableHeader(cols []float64, titles, aligns []string) {
	p := r.pdf
	p.SetFillColor(band.r, band.g, band.b)
	r.font("B", 8)
	r.color(muted)
	p.SetX(margin)
	for i, t := range titles {
		p.CellFormat(cols[i], 7, r.tr(strings.ToUpper(t)), "", 0, aligns[i], true, 0, "")
	}
	p.Ln(7)
}

func (r *renderer) footer() {
	p, d := r.pdf, r.d
	p.SetY(-14)
	r.rule(p.GetY() - 1)
	r.font("", 7.5)
	r.color(muted)
	left := d.Body.Seller.Name
	if d.Body.Seller.TaxID != "" {
		left += " · Tax ID " + d.Body.Seller.TaxID
	}
	r.text(contentW/2, 5, left, "L")
	r.text(contentW/2, 5, fmt.Sprintf("%s · Page %d of {nb}", d.Number, p.PageNo()), "R")
}
