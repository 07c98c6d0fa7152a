package documents

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// Types a history can be filtered by: a kind of document, or what an invoice is for.
const (
	TypeAll        = ""
	TypeInvoice    = "invoice"     // every invoice
	TypePurchase   = "purchase"    // invoices for bought credits
	TypePlanCharge = "plan_charge" // invoices for plan charges
	TypeCreditNote = "credit_note" // credit notes (refunds)
	TypeStatement  = "statement"   // monthly statements
)

// Types lists the filter types with their labels, in menu order.
var Types = [][2]string{
	{TypeAll, "All documents"},
	{TypeInvoice, "Invoices"},
	{TypePurchase, "Purchases"},
	{TypePlanCharge, "Plan charges"},
	{TypeCreditNote, "Credit notes (refunds)"},
	{TypeStatement, "Statements"},
}

// DefaultPageSize and MaxPageSize bound a history page.
const (
	DefaultPageSize = 25
	MaxPageSize     = 100
)

// Filter selects documents of a history. From and To bound the issue instant, [From, To);
// zero means unbounded. FromDay and ToDay ("2026-03-31", both included, in the org's time
// zone) bound it by days instead, as people and finance tools ask. Cursor is a Page.Next from
// the previous page.
type Filter struct {
	Type    string
	From    time.Time
	To      time.Time
	FromDay string
	ToDay   string
	Cursor  string
	Limit   int
}

// Page is one page of a history, newest first. Next is the cursor of the following page, ""
// on the last.
type Page struct {
	Documents []*Document
	Next      string
}

// typeColumns maps a filter type to the kind and source it selects.
func typeColumns(t string) (kind, source string, err error) {
	switch t {
	case TypeAll:
		return "", "", nil
	case TypeInvoice, TypeCreditNote, TypeStatement:
		return t, "", nil
	case TypePurchase, TypePlanCharge:
		return KindInvoice, t, nil
	}
	return "", "", billing.Errorf(billing.EINVALID, "type %q is not one of invoice, purchase, plan_charge, credit_note or statement", t)
}

// encodeCursor and decodeCursor keep a position in the history: the last row's issue instant
// and id.
func encodeCursor(d *Document) string {
	raw := strconv.FormatInt(d.IssuedAt.UnixMicro(), 10) + "." + strconv.FormatInt(d.ID, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeCursor(c string) (*time.Time, int64, error) {
	bad := billing.Errorf(billing.EINVALID, "cursor %q is not one this server gave; start again from the first page", c)
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, 0, bad
	}
	ts, id, ok := strings.Cut(string(raw), ".")
	micros, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return nil, 0, bad
	}
	t := time.UnixMicro(micros).UTC()
	return &t, n, nil
}

// farPast and farFuture stand for unbounded ends of a range.
var (
	farPast   = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
)

// List returns a page of org's documents matching f, newest first. Invoices carry the total of
// their credit notes in Refunded. A bad type or cursor is EINVALID.
func (s *Service) List(ctx context.Context, orgID string, f Filter) (*Page, error) {
	kind, source, err := typeColumns(f.Type)
	if err != nil {
		return nil, err
	}
	if f.Limit <= 0 {
		f.Limit = DefaultPageSize
	}
	f.Limit = min(f.Limit, MaxPageSize)
	if f.FromDay != "" || f.ToDay != "" {
		if err := s.resolveDays(ctx, orgID, &f); err != nil {
			return nil, err
		}
	}
	from, to := farPast, farFuture
	if !f.From.IsZero() {
		from = f.From
	}
	if !f.To.IsZero() {
		to = f.To
	}
	var curAt *time.Time
	var curID int64
	if f.Cursor != "" {
		if curAt, curID, err = decodeCursor(f.Cursor); err != nil {
			return nil, err
		}
	}
	var docs []*Document
	if err := s.db.SelectContext(ctx, &docs, q.listDocuments, orgID, kind, source, from, to, curAt, curID, f.Limit+1); err != nil {
		return nil, fmt.Errorf("documents: list: %w", err)
	}
	page := &Page{Documents: docs}
	if len(docs) > f.Limit {
		page.Documents = docs[:f.Limit]
		page.Next = encodeCursor(page.Documents[f.Limit-1])
	}
	for _, d := range page.Documents {
		if err := d.decode(); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// resolveDays turns f's days into instants in the org's time zone: From at the start of
// FromDay, To at the start of the day after ToDay.
func (s *Service) resolveDays(ctx context.Context, orgID string, f *Filter) error {
	org, err := s.org(ctx, s.db, orgID)
	if err != nil {
		return err
	}
	loc := location(org.Timezone)
	parse := func(name, v string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", v, loc)
		if err != nil || t.Year() < 2000 || t.Year() > 2999 {
			return time.Time{}, billing.Errorf(billing.EINVALID, "%s %q is not a date between the years 2000 and 2999 written as YYYY-MM-DD, such as 2026-03-31", name, v)
		}
		return t, nil
	}
	if f.FromDay != "" {
		t, err := parse("from", f.FromDay)
		if err != nil {
			return err
		}
		f.From = t
	}
	if f.ToDay != "" {
		t, err := parse("to", f.ToDay)
		if err != nil {
			return err
		}
		f.To = t.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return billing.Errorf(billing.EINVALID, "the end date %s is before the start date %s: swap them", f.ToDay, f.FromDay)
	}
	return nil
}
