package handlers

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// maxWebhookBytes bounds a webhook's body; Stripe's events are a few kilobytes.
const maxWebhookBytes = 256 << 10

// Webhooks receives the payment provider's webhooks.
type Webhooks struct {
	d Domain
}

// NewWebhooks returns the webhook handlers.
func NewWebhooks(d Domain) *Webhooks { return &Webhooks{d: d} }

// Stripe receives a Stripe webhook (POST /webhooks/stripe), the one endpoint for every kind of
// Stripe payment: the signature is verified on the raw body, then the event is acted on once —
// by plan changes when it is theirs (a subscription), else as a purchase of credits. 200 when handled or ignored; 400 with nothing
// granted when the signature, timestamp, body or purchase is wrong.
func (h *Webhooks) Stripe(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBytes+1))
	if err != nil {
		return billing.Errorf(billing.EINVALID, "could not read the webhook's body")
	}
	if len(body) > maxWebhookBytes {
		return billing.Errorf(billing.ETOOLARGE, "a webhook's body may be at most %d bytes", maxWebhookBytes)
	}
	if err := h.d.Payments.HandleStripeWebhook(c.Request().Context(), body, c.Request().Header.Get("Stripe-Signature"), h.d.PlanChanges); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}
