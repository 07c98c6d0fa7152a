package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// GetUsage returns usage series: GET /api/v1/usage?from=&to=&interval=&groupBy=.
func (h *API) GetUsage(c echo.Context) error {
	return billing.Errorf(billing.EUNAVAILABLE, "usage reports are not available yet")
}
