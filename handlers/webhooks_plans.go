package handlers

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// maxPlanWebhookBytes bounds a webhook's body; Stripe's events are a few kilobytes.
const maxPlanWebhookBytes = 256 << 10

// StripeWebhook receives a Stripe webhook (POST /webhooks/stripe): the signature is verified
// on the raw body, then a plan event is acted on once. 200 when handled or ignored; 400 with
// nothing changed when the signature, timestamp or body is wrong.
func (h *Pages) StripeWebhook(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxPlanWebhookBytes+1))
	if err != nil {
		return billing.Errorf(billing.EINVALID, "could not read the webhook's body")
	}
	if len(body) > maxPlanWebhookBytes {
		return billing.Errorf(billing.ETOOLARGE, "a webhook's body may be at most %d bytes", maxPlanWebhookBytes)
	}
	if err := h.PlanChanges.HandlePlanWebhook(c.Request().Context(), body, c.Request().Header.Get("Stripe-Signature")); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true})
}
