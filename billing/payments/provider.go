package payments

import (
	"context"

	"github.com/luxstudio/lux-billing/billing"
)

// PaymentProvider takes payments and refunds them: Stripe, or the demo provider.
type PaymentProvider interface {
	// Name is ProviderStripe or ProviderDemo.
	Name() string
	// CreateCheckout starts the payment of a purchase; the buyer is sent to the returned URL.
	// The same IdempotencyKey always yields the same checkout.
	CreateCheckout(ctx context.Context, r CheckoutRequest) (Checkout, error)
	// CancelCheckout stops an open checkout from being paid. A checkout that was completed
	// meanwhile is not an error: its payment is fulfilled when its confirmation arrives.
	CancelCheckout(ctx context.Context, sessionID string) error
	// Refund returns Amount of a purchase's payment to the buyer and returns the provider's
	// refund id. The same IdempotencyKey never refunds twice.
	Refund(ctx context.Context, r RefundRequest) (string, error)
}

// CheckoutRequest is a payment to start.
type CheckoutRequest struct {
	PurchaseID     string
	OrgID          string
	Description    string // what is bought, for the payment page ("5,000 Lux credits")
	Amount         billing.Cents
	Currency       string
	SuccessURL     string
	CancelURL      string
	IdempotencyKey string
}

// Checkout is a started payment: the provider's session and the page the buyer pays on.
type Checkout struct {
	SessionID string
	URL       string
}

// RefundRequest is money to return for a purchase.
type RefundRequest struct {
	PurchaseID     string
	SessionID      string
	PaymentID      string // the payment to refund; found through SessionID when unknown
	Amount         billing.Cents
	Currency       string
	IdempotencyKey string
}
