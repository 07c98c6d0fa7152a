package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/handlers"
)

// codeOf maps an HTTP status from Echo itself (unknown route, wrong method) to a billing code.
func codeOf(status int) string {
	switch status {
	case http.StatusNotFound:
		return billing.ENOTFOUND
	case http.StatusMethodNotAllowed, http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return billing.EINVALID
	case http.StatusUnauthorized:
		return billing.EUNAUTHORIZED
	case http.StatusForbidden:
		return billing.EFORBIDDEN
	case http.StatusRequestEntityTooLarge:
		return billing.ETOOLARGE
	case http.StatusTooManyRequests:
		return billing.ERATELIMIT
	case http.StatusServiceUnavailable:
		return billing.EUNAVAILABLE
	}
	return billing.EINTERNAL
}

// handleError is the one place errors become responses: JSON for the API, an inline alert for
// htmx requests, an error page otherwise. Internal errors are logged with the request id and
// shown as "Internal error."; a person never sees a stack or raw SQL.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := billing.ErrorCode(err), billing.ErrorMessage(err)
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
	status := handlers.StatusOf(code)
	if he != nil && he.Code >= 400 && he.Code < 500 {
		status = he.Code // keep Echo's own 4xx, e.g. 405 for a wrong method
	}
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	if code == billing.EINTERNAL {
		s.log.Error("internal error", "id", reqID, "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		msg = "Internal error. If it persists, contact support with request id " + reqID + "."
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || strings.HasPrefix(c.Request().URL.Path, "/webhooks/") {
		_ = c.JSON(status, handlers.ErrorJSON(code, msg))
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = s.renderErrorPage(c, status, msg)
}

// renderErrorPage shows an error to a person in the browser: an alert swapped into the page
// for htmx requests, an error page otherwise.
func (s *Server) renderErrorPage(c echo.Context, status int, msg string) error {
	if err := s.pages.RenderError(c, status, msg); err != nil {
		s.log.Error("render error page", "err", err)
		return c.String(status, msg)
	}
	return nil
}
