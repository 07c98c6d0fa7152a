package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/payments"
	"github.com/luxstudio/lux-billing/views"
)

// historyFilter reads the history filters shared by the page and the API: type, from, to
// (days, YYYY-MM-DD), cursor and limit.
func historyFilter(c echo.Context) (documents.Filter, views.HistoryFilters, error) {
	v := views.HistoryFilters{Type: c.QueryParam("type"), From: c.QueryParam("from"), To: c.QueryParam("to")}
	f := documents.Filter{Type: v.Type, FromDay: v.From, ToDay: v.To, Cursor: c.QueryParam("cursor")}
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > documents.MaxPageSize {
			return f, v, billing.Errorf(billing.EINVALID, "limit %q must be a whole number from 1 to %d", s, documents.MaxPageSize)
		}
		f.Limit = n
	}
	return f, v, nil
}

// History is the billing history page (GET /settings/billing/history): every member of the org
// may see it. An htmx request from the filters or page links gets the list only. Filters that
// cannot be used are shown inline with what to fix (400).
func (h *Pages) History(c echo.Context) error {
	v, err := h.historyView(c)
	if v == nil {
		return err
	}
	show := func(c echo.Context, status int, msg string) error {
		v.Error = msg
		return h.renderHistory(c, status, v)
	}
	if err != nil {
		return inline(err, show)
	}
	return show(c, http.StatusOK, "")
}

// renderHistory answers with v: the list only for htmx requests that swap it, else the page
// with the org's billing details.
func (h *Pages) renderHistory(c echo.Context, status int, v *views.History) error {
	if IsHTMX(c) && c.Request().Header.Get("HX-Target") == "history-view" {
		return Render(c, status, views.HistoryView(*v))
	}
	p, err := h.Documents.FindProfile(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	v.Profile = views.ProfileForm{Profile: *p, CSRF: CSRFToken(c), Editing: viewer(c).Membership.IsAdmin()}
	return Render(c, status, views.HistoryPage(*v))
}

// HistoryRefundConfirm asks an admin to confirm the refund of a purchase's unused credits,
// above the history (GET /settings/billing/history/refund/{purchase}). Another org's purchase
// is "not found"; one that cannot be refunded says why.
func (h *Pages) HistoryRefundConfirm(c echo.Context) error {
	return h.showHistoryRefund(c, http.StatusOK, "")
}

func (h *Pages) showHistoryRefund(c echo.Context, status int, msg string) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	p, q, err := h.Payments.QuoteRefund(ctx, org, id)
	if err != nil {
		return err
	}
	v, err := h.historyView(c)
	if err != nil {
		return err
	}
	r := &views.HistoryRefund{Purchase: p, Quote: q, CSRF: CSRFToken(c), Error: msg}
	if inv, err := h.Documents.FindBySource(ctx, org, documents.SourcePurchase, p.ID); err == nil {
		r.Invoice = inv.Number
	} else if billing.ErrorCode(err) != billing.ENOTFOUND {
		return err
	}
	v.Refund = r
	return h.renderHistory(c, status, v)
}

// HistoryRefund refunds a purchase's unused credits for an admin, from the History page (POST
// /settings/billing/history/refund/{purchase}): the list comes back with the credit note at
// its top and a message saying what was refunded. A refusal (used meanwhile, past 30 days,
// refunded already) is shown in the confirmation; another org's purchase is "not found".
func (h *Pages) HistoryRefund(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Payments.Refund(ctx, v.Membership.OrgID, id, v.User.ID)
	if err != nil {
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return err
		}
		return inline(err, h.showHistoryRefund)
	}
	msg := "Refunded " + views.FormatCredits(r.Credits) + " unused credits: " + r.Amount.String() + " goes back to the card that paid."
	if cn, err := h.Documents.FindCreditNote(ctx, v.Membership.OrgID, r.ID); err == nil {
		msg += " Credit note " + cn.Number + " corrects invoice " + cn.Body.CorrectsNumber + "."
	} else if billing.ErrorCode(err) != billing.ENOTFOUND {
		return err
	}
	if !IsHTMX(c) {
		h.sessions.Flash(c, msg)
		return redirect(c, views.PathHistory)
	}
	hv, err := h.historyView(c)
	if err != nil {
		return err
	}
	hv.Notice = msg
	return h.renderHistory(c, http.StatusOK, hv)
}

// historyView reads the page's filters and lists the documents. The view comes back with an
// error when the filters cannot be used (nil only when the org cannot be read).
func (h *Pages) historyView(c echo.Context) (*views.History, error) {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	cs, err := h.Billing.CreditSummary(ctx, org)
	if err != nil {
		return nil, err
	}
	v := &views.History{Shell: h.Shell(c, views.NavHistory, "History"), Now: h.Billing.Now(), Loc: viewer(c).Loc, CycleEnd: cs.CycleEnd}
	f, filters, err := historyFilter(c)
	v.Filters, v.First = filters, f.Cursor == ""
	if err != nil {
		return v, err
	}
	page, err := h.Documents.List(ctx, org, f)
	if err != nil {
		return v, err
	}
	v.Documents, v.Next = page.Documents, page.Next
	if viewer(c).Membership.IsAdmin() && recentPurchase(page.Documents, v.Now) {
		if v.Refundable, err = h.refundable(c); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// recentPurchase reports whether docs hold the invoice of a purchase paid within the refund
// window (invoiced when paid): only then can a row offer a refund.
func recentPurchase(docs []*documents.Document, now time.Time) bool {
	for _, d := range docs {
		if d.Kind == documents.KindInvoice && d.Source == documents.SourcePurchase && now.Sub(d.IssuedAt) <= payments.RefundWindow {
			return true
		}
	}
	return false
}

// refundable returns the refund quotes of the org's purchases that can be refunded now, by
// purchase id (the refund window is 30 days, so the latest purchases are enough).
func (h *Pages) refundable(c echo.Context) (map[string]payments.RefundQuote, error) {
	lines, err := h.Payments.Purchases(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return nil, err
	}
	out := map[string]payments.RefundQuote{}
	for _, l := range lines {
		if l.Quote.Eligible {
			out[l.ID] = l.Quote
		}
	}
	return out, nil
}

// SaveBillingProfile saves the org's billing details, for admins (POST
// /settings/billing/history/profile). Invalid details show the form again with a message next
// to each field to fix.
func (h *Pages) SaveBillingProfile(c echo.Context) error {
	v := viewer(c)
	in := documents.Profile{
		Name: c.FormValue("name"), Address: c.FormValue("address"), Country: c.FormValue("country"),
		TaxID: c.FormValue("taxId"), Email: c.FormValue("email"),
	}
	saved, err := h.Documents.SaveProfile(c.Request().Context(), v.Membership.OrgID, v.User.ID, in)
	if err == nil {
		if IsHTMX(c) {
			return Render(c, http.StatusOK, views.BillingDetails(views.ProfileForm{Profile: *saved, CSRF: CSRFToken(c), Editing: true, Saved: true}))
		}
		h.sessions.Flash(c, "Billing details saved. Documents issued from now on carry them.")
		return redirect(c, "/settings/billing/history#billing-details")
	}
	return inline(err, func(c echo.Context, status int, msg string) error {
		in.Normalize()
		form := views.ProfileForm{Profile: in, CSRF: CSRFToken(c), Editing: true, Errors: map[string]string{"name": msg}}
		var pe *documents.ProfileError
		if errors.As(err, &pe) {
			form.Errors = pe.Fields
		}
		if IsHTMX(c) {
			return Render(c, status, views.BillingDetails(form))
		}
		page, err := h.historyView(c)
		if page == nil {
			return err
		}
		page.Profile = form
		return Render(c, status, views.HistoryPage(*page))
	})
}

// HistoryPDF downloads one of the org's documents as a PDF (GET
// /settings/billing/history/{number}.pdf). Another org's number is "not found".
func (h *Pages) HistoryPDF(c echo.Context) error {
	d, err := findDocument(c, h.Documents, viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	return sendPDF(c, d)
}

// HistoryDraft downloads the running cycle's statement so far, marked DRAFT (GET
// /settings/billing/history/draft.pdf).
func (h *Pages) HistoryDraft(c echo.Context) error {
	d, err := h.Documents.DraftStatement(c.Request().Context(), viewer(c).Membership.OrgID)
	if err != nil {
		return err
	}
	return sendPDF(c, d)
}

// findDocument reads the {file} path parameter ("LUX-2026-000042.pdf") and finds that document
// of org.
func findDocument(c echo.Context, docs *documents.Service, org string) (*documents.Document, error) {
	file, err := pathParam(c, "file")
	if err != nil {
		return nil, err
	}
	number, ok := strings.CutSuffix(file, ".pdf")
	if !ok || number == "" || len(number) > 40 {
		return nil, billing.Errorf(billing.ENOTFOUND, "There is nothing at %s. Documents download as their number followed by .pdf, such as LUX-2026-000042.pdf.", c.Request().URL.Path)
	}
	return docs.FindByNumber(c.Request().Context(), org, number)
}

// sendPDF renders d and sends it as a download named after its number.
func sendPDF(c echo.Context, d *documents.Document) error {
	b, err := documents.PDF(d)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+d.Filename()+`"`)
	h.Set("Cache-Control", "private, no-store")
	return c.Blob(http.StatusOK, "application/pdf", b)
}
