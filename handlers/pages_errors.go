package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/views"
)

// StatusOf maps a billing error code to its HTTP status: the one mapping the API, the pages
// and their forms share.
func StatusOf(code string) int {
	switch code {
	case billing.EINVALID:
		return http.StatusBadRequest
	case billing.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case billing.EPAYMENTREQUIRED:
		return http.StatusPaymentRequired
	case billing.EFORBIDDEN:
		return http.StatusForbidden
	case billing.ENOTFOUND:
		return http.StatusNotFound
	case billing.ECONFLICT:
		return http.StatusConflict
	case billing.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case billing.ERATELIMIT:
		return http.StatusTooManyRequests
	case billing.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// RenderError shows a failed page request to a person: for htmx, an alert swapped into the
// page's #flash region; otherwise an error page, inside the app frame when someone is signed
// in. msg must already be fit to show (web/ replaces internal errors' text).
func (h *Pages) RenderError(c echo.Context, status int, msg string) error {
	if isHTMX(c) {
		hdr := c.Response().Header()
		hdr.Set("HX-Retarget", "#flash")
		hdr.Set("HX-Reswap", "innerHTML")
		return render(c, status, views.Alert("error", views.Sentence(msg)))
	}
	page := views.ErrorPage{
		Status:    status,
		Message:   msg,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		CSRF:      csrfToken(c),
	}
	if viewerOrNil(c) != nil {
		s := h.shell(c, "", http.StatusText(status))
		page.Shell = &s
	} else {
		page.SignedIn = h.sessions.SignedIn(c)
	}
	return render(c, status, views.ErrorView(page))
}
