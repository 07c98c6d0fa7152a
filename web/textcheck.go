package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// Text checks at the edge. PostgreSQL stores only valid UTF-8 without NUL, so text that is not
// would fail deep inside a query (a 500); it is refused here once, for every route: the path,
// every query value and the body of forms and JSON.

var (
	errBadPath  = billing.Errorf(billing.EINVALID, "the address holds text that is not valid UTF-8, or a NUL character: fix the URL")
	errBadQuery = billing.Errorf(billing.EINVALID, "the query string holds text that is not valid UTF-8, or a NUL character, or is not validly %%-escaped: fix the URL")
	errBadBody  = billing.Errorf(billing.EINVALID, "the request body holds text that is not valid UTF-8, or a NUL character: send UTF-8 text")
	errJSONType = echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the body as JSON with the header \"Content-Type: application/json\"")
)

// textOK reports whether s is valid UTF-8 without NUL.
func textOK(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// checkText refuses (400) a request whose path, query or form/JSON body holds invalid UTF-8
// or NUL. Bodies are read up to maxBody(path) bytes and put back for the handler; a larger
// body is passed on unread, for the handler's own size limit (413) to refuse.
func checkText(maxBody func(path string) int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if !textOK(r.URL.Path) || !textOK(r.URL.RawPath) {
				return errBadPath
			}
			if err := checkQuery(r.URL.RawQuery); err != nil {
				return err
			}
			if err := checkBody(r, maxBody(r.URL.Path)); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// checkQuery checks every key and value of a raw query string.
func checkQuery(raw string) error {
	if raw == "" {
		return nil
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return errBadQuery
	}
	for k, vs := range values {
		if !textOK(k) {
			return errBadQuery
		}
		for _, v := range vs {
			if !textOK(v) {
				return errBadQuery
			}
		}
	}
	return nil
}

// checkBody checks a form or JSON body; other bodies (none today) are left to their handler.
func checkBody(r *http.Request, max int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationForm && mt != echo.MIMEApplicationJSON {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			return he // the body limit's 413
		}
		return billing.Errorf(billing.EINVALID, "could not read the request body")
	}
	if int64(len(body)) > max {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return errBadBody
	}
	if mt == echo.MIMEApplicationForm {
		return checkQueryAs(string(body), errBadBody)
	}
	if bytes.Contains(body, []byte(`\u0000`)) && jsonHoldsNUL(body) {
		return errBadBody
	}
	return nil
}

func checkQueryAs(raw string, bad error) error {
	if err := checkQuery(raw); err != nil {
		return bad
	}
	return nil
}

// jsonHoldsNUL reports whether a JSON string (key or value) of body decodes to text with a NUL
// (the escape \u0000). A body that is not JSON is left for the decoder to refuse.
func jsonHoldsNUL(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}

// requireJSON refuses (415) a JSON API request with a body that is not declared as JSON (an
// empty body is left to the handler, which says what it needs): a
// billing body must mean one thing, and a form or text body posted across sites must never
// be read as JSON.
func requireJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !strings.HasPrefix(r.URL.Path, "/api/") || r.ContentLength == 0 {
			return next(c)
		}
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			if err != nil || mt != echo.MIMEApplicationJSON {
				return errJSONType
			}
		}
		return next(c)
	}
}
