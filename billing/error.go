package billing

import (
	"errors"
	"fmt"
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

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, or EINTERNAL when err is not one.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of err's *Error, or "Internal error." otherwise.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
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
