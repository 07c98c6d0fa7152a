package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/views"
)

// Usage is a placeholder for GET /settings/billing/usage; it is replaced by the usage report.
func (h *Pages) Usage(c echo.Context) error {
	return render(c, http.StatusOK, views.ComingSoonPage(views.ComingSoon{
		Shell:    h.shell(c, views.NavUsage, "Usage"),
		Heading:  "Usage",
		Subtitle: "Where your credits go: by day, flow, integration and member.",
		Icon:     "chart",
		Lead:     "Usage charts and tables are almost here. The overview shows this cycle's total and the latest usage.",
	}))
}
