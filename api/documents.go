package api

import (
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// Document is one document in GET /api/v1/documents. Money is in minor units of Currency
// (cents); credits are numbers with up to 3 decimals.
type Document struct {
	Number         string               `json:"number"`
	Kind           string               `json:"kind"`   // invoice, credit_note, statement
	Source         string               `json:"source"` // purchase, plan_charge, refund, cycle
	Title          string               `json:"title"`
	IssuedAt       time.Time            `json:"issuedAt"`
	PeriodStart    *time.Time           `json:"periodStart"`
	PeriodEnd      *time.Time           `json:"periodEnd"`
	Status         string               `json:"status"`   // paid, refunded, issued
	Currency       string               `json:"currency"` // "usd"…, or "credits" for statements
	SubtotalCents  billing.Cents        `json:"subtotalCents"`
	TaxCents       billing.Cents        `json:"taxCents"`
	TotalCents     billing.Cents        `json:"totalCents"`
	RefundedCents  billing.Cents        `json:"refundedCents"` // an invoice's credit notes
	Credits        billing.Millicredits `json:"credits"`       // bought, refunded, or used (statement)
	PaymentMethod  string               `json:"paymentMethod"`
	CorrectsNumber *string              `json:"correctsNumber"` // the invoice a credit note corrects
	PDFURL         string               `json:"pdfUrl"`
}

// DocumentList is the body of GET /api/v1/documents.
type DocumentList struct {
	Documents  []Document `json:"documents"`
	NextCursor *string    `json:"nextCursor"` // null on the last page
}
