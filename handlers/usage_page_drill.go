package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

// UsageFlow is the drill-down of one flow of the current organization
// (GET /settings/billing/usage/flows/:flowID): its usage by type over the range of the usage
// view it was opened from (the same query string), and its executions, newest first, each with
// its credits by type. "Load more" follows the keyset cursor (?cursor=): htmx appends the next
// rows; without JavaScript the link opens that page. A flow without usage in the organization
// (another organization's included) is a 404 page.
func (h *Pages) UsageFlow(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	flowID, err := pathParam(c, "flowID")
	if err != nil {
		return err
	}
	cursor := c.QueryParam("cursor")
	page, err := h.Reports.FlowExecutions(ctx, org, flowID, cursor, views.ExecutionsPerPage)
	if err != nil {
		return err
	}
	if cursor == "" && len(page.Executions) == 0 {
		return billing.Errorf(billing.ENOTFOUND, "no usage is recorded for a flow %q in %s", flowID, viewer(c).Membership.OrgName)
	}
	filters, q, err := h.usageView(ctx, org, c.QueryParams())
	if err != nil {
		return err
	}
	var users []string
	for _, e := range page.Executions {
		users = append(users, e.UserID)
	}
	names, err := h.Reports.Names(ctx, org, []string{flowID}, users)
	if err != nil {
		return err
	}
	v := views.UsageFlow{
		FlowID: flowID, FlowName: names.Flow(flowID), Filters: filters, Page: page, Cursor: cursor,
		Names: names, Now: h.Billing.Now(), Loc: viewer(c).Loc,
	}
	if wantsFragment(c) && cursor != "" {
		return Render(c, http.StatusOK, views.UsageExecutionRows(v))
	}
	q.FlowID, q.GroupBy, q.TopFlows = flowID, reports.GroupByType, 1
	if v.Summary, err = h.Reports.UsageReport(ctx, org, q); err != nil {
		return err
	}
	v.Shell = h.Shell(c, views.NavUsage, views.DisplayName(v.FlowName, flowID)+" · Usage")
	return Render(c, http.StatusOK, views.UsageFlowPage(v))
}

// UsageExecution is the drill-down of one execution of the current organization
// (GET /settings/billing/usage/executions/:executionID): its credits by type and total
// (what GET /api/v1/executions/:id returns) and the usage events behind them, each with its type, model, quantity,
// credits, time and member. Another organization's execution is a 404 page.
func (h *Pages) UsageExecution(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	execID, err := pathParam(c, "executionID")
	if err != nil {
		return err
	}
	cost, err := h.Reports.ExecutionCost(ctx, org, execID)
	if err != nil {
		return err
	}
	events, err := h.Reports.ExecutionEvents(ctx, org, execID, reports.MaxEventLimit)
	if err != nil {
		return err
	}
	filters, _, err := h.usageView(ctx, org, c.QueryParams())
	if err != nil {
		return err
	}
	var users []string
	for _, e := range events {
		users = append(users, e.UserID)
	}
	names, err := h.Reports.Names(ctx, org, []string{cost.FlowID}, users)
	if err != nil {
		return err
	}
	v := views.UsageExecution{
		Shell:    h.Shell(c, views.NavUsage, execID+" · Usage"),
		Cost:     cost,
		FlowName: names.Flow(cost.FlowID),
		Filters:  filters,
		Capped:   len(events) == reports.MaxEventLimit,
		Now:      h.Billing.Now(),
		Loc:      viewer(c).Loc,
	}
	rates := h.Billing.Rates()
	for _, e := range events {
		row := views.UsageEventRow{Event: e, Member: names.Member(e.UserID), Model: e.Model}
		if r, err := rates.Find(e.Type, e.Model, e.OccurredAt); err == nil {
			row.Unit = r.Unit
			if e.Model != "" && r.Label != "" {
				row.Model = r.Label
			}
		}
		v.Events = append(v.Events, row)
	}
	return Render(c, http.StatusOK, views.UsageExecutionPage(v))
}

// UsageExecutionCSV streams every usage event of one execution of the current organization as
// CSV (GET /settings/billing/usage/executions/:executionID/events.csv). Another organization's
// execution is a 404 page.
func (h *Pages) UsageExecutionCSV(c echo.Context) error {
	ctx := c.Request().Context()
	execID, err := pathParam(c, "executionID")
	if err != nil {
		return err
	}
	name := "lux-execution-" + fileSafe(execID) + "-events.csv"
	return h.Reports.WriteExecutionEventsCSV(ctx, csvDownload(c, name), viewer(c).Membership.OrgID, execID)
}

// fileSafe keeps the letters, digits, dots, dashes and underscores of s (at most 80), for a
// download's file name; other characters become "_".
func fileSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 80 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
