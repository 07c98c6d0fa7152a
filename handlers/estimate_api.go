package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	calc "github.com/luxstudio/lux-billing/billing/estimate"
)

// estimateLineJSON is one line as sent; numbers are kept raw so that a bad one is named.
type estimateLineJSON struct {
	Type     *string          `json:"type"`
	Model    *string          `json:"model"`
	Count    *json.RawMessage `json:"count"`
	Quantity *json.RawMessage `json:"quantity"`
}

// PostEstimate prices a month of work for the key's organization (the calculator, SPEC §9).
// Any key may call it; nothing is stored.
func (h *API) PostEstimate(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	lines, err := DecodeEstimateRequest(body)
	if err != nil {
		return err
	}
	est, err := h.Estimate.Estimate(c.Request().Context(), apiKey(c).OrgID, lines)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, api.NewCostEstimate(est))
}

// DecodeEstimateRequest turns a POST /api/v1/estimate body into lines. count defaults to 1;
// quantity is required for AI, voice calls and voice synthesis, and defaults to 1 otherwise. Every bad
// field is reported at once, named as lines[i].field.
func DecodeEstimateRequest(body []byte) ([]calc.Line, error) {
	var req struct {
		Lines *[]json.RawMessage `json:"lines"`
	}
	if err := unmarshalStrict(body, &req); err != nil {
		return nil, err
	}
	if req.Lines == nil || len(*req.Lines) == 0 {
		return nil, invalid("the body needs a \"lines\" array of 1 to %d lines, like {\"lines\":[{\"type\":\"email\",\"count\":2000}]}", calc.MaxLines)
	}
	raw := *req.Lines
	if len(raw) > calc.MaxLines {
		return nil, invalid("an estimate has at most %d lines (got %d): combine similar ones", calc.MaxLines, len(raw))
	}
	lines := make([]calc.Line, len(raw))
	var bad []calc.FieldError
	for i, r := range raw {
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' {
			bad = append(bad, calc.FieldError{Line: i, Message: "a line must be a JSON object, not " + jsonValueKind(t)})
			continue
		}
		var lj estimateLineJSON
		if err := unmarshalStrict(r, &lj); err != nil {
			bad = append(bad, calc.FieldError{Line: i, Message: billing.ErrorMessage(err)})
			continue
		}
		l, errs := lj.line()
		for _, e := range errs {
			e.Line = i
			bad = append(bad, e)
		}
		lines[i] = l
	}
	if len(bad) > 0 {
		return nil, &calc.InvalidError{Fields: bad}
	}
	return lines, nil
}

func (lj estimateLineJSON) line() (calc.Line, []calc.FieldError) {
	var l calc.Line
	if lj.Type != nil {
		l.Type = *lj.Type
	}
	if lj.Model != nil {
		l.Model = *lj.Model
	}
	var errs []calc.FieldError
	number := func(field string, raw *json.RawMessage, def int64, limit int64) int64 {
		if raw == nil || string(bytes.TrimSpace(*raw)) == "null" {
			if def < 0 {
				errs = append(errs, calc.FieldError{Field: field, Message: fmt.Sprintf("required: the %s of each time", quantityUnit(l.Type))})
			}
			return max(def, 0)
		}
		t := bytes.TrimSpace(*raw)
		if t[0] != '-' && (t[0] < '0' || t[0] > '9') {
			errs = append(errs, calc.FieldError{Field: field, Message: "must be a JSON number, not " + jsonValueKind(t)})
			return 0
		}
		n, err := calc.ParseNumber(string(t), limit)
		if err != nil {
			errs = append(errs, calc.FieldError{Field: field, Message: billing.ErrorMessage(err)})
		}
		return n
	}
	l.Count = number("count", lj.Count, 1, calc.MaxCount)
	def := int64(1)
	if l.Type == billing.TypeAI || l.Type == billing.TypeVoiceCall || l.Type == billing.TypeVoiceSynthesis {
		def = -1 // required: no sensible default for tokens, seconds or characters
	}
	l.Quantity = number("quantity", lj.Quantity, def, calc.MaxQuantity)
	return l, errs
}

// quantityUnit names a type's unit for messages.
func quantityUnit(typ string) string {
	switch typ {
	case billing.TypeAI:
		return "tokens"
	case billing.TypeVoiceCall:
		return "seconds"
	case billing.TypeVoiceSynthesis:
		return "characters"
	}
	return "units"
}
