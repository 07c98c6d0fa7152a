package billing

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"

	"github.com/lib/pq"
)

// Error codes. The web layer maps each to an HTTP status in one place.
const (
	EINVALID         = "invalid"          // the request is malformed or breaks a rule: 400
	EUNAUTHORIZED    = "unauthorized"     // no or bad credentials: 401
	EPAYMENTREQUIRED = "payment_required" // credits exhausted or a limit reached: 402
	EFORBIDDEN       = "forbidden"        // authenticated but not allowed: 403
	ENOTFOUND        = "not_found"        // 404
	ECONFLICT        = "conflict"         // e.g. an event id reused with a different body: 409
	ETOOLARGE        = "too_large"        // a batch or body over its limit: 413
	ERATELIMIT       = "rate_limited"     // too many attempts: 429
	EUNAVAILABLE     = "unavailable"      // a dependency is down: 503
	EINTERNAL        = "internal"         // a bug or an unexpected failure: 500
)

// Error is a failure the product can explain to a person: a code and a message that says what
// to fix. Any other error is internal and shown as "Internal error".
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("billing: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message. A string quoted with %q
// is cut to its first MaxQuoted characters (see Quote): the value that was wrong may be huge or
// hostile, and the message needs only enough of it to be recognised.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, shortenQuoted(format, args)...)}
}

// shortenQuoted returns args with every string formatted by a %q verb of format cut to
// MaxQuoted characters plus an ellipsis.
func shortenQuoted(format string, args []any) []any {
	var out []any
	arg := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0123456789.[]", format[i]) >= 0 {
			i++
		}
		if i >= len(format) || format[i] == '%' {
			continue
		}
		if format[i] == '*' {
			arg++ // a width from the arguments (not used by our messages)
			continue
		}
		if arg >= len(args) {
			break
		}
		if v := reflect.ValueOf(args[arg]); format[i] == 'q' && v.Kind() == reflect.String {
			if str := v.String(); cutText(str, MaxQuoted) != str {
				cut := cutText(str, MaxQuoted)
				if out == nil {
					out = append([]any(nil), args...)
				}
				out[arg] = cut + "…"
			}
		}
		arg++
	}
	if out == nil {
		return args
	}
	return out
}

// ErrorCode returns the code of err's *Error; EUNAVAILABLE when err says the database cannot
// be reached (see Unavailable); EINTERNAL for anything else.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	if Unavailable(err) {
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// unavailableMessage tells a person or a client what to do while the database is down.
const unavailableMessage = "The billing database cannot be reached right now. Try again in a moment: retrying a usage batch is safe, its event ids make it count once."

// ErrorMessage returns the human message of err's *Error, the outage message when the
// database cannot be reached, or "Internal error." otherwise.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if Unavailable(err) {
		return unavailableMessage
	}
	return "Internal error."
}

// Unavailable reports whether err means the database cannot be reached or is shutting down or
// starting up (a refused or cut connection, SQLSTATE classes 08 and 57P, too many
// connections): a 503 that a retry may cure, not a bug.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		code := string(pe.Code)
		return pe.Code.Class() == "08" || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// ErrorMessageOr returns err's human message for an *Error, and err's own text otherwise (for
// command-line output, where the operator needs the detail).
func ErrorMessageOr(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
