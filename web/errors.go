package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
	"github.com/luxstudio/lux-billing/views"
)

// This file is the one place where errors become responses: billing error codes map to HTTP
// statuses here (statusOf), and failures are rendered as JSON for the API, an alert swapped
// into the page for htmx, an error page otherwise, or — for a handlers.Inline error a person
// can fix — the handler's own form or body at the mapped status.

// statuses is the one table of billing error codes and their HTTP statuses.
var statuses = map[string]int{
	billing.EINVALID:         http.StatusBadRequest,
	billing.EUNAUTHORIZED:    http.StatusUnauthorized,
	billing.EPAYMENTREQUIRED: http.StatusPaymentRequired,
	billing.EFORBIDDEN:       http.StatusForbidden,
	billing.ENOTFOUND:        http.StatusNotFound,
	billing.ECONFLICT:        http.StatusConflict,
	billing.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	billing.ERATELIMIT:       http.StatusTooManyRequests,
	billing.EUNAVAILABLE:     http.StatusServiceUnavailable,
}

// statusOf maps a billing error code to its HTTP status; anything else is a 500.
func statusOf(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// codeOf maps an HTTP status from Echo itself (unknown route, wrong method) to a billing code.
func codeOf(status int) string {
	if status == http.StatusMethodNotAllowed || status == http.StatusUnsupportedMediaType {
		return billing.EINVALID
	}
	for code, s := range statuses {
		if s == status && code != billing.EPAYMENTREQUIRED && code != billing.ECONFLICT {
			return code
		}
	}
	return billing.EINTERNAL
}

// inlineCodes are the codes of errors a person fixes by changing what they typed or sent, so a
// handlers.Inline error with one of them is shown by its handler where it happened.
var inlineCodes = map[string]bool{
	billing.EINVALID: true, billing.EUNAUTHORIZED: true, billing.ECONFLICT: true, billing.EFORBIDDEN: true,
	billing.ENOTFOUND: true, billing.ERATELIMIT: true, billing.ETOOLARGE: true, billing.EPAYMENTREQUIRED: true,
}

// handleError answers a failed request. Internal errors are logged with the request id and
// shown as "Internal error."; a person never sees a stack or raw SQL.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := billing.ErrorCode(err), billing.ErrorMessage(err)
	var in *handlers.Inline
	if errors.As(err, &in) && inlineCodes[code] {
		if err := in.Show(c, statusOf(code), views.Sentence(msg)); err != nil {
			s.handleError(err, c)
		}
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = codeOf(he.Code)
		msg = http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && m != "" {
			msg = m
		}
		if he.Code == http.StatusNotFound {
			msg = "There is nothing at " + c.Request().URL.Path + "."
		}
		if he.Code == http.StatusMethodNotAllowed {
			msg = c.Request().Method + " is not allowed on " + c.Request().URL.Path + "."
		}
	}
	status := statusOf(code)
	if he != nil && he.Code >= 400 && he.Code < 500 {
		status = he.Code // keep Echo's own 4xx, e.g. 405 for a wrong method
	}
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if code == billing.EINTERNAL {
		s.log.Error("internal error", "id", reqID, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		msg = "Internal error. If it persists, contact support with request id " + reqID + "."
	}
	if path := c.Request().URL.Path; strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/webhooks/") {
		_ = c.JSON(status, api.ErrorResponse{Error: api.Error{Code: code, Message: msg}})
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if err := s.renderError(c, status, msg); err != nil {
		s.log.Error("render error page", "err", err)
		_ = c.String(status, msg)
	}
}

// renderError shows a failed page request to a person: for htmx, an alert swapped into the
// page's #flash region; otherwise an error page, inside the app frame when someone is signed
// in. msg must already be fit to show.
func (s *Server) renderError(c echo.Context, status int, msg string) error {
	if handlers.IsHTMX(c) {
		hdr := c.Response().Header()
		hdr.Set("HX-Retarget", "#flash")
		hdr.Set("HX-Reswap", "innerHTML")
		return handlers.Render(c, status, views.Alert("error", views.Sentence(msg)))
	}
	page := views.ErrorPage{
		Status:    status,
		Message:   msg,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		CSRF:      handlers.CSRFToken(c),
	}
	if handlers.ViewerOf(c) != nil {
		sh := s.pages.Shell(c, "", http.StatusText(status))
		page.Shell = &sh
	} else {
		page.SignedIn = s.sessions.SignedIn(c)
	}
	return handlers.Render(c, status, views.ErrorView(page))
}
