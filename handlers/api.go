// Package handlers are the HTTP handlers of Lux Billing: thin functions that bind a request,
// call the billing service and render JSON or a view. Errors are returned, never rendered
// here: web/ maps them to statuses in one place.
package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
)

// API serves /api/v1 for the flow engine and the CLI.
type API struct {
	billing *billing.Service
}

// NewAPI returns the JSON API handlers.
func NewAPI(svc *billing.Service) *API { return &API{billing: svc} }

const keyIdentity = "lux.key"

// RequireAPIKey authenticates "Authorization: Bearer lux_…" and stores who the key acts for.
func (h *API) RequireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(auth, " ")
		if auth == "" {
			return billing.Errorf(billing.EUNAUTHORIZED, "send your API key as \"Authorization: Bearer lux_…\"; create one in Settings → API keys or with `lux apikey create`")
		}
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return billing.Errorf(billing.EUNAUTHORIZED, "use the Bearer scheme: \"Authorization: Bearer lux_…\"")
		}
		id, err := h.billing.AuthenticateKey(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			return err
		}
		c.Set(keyIdentity, id)
		return next(c)
	}
}

func apiKey(c echo.Context) *billing.KeyIdentity { return c.Get(keyIdentity).(*billing.KeyIdentity) }

type eventResultJSON struct {
	ID        string               `json:"id"`
	Credits   billing.Millicredits `json:"credits"`
	Duplicate bool                 `json:"duplicate"`
}

type usageResponse struct {
	Results       []eventResultJSON    `json:"results"`
	Balance       billing.Millicredits `json:"balance"`
	Paused        bool                 `json:"paused"`
	PauseReason   any                  `json:"pauseReason"`
	MembersPaused []string             `json:"membersPaused,omitempty"`
}

// PostUsage records a batch of usage events for the key's organization.
func (h *API) PostUsage(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	events, err := DecodeUsageRequest(body)
	if err != nil {
		return err
	}
	key := apiKey(c)
	res, err := h.billing.RecordUsage(c.Request().Context(), key.OrgID, key.UserID, events)
	if err != nil {
		return err
	}
	out := usageResponse{Results: make([]eventResultJSON, len(res.Results)), Balance: res.Balance,
		Paused: res.Paused, PauseReason: stringOrNull(res.PauseReason), MembersPaused: res.MembersPaused}
	for i, r := range res.Results {
		out.Results[i] = eventResultJSON{ID: r.ID, Credits: r.Credits, Duplicate: r.Duplicate}
	}
	return c.JSON(http.StatusOK, out)
}

type estimateJSON struct {
	Type     string       `json:"type"`
	Model    string       `json:"model"`
	Quantity *json.Number `json:"quantity"`
}

type authorizeRequest struct {
	FlowID      string        `json:"flowId"`
	ExecutionID string        `json:"executionId"`
	UserID      string        `json:"userId"`
	Estimate    *estimateJSON `json:"estimate"`
}

// PostAuthorize tells the flow engine whether a flow may do more work: 200 when allowed, 402
// with the reason when credits are exhausted or a limit is reached.
func (h *API) PostAuthorize(c echo.Context) error {
	var req authorizeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := billing.AuthorizeRequest{FlowID: req.FlowID, ExecutionID: req.ExecutionID, UserID: req.UserID}
	if req.Estimate != nil {
		est, err := req.Estimate.estimate()
		if err != nil {
			return err
		}
		in.Estimate = &est
	}
	key := apiKey(c)
	a, err := h.billing.Authorize(c.Request().Context(), key.OrgID, key.UserID, in)
	if err != nil {
		return err
	}
	out := map[string]any{
		"allowed":      a.Allowed,
		"balance":      a.Balance,
		"monthlyLimit": creditsOrNull(a.MonthlyLimit),
		"cycleUsed":    a.CycleUsed,
		"memberLimit":  creditsOrNull(a.MemberLimit),
		"memberUsed":   a.MemberUsed,
	}
	if a.EstimateCredits != nil {
		out["estimate"] = *a.EstimateCredits
	}
	if a.Allowed {
		return c.JSON(http.StatusOK, out)
	}
	out["reason"] = a.Reason
	out["message"] = a.Message
	out["error"] = errorBody{Code: billing.EPAYMENTREQUIRED, Message: a.Message}
	return c.JSON(http.StatusPaymentRequired, out)
}

// GetExecution returns one execution's credits by type and total: the seed's per-flow cost.
func (h *API) GetExecution(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	ec, err := h.billing.ExecutionCost(c.Request().Context(), apiKey(c).OrgID, id)
	if err != nil {
		return err
	}
	credits := make(map[string]billing.Millicredits, len(ec.ByType)+1)
	for t, v := range ec.ByType {
		credits[t] = v
	}
	credits["total"] = ec.Total
	return c.JSON(http.StatusOK, struct {
		FlowID      string                          `json:"flowId"`
		ExecutionID string                          `json:"executionId"`
		Credits     map[string]billing.Millicredits `json:"credits"`
	}{ec.FlowID, ec.ExecutionID, credits})
}

// CreditsJSON is the body of GET /api/v1/credits; the CLI decodes it too.
type CreditsJSON struct {
	Org struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"org"`
	Balance   billing.Millicredits `json:"balance"`
	Plan      string               `json:"plan"`
	PlanName  string               `json:"planName"`
	Allotment struct {
		Granted   billing.Millicredits `json:"granted"`
		Remaining billing.Millicredits `json:"remaining"`
		ResetsAt  time.Time            `json:"resetsAt"`
	} `json:"allotment"`
	Purchased struct {
		Remaining billing.Millicredits `json:"remaining"`
	} `json:"purchased"`
	Other struct {
		Remaining billing.Millicredits `json:"remaining"`
	} `json:"other"`
	Arrears billing.Millicredits `json:"arrears"`
	Cycle   struct {
		Start time.Time            `json:"start"`
		End   time.Time            `json:"end"`
		Used  billing.Millicredits `json:"used"`
	} `json:"cycle"`
	MonthlyLimit *billing.Millicredits `json:"monthlyLimit"`
	Paused       bool                  `json:"paused"`
	PauseReason  *string               `json:"pauseReason"`
}

// NewCreditsJSON shapes a credit summary for the API.
func NewCreditsJSON(cs *billing.CreditSummary) CreditsJSON {
	var out CreditsJSON
	out.Org.ID, out.Org.Name = cs.OrgID, cs.OrgName
	out.Balance, out.Plan, out.PlanName = cs.Balance, cs.Plan.Code, cs.Plan.Name
	out.Allotment.Granted, out.Allotment.Remaining, out.Allotment.ResetsAt = cs.Allotment, cs.AllotmentRemaining, cs.CycleEnd.UTC()
	out.Purchased.Remaining = cs.Purchased
	out.Other.Remaining = cs.Other
	out.Arrears = cs.Arrears
	out.Cycle.Start, out.Cycle.End, out.Cycle.Used = cs.CycleStart.UTC(), cs.CycleEnd.UTC(), cs.CycleUsed
	out.MonthlyLimit = cs.MonthlyLimit
	out.Paused = cs.Paused
	if cs.PauseReason != "" {
		r := cs.PauseReason
		out.PauseReason = &r
	}
	return out
}

// GetCredits returns the organization's balance, plan, allotment, cycle usage and pause state.
func (h *API) GetCredits(c echo.Context) error {
	cs, err := h.billing.Credits(c.Request().Context(), apiKey(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewCreditsJSON(cs))
}

func (e *estimateJSON) estimate() (billing.Estimate, error) {
	if e.Type == "" {
		return billing.Estimate{}, invalid("estimate: \"type\" is required")
	}
	if e.Quantity == nil {
		return billing.Estimate{}, invalid("estimate: \"quantity\" is required")
	}
	q, err := parseQuantity(*e.Quantity)
	if err != nil {
		return billing.Estimate{}, invalid("estimate: %s", billing.ErrorMessage(err))
	}
	return billing.Estimate{Type: e.Type, Model: e.Model, Quantity: q}, nil
}

// readBody reads a request body up to MaxBodyBytes; a larger one is ETOOLARGE.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBodyBytes+1))
	if err != nil {
		return nil, invalid("could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return nil, billing.Errorf(billing.ETOOLARGE, "the request body is over %d MB: send at most %d events a batch", MaxBodyBytes>>20, billing.MaxBatch)
	}
	return body, nil
}

// errorBody is the JSON error shape: {"error":{"code":"…","message":"…"}}.
type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorJSON is the body of every API error.
func ErrorJSON(code, message string) any {
	return map[string]errorBody{"error": {Code: code, Message: message}}
}

// pathParam returns the unescaped value of a path parameter. Echo routes on the escaped path
// when it holds escapes (an id with "/" arrives as %2F), and then leaves the parameter escaped.
func pathParam(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v, nil
	}
	u, err := url.PathUnescape(v)
	if err != nil {
		return "", invalid("the %s in the path is not validly escaped", name)
	}
	return u, nil
}
