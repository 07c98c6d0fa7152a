package handlers

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing/documents"
)

func newDocument(d *documents.Document) api.Document {
	j := api.Document{
		Number: d.Number, Kind: d.Kind, Source: d.Source, Title: d.Title, IssuedAt: d.IssuedAt.UTC(),
		PeriodStart: utc(d.PeriodStart), PeriodEnd: utc(d.PeriodEnd), Status: d.Status, Currency: d.Currency,
		SubtotalCents: d.Subtotal, TaxCents: d.Tax, TotalCents: d.Total, RefundedCents: d.Refunded,
		Credits: d.Credits, PaymentMethod: d.PaymentMethod,
		PDFURL: "/api/v1/documents/" + url.PathEscape(d.Number) + ".pdf",
	}
	if n := d.Body.CorrectsNumber; n != "" {
		j.CorrectsNumber = &n
	}
	return j
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ListDocuments lists the key's org's documents, newest first (GET /api/v1/documents?type=
// &from=&to=&cursor=&limit=).
func (h *API) ListDocuments(c echo.Context) error {
	f, _, err := historyFilter(c)
	if err != nil {
		return err
	}
	page, err := h.Documents.List(c.Request().Context(), apiKey(c).OrgID, f)
	if err != nil {
		return err
	}
	out := api.DocumentList{Documents: make([]api.Document, 0, len(page.Documents))}
	for _, d := range page.Documents {
		out.Documents = append(out.Documents, newDocument(d))
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	return c.JSON(http.StatusOK, out)
}

// GetDocumentPDF sends one of the key's org's documents as a PDF (GET
// /api/v1/documents/{number}.pdf). Another org's number is 404.
func (h *API) GetDocumentPDF(c echo.Context) error {
	d, err := findDocument(c, h.Documents, apiKey(c).OrgID)
	if err != nil {
		return err
	}
	return sendPDF(c, d)
}
