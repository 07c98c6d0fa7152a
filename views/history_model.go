package views

import (
	"net/url"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// History is the billing history page: the org's documents, filters, and its billing details.
type History struct {
	Shell
	Now       time.Time
	Loc       *time.Location
	Filters   HistoryFilters
	Documents []*documents.Document
	Next      string // cursor of the next (older) page; "" on the last
	First     bool   // this is the first page (no cursor)
	Error     string // why the filters could not be used
	CycleEnd  time.Time
	Profile   ProfileForm
	// Refundable holds, for admins, the refund quote of each purchase still refundable (unused
	// credits, within 30 days of payment), by purchase id: its invoice offers a Refund action.
	Refundable map[string]payments.RefundQuote
	// Refund is the refund an admin is asked to confirm; nil when none.
	Refund *HistoryRefund
	// Notice says what was just done (a refund), above the list.
	Notice string
}

// HistoryRefund is the confirmation of a refund of a purchase's unused credits on the History
// page.
type HistoryRefund struct {
	Purchase *payments.Purchase
	Quote    payments.RefundQuote
	Invoice  string // the number of the purchase's invoice; "" when it has none yet
	CSRF     string
	Error    string // why the refund was refused
}

// HistoryFilters are the history's filters as the form holds them (dates YYYY-MM-DD).
type HistoryFilters struct {
	Type string
	From string
	To   string
}

// Any reports whether a filter is set.
func (f HistoryFilters) Any() bool { return f.Type != "" || f.From != "" || f.To != "" }

// query is the filters as a query string, with cursor when given.
func (f HistoryFilters) query(cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"type": f.Type, "from": f.From, "to": f.To, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

// ProfileForm is the org's billing details: a form for admins, read-only for members.
type ProfileForm struct {
	documents.Profile
	CSRF    string
	Errors  map[string]string // by field: name, address, country, taxId, email
	Saved   bool              // just saved
	Editing bool              // show the form (admins)
}

// historyURL is the page with f and cursor.
func historyURL(f HistoryFilters, cursor string) string {
	if q := f.query(cursor); q != "" {
		return PathHistory + "?" + q
	}
	return PathHistory
}

// DocumentPDFPath is where a document of the signed-in org downloads.
func DocumentPDFPath(number string) string {
	return PathHistory + "/" + url.PathEscape(number) + ".pdf"
}

// docKind is a document's kind for people.
func docKind(d *documents.Document) string {
	switch {
	case d.Kind == documents.KindCreditNote:
		return "Credit note"
	case d.Kind == documents.KindStatement:
		return "Statement"
	case d.Source == documents.SourcePlanCharge:
		return "Invoice · plan"
	}
	return "Invoice · purchase"
}

func docIcon(d *documents.Document) string {
	switch d.Kind {
	case documents.KindCreditNote:
		return "undo"
	case documents.KindStatement:
		return "chart"
	}
	return "receipt"
}

// docStatus is a document's status label and badge class. An invoice with credit notes shows
// what was refunded.
func docStatus(d *documents.Document) (string, string) {
	switch d.Status {
	case documents.StatusPaid:
		if d.Refunded > 0 && d.Refunded >= d.Total {
			return "Refunded", "badge-warning"
		} else if d.Refunded > 0 {
			return "Partly refunded", "badge-warning"
		}
		return "Paid", "badge-success"
	case documents.StatusRefunded:
		return "Refunded", "badge-accent"
	}
	return "Issued", ""
}

// docAmount is what a row shows as its amount: money for invoices and credit notes (negative
// for a credit note), credits used for a statement.
func docAmount(d *documents.Document) string {
	switch d.Kind {
	case documents.KindStatement:
		return FormatCredits(d.Credits)
	case documents.KindCreditNote:
		return "−" + documents.Money(d.Total, d.Currency)
	}
	return documents.Money(d.Total, d.Currency)
}

// docAmountUnit says what the amount is: a currency, or credits used.
func docAmountUnit(d *documents.Document) string {
	if d.Kind == documents.KindStatement {
		return "credits used"
	}
	return strings.ToUpper(d.Currency) + " · " + docKind(d)
}

// docDetail is the secondary line of a row.
func docDetail(d *documents.Document) string {
	var parts []string
	if d.Kind == documents.KindInvoice && d.Refunded > 0 {
		parts = append(parts, documents.Money(d.Refunded, d.Currency)+" refunded")
	}
	if d.Body.CorrectsNumber != "" {
		parts = append(parts, "corrects "+d.Body.CorrectsNumber)
	}
	if d.PaymentMethod != "" {
		parts = append(parts, d.PaymentMethod)
	}
	return strings.Join(parts, " · ")
}

// docPeriod is a statement's or plan charge's period, "" otherwise.
func docPeriod(d *documents.Document, loc *time.Location) string {
	if d.PeriodStart == nil || d.PeriodEnd == nil {
		return ""
	}
	a, b := d.PeriodStart.In(loc), d.PeriodEnd.In(loc)
	if a.Year() == b.Year() {
		return a.Format("2 Jan") + " – " + b.Format("2 Jan 2006")
	}
	return a.Format("2 Jan 2006") + " – " + b.Format("2 Jan 2006")
}

// countryOptions are the countries for the billing details form.
func countryOptions() [][2]string { return documents.Countries() }

// orDash is s, or an em dash for nothing.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// refundOffer is the quote of d's purchase when d is the invoice of a purchase the viewer may
// refund now.
func refundOffer(d *documents.Document, v History) (payments.RefundQuote, bool) {
	if d.Kind != documents.KindInvoice || d.Source != documents.SourcePurchase {
		return payments.RefundQuote{}, false
	}
	q, ok := v.Refundable[d.SourceRef]
	return q, ok && q.Eligible
}
