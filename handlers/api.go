// Package handlers are the HTTP handlers of Lux Billing: thin functions that bind a request,
// call the billing service and render JSON or a view. Errors are returned, never rendered
// here: web/ maps them to statuses in one place.
package handlers

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

// API serves /api/v1 for the flow engine and the CLI; its bodies are the types of package api.
type API struct{ Domain }

// NewAPI returns the JSON API handlers.
func NewAPI(d Domain) *API { return &API{Domain: d} }

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
	for i, e := range events {
		if err := checkActsAs(key, e.UserID, fmt.Sprintf("events[%d]", i)); err != nil {
			return err
		}
	}
	res, err := h.Billing.RecordUsage(c.Request().Context(), key.OrgID, key.UserID, events)
	if err != nil {
		return err
	}
	out := api.UsageResult{Results: make([]api.EventResult, len(res.Results)), Balance: res.Balance,
		Paused: res.Paused, PauseReason: stringOrNull(res.PauseReason), MembersPaused: res.MembersPaused}
	for i, r := range res.Results {
		out.Results[i] = api.EventResult{ID: r.ID, Credits: r.Credits, Duplicate: r.Duplicate}
	}
	return c.JSON(http.StatusOK, out)
}

// PostAuthorize tells the flow engine whether a flow may do more work: 200 when allowed, 402
// with the reason when credits are exhausted or a limit is reached.
func (h *API) PostAuthorize(c echo.Context) error {
	var req api.AuthorizeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	in := billing.AuthorizeRequest{FlowID: req.FlowID, ExecutionID: req.ExecutionID, UserID: req.UserID}
	if req.Estimate != nil {
		est, err := estimate(req.Estimate)
		if err != nil {
			return err
		}
		in.Estimate = &est
	}
	key := apiKey(c)
	if err := checkActsAs(key, req.UserID, "authorize"); err != nil {
		return err
	}
	a, err := h.Billing.Authorize(c.Request().Context(), key.OrgID, key.UserID, in)
	if err != nil {
		return err
	}
	out := api.Authorization{Allowed: a.Allowed, Balance: a.Balance, MonthlyLimit: a.MonthlyLimit,
		CycleUsed: a.CycleUsed, MemberLimit: a.MemberLimit, MemberUsed: a.MemberUsed, Estimate: a.EstimateCredits}
	if a.Allowed {
		return c.JSON(http.StatusOK, out)
	}
	refused := billing.Errorf(billing.EPAYMENTREQUIRED, "%s", a.Message)
	return inline(refused, func(c echo.Context, status int, _ string) error {
		out.Reason, out.Message = a.Reason, a.Message
		out.Error = &api.Error{Code: billing.EPAYMENTREQUIRED, Message: a.Message}
		return c.JSON(status, out)
	})
}

// GetExecution returns one execution's credits by type and their total.
func (h *API) GetExecution(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	ec, err := h.Reports.ExecutionCost(c.Request().Context(), apiKey(c).OrgID, id)
	if err != nil {
		return err
	}
	credits := make(map[string]billing.Millicredits, len(ec.ByType)+1)
	for t, v := range ec.ByType {
		credits[t] = v
	}
	credits["total"] = ec.Total
	return c.JSON(http.StatusOK, api.Execution{FlowID: ec.FlowID, ExecutionID: ec.ExecutionID, Credits: credits})
}

// NewCredits shapes a credit summary for the API.
func NewCredits(cs *billing.CreditSummary) api.Credits {
	var out api.Credits
	out.Org.ID, out.Org.Name = cs.OrgID, cs.OrgName
	out.Balance, out.Plan, out.PlanName = cs.Balance, cs.Plan.Code, cs.Plan.Name
	out.Allotment.Granted, out.Allotment.Remaining, out.Allotment.ResetsAt = cs.Allotment, cs.AllotmentRemaining, cs.CycleEnd.UTC()
	out.Purchased.Remaining = cs.Purchased
	out.Other.Remaining = cs.Other
	out.Arrears = cs.Arrears
	out.Cycle.Start, out.Cycle.End, out.Cycle.Used = cs.CycleStart.UTC(), cs.CycleEnd.UTC(), cs.CycleUsed
	out.MonthlyLimit = cs.MonthlyLimit
	out.Paused = cs.Paused
	out.PauseReason = stringOrNull(cs.PauseReason)
	return out
}

// GetCredits returns the organization's balance, plan, allotment, cycle usage and pause state.
func (h *API) GetCredits(c echo.Context) error {
	cs, err := h.Billing.CreditSummary(c.Request().Context(), apiKey(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewCredits(cs))
}

// estimate checks an authorize request's estimate.
func estimate(e *api.Estimate) (billing.Estimate, error) {
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
