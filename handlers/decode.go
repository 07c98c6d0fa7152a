package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// MaxBodyBytes bounds a JSON request body; a full batch of 1,000 events fits many times over.
const MaxBodyBytes = 4 << 20

// usageEventJSON is one event as the flow engine sends it. Pointers tell a missing field from
// an empty one.
type usageEventJSON struct {
	ID          *string `json:"id"`
	FlowID      *string `json:"flowId"`
	ExecutionID *string `json:"executionId"`
	UserID      *string `json:"userId"`
	Type        *string `json:"type"`
	Model       *string `json:"model"`
	// Quantity is kept raw so that a number sent as a JSON string is refused with a clear
	// message (encoding/json would otherwise accept "5" into a json.Number).
	Quantity   *json.RawMessage `json:"quantity"`
	OccurredAt *string          `json:"occurredAt"`
}

type usageRequestJSON struct {
	Events *[]json.RawMessage `json:"events"`
}

func invalid(format string, args ...any) error {
	return billing.Errorf(billing.EINVALID, format, args...)
}

// decodeJSON reads the request body as one JSON value into v with clear errors: malformed
// JSON, a wrong type, trailing data and an over-long body are each told apart.
func decodeJSON(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	if err := unmarshalStrict(body, v); err != nil {
		return err
	}
	return refuseDuplicateKeys(body)
}

func unmarshalStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// dec.More reports false for a stray "}" or "]", so look for the end of input itself.
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the body has data after the JSON object")
	}
	return nil
}

// decodeError tells what is wrong with a body encoding/json refused, in words a person can act on.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid("the body is not valid JSON (at byte %d): %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return invalid("the body must be a JSON object")
		}
		kind := jsonKind(typ.Type.Kind().String())
		if typ.Type == numberType {
			kind = "number" // json.Number is a string type in Go, a number in JSON
		}
		return invalid("%q must be a JSON %s, not %s", field, kind, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("the body is not valid JSON: it ends too early")
	case strings.Contains(err.Error(), "invalid number literal"):
		// encoding/json's (untyped) error for a JSON string that is not a number, sent
		// where a number is expected.
		return invalid("a number field holds a string: send numbers without quotes")
	}
	return invalid("the body is not valid JSON: %s", err.Error())
}

var numberType = reflect.TypeOf(json.Number(""))

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	}
	return "number"
}

// DecodeUsageRequest turns a POST /api/v1/usage body into events. It checks the shape of every
// event (required fields, whole positive quantities, RFC 3339 times); the domain checks the
// rest (prices, ids, limits).
func DecodeUsageRequest(body []byte) ([]billing.UsageEvent, error) {
	var req usageRequestJSON
	if err := unmarshalStrict(body, &req); err != nil {
		return nil, err
	}
	if err := refuseDuplicateKeys(body); err != nil {
		return nil, err
	}
	if req.Events == nil {
		return nil, invalid("the body needs an \"events\" array of 1 to %d events", billing.MaxBatch)
	}
	raw := *req.Events
	if len(raw) == 0 {
		return nil, invalid("\"events\" is empty: send 1 to %d events", billing.MaxBatch)
	}
	if len(raw) > billing.MaxBatch {
		return nil, billing.Errorf(billing.ETOOLARGE, "a batch holds at most %d events (got %d): split it", billing.MaxBatch, len(raw))
	}
	out := make([]billing.UsageEvent, len(raw))
	for i, r := range raw {
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' {
			return nil, invalid("events[%d]: an event must be a JSON object, not %s", i, jsonValueKind(t))
		}
		// The body was read whole above, so each event is one valid JSON object: Unmarshal,
		// without a decoder of its own, tells only wrong types apart.
		var ej usageEventJSON
		if err := json.Unmarshal(r, &ej); err != nil {
			return nil, invalid("events[%d]: %s", i, billing.ErrorMessage(decodeError(err)))
		}
		e, err := ej.event()
		if err != nil {
			return nil, invalid("events[%d]: %s", i, billing.ErrorMessage(err))
		}
		out[i] = e
	}
	return out, nil
}

func (ej *usageEventJSON) event() (billing.UsageEvent, error) {
	var e billing.UsageEvent
	req := func(name string, p *string) (string, error) {
		if p == nil || strings.TrimSpace(*p) == "" {
			return "", invalid("%q is required", name)
		}
		return *p, nil
	}
	var err error
	if e.ID, err = req("id", ej.ID); err != nil {
		return e, err
	}
	if e.FlowID, err = req("flowId", ej.FlowID); err != nil {
		return e, err
	}
	if e.ExecutionID, err = req("executionId", ej.ExecutionID); err != nil {
		return e, err
	}
	if e.Type, err = req("type", ej.Type); err != nil {
		return e, err
	}
	if ej.UserID != nil {
		e.UserID = *ej.UserID
	}
	if ej.Model != nil {
		e.Model = *ej.Model
	}
	if e.Type == billing.TypeAI && e.Model == "" {
		return e, invalid("\"model\" is required for type \"ai\"")
	}
	if ej.Quantity == nil {
		return e, invalid("%q is required", "quantity")
	}
	q := bytes.TrimSpace(*ej.Quantity)
	if len(q) == 0 || (q[0] != '-' && (q[0] < '0' || q[0] > '9')) {
		return e, invalid("%q must be a JSON number, not %s", "quantity", jsonValueKind(q))
	}
	if e.Quantity, err = parseQuantity(json.Number(q)); err != nil {
		return e, err
	}
	if ej.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *ej.OccurredAt)
		if err != nil {
			return e, invalid("\"occurredAt\" %s is not an RFC 3339 time such as 2026-11-26T10:00:00Z", billing.Quote(*ej.OccurredAt))
		}
		if t.IsZero() {
			// The zero time is a time that was given, not "now": it is far outside the window.
			return e, invalid("\"occurredAt\" %s is outside the accepted window (at most 400 days ago, 5 minutes ahead): leave it out to mean now", *ej.OccurredAt)
		}
		e.OccurredAt = t
	}
	return e, nil
}

// parseQuantity accepts a positive whole number of units, at most billing.MaxQuantity. A whole
// number written with a fraction or an exponent (1000.0, 1e3) is accepted; the check is exact
// decimal arithmetic, so 1.0000000000000001 is refused rather than rounded to 1.
func parseQuantity(n json.Number) (int64, error) {
	bad := invalid("\"quantity\" must be a positive whole number of units (got %s)", truncate(n.String(), 40))
	q, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		var ok, tooLarge bool
		q, ok, tooLarge = wholeDecimal(n.String())
		if tooLarge {
			return 0, invalid("\"quantity\" %s is over the most one event may carry (%d)", truncate(n.String(), 40), int64(billing.MaxQuantity))
		}
		if !ok {
			return 0, bad
		}
	}
	if q <= 0 {
		return 0, bad
	}
	if q > billing.MaxQuantity {
		return 0, invalid("\"quantity\" %d is over the most one event may carry (%d)", q, int64(billing.MaxQuantity))
	}
	return q, nil
}

// wholeDecimal reads a JSON number literal (-?digits[.digits][e[+-]digits]) exactly. ok is false
// when it is not a whole number (or not a number); tooLarge is true for a positive whole number
// above billing.MaxQuantity, however many digits it has.
func wholeDecimal(s string) (v int64, ok, tooLarge bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expPart, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := intPart + frac
	if intPart == "" || digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false, false
	}
	exp := int64(-len(frac))
	if hasExp {
		e, err := strconv.ParseInt(strings.TrimPrefix(expPart, "+"), 10, 32)
		if err != nil || expPart == "" || expPart == "+" || expPart == "-" {
			return 0, false, false // an absurd exponent: not a quantity we could accept
		}
		exp += e
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	digits = strings.TrimLeft(trimmed, "0")
	if digits == "" {
		return 0, true, false // zero, however written
	}
	if neg || exp < 0 {
		return 0, false, false // negative, or a fraction is left
	}
	if int64(len(digits))+exp > int64(len(strconv.FormatInt(billing.MaxQuantity, 10))) {
		return 0, false, true
	}
	v, err := strconv.ParseInt(digits+strings.Repeat("0", int(exp)), 10, 64)
	if err != nil {
		return 0, false, true
	}
	if v > billing.MaxQuantity {
		return 0, false, true
	}
	return v, true, false
}

// jsonValueKind names the kind of a JSON value for error messages.
func jsonValueKind(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// stringOrNull is s, or nil (JSON null) when s is empty.
func stringOrNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
