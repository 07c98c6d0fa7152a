package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
	ID          *string      `json:"id"`
	FlowID      *string      `json:"flowId"`
	ExecutionID *string      `json:"executionId"`
	UserID      *string      `json:"userId"`
	Type        *string      `json:"type"`
	Model       *string      `json:"model"`
	Quantity    *json.Number `json:"quantity"`
	OccurredAt  *string      `json:"occurredAt"`
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
	return unmarshalStrict(body, v)
}

func unmarshalStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("the request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
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
			return invalid("%q must be a JSON %s, not %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return invalid("the body is not valid JSON: it ends too early")
		}
		return invalid("the body is not valid JSON: %s", err.Error())
	}
	if dec.More() {
		return invalid("the body has data after the JSON object")
	}
	return nil
}

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
		var ej usageEventJSON
		if err := unmarshalStrict(r, &ej); err != nil {
			return nil, invalid("events[%d]: %s", i, billing.ErrorMessage(err))
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
	if e.Quantity, err = parseQuantity(*ej.Quantity); err != nil {
		return e, err
	}
	if ej.OccurredAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *ej.OccurredAt)
		if err != nil {
			return e, invalid("\"occurredAt\" %q is not an RFC 3339 time such as 2026-11-26T10:00:00Z", *ej.OccurredAt)
		}
		e.OccurredAt = t
	}
	return e, nil
}

// parseQuantity accepts a positive whole number of units.
func parseQuantity(n json.Number) (int64, error) {
	q, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(n.String(), 64); ferr == nil && f == float64(int64(f)) && f > 0 && f < 1e15 {
			return int64(f), nil // 1e3 or 1000.0: a whole number written as a float
		}
		return 0, invalid("\"quantity\" must be a positive whole number of units (got %s)", n.String())
	}
	if q <= 0 {
		return 0, invalid("\"quantity\" must be a positive whole number of units (got %d)", q)
	}
	if q > billing.MaxQuantity {
		return 0, invalid("\"quantity\" %d is over the most one event may carry (%d)", q, int64(billing.MaxQuantity))
	}
	return q, nil
}

// creditsOrNull writes an optional amount of credits as a JSON number or null.
func creditsOrNull(m *billing.Millicredits) any {
	if m == nil {
		return nil
	}
	return *m
}

func stringOrNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}
