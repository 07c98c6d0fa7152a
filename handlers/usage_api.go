package handlers

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// usageParams are the query parameters GET /api/v1/usage accepts.
var usageParams = []string{"from", "to", "range", "interval", "groupBy", "flowId", "userId", "type", "top", "format"}

func sumJSON(s reports.UsageSum) api.UsageSum {
	return api.UsageSum{Credits: s.Credits, Quantity: s.Quantity, Events: s.Events}
}

// NewUsage shapes a usage report for the API.
func NewUsage(r *reports.Report) api.Usage {
	out := api.Usage{
		From: r.Query.From, To: r.Query.To, Timezone: r.Timezone,
		Interval: string(r.Query.Interval), GroupBy: string(r.Query.GroupBy),
		Filters: api.UsageFilters{FlowID: r.Query.FlowID, UserID: r.Query.UserID, Type: r.Query.Type},
		Buckets: make([]api.UsageBucket, len(r.Buckets)), Groups: make([]api.UsageGroup, len(r.Groups)),
		Total: sumJSON(r.Total), TopFlows: make([]api.TopFlow, len(r.TopFlows)),
	}
	for i, b := range r.Buckets {
		out.Buckets[i] = api.UsageBucket{Start: b.Start, From: b.From, To: b.To, Partial: b.Partial, UsageSum: sumJSON(b.Total)}
	}
	for i, g := range r.Groups {
		gj := api.UsageGroup{Key: g.Key, Label: g.Label, Detail: g.Detail, Total: sumJSON(g.Total),
			Credits: make([]billing.Millicredits, len(g.Series)), Quantity: make([]int64, len(g.Series)), Events: make([]int64, len(g.Series))}
		for j, v := range g.Series {
			gj.Credits[j], gj.Quantity[j], gj.Events[j] = v.Credits, v.Quantity, v.Events
		}
		out.Groups[i] = gj
	}
	for i, f := range r.TopFlows {
		out.TopFlows[i] = api.TopFlow{FlowID: f.FlowID, Name: f.Name, UsageSum: sumJSON(f.UsageSum)}
	}
	return out
}

// GetUsage returns the key's organization's usage report:
// GET /api/v1/usage?from=&to=&interval=day|week|month&groupBy=type|flow|user, as JSON or, with
// format=csv, as the report's CSV. Without dates it covers the last 30 days.
func (h *API) GetUsage(c echo.Context) error {
	ctx := c.Request().Context()
	org := apiKey(c).OrgID
	params := c.QueryParams()
	q, err := h.usageQuery(ctx, org, params)
	if err != nil {
		return err
	}
	switch params.Get("format") {
	case "", "json":
	case "csv":
		return h.Reports.WriteReportCSV(ctx, csvDownload(c, reports.CSVFilename(q)), org, q)
	default:
		return invalid("format %q is not json or csv", params.Get("format"))
	}
	rep, err := h.Reports.UsageReport(ctx, org, q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, NewUsage(rep))
}

// usageQuery reads and checks the report parameters; the range is resolved by
// reports.ResolveRange (the last 30 days by default, in the org's zone).
func (h *API) usageQuery(ctx context.Context, org string, params url.Values) (reports.Query, error) {
	var q reports.Query
	known := map[string]bool{}
	for _, p := range usageParams {
		known[p] = true
	}
	var unknown []string
	for p := range params {
		if !known[p] {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return q, invalid("unknown parameter %q: use %s", unknown[0], strings.Join(usageParams, ", "))
	}
	for _, p := range usageParams {
		if len(params[p]) > 1 {
			return q, invalid("give %q once", p)
		}
	}
	date := func(name string) (reports.Date, error) {
		s := params.Get(name)
		if s == "" {
			return reports.Date{}, nil
		}
		d, err := reports.ParseDate(s)
		if err != nil {
			return d, invalid("%s: %s", name, billing.ErrorMessage(err))
		}
		return d, nil
	}
	var err error
	if q.From, err = date("from"); err != nil {
		return q, err
	}
	if q.To, err = date("to"); err != nil {
		return q, err
	}
	preset := reports.RangePreset(params.Get("range"))
	if preset != "" && (!q.From.IsZero() || !q.To.IsZero()) {
		return q, invalid("give either range or from/to, not both")
	}
	if q.From, q.To, err = h.Reports.ResolveRange(ctx, org, preset, q.From, q.To); err != nil {
		return q, err
	}
	q.Interval = reports.Interval(params.Get("interval"))
	q.GroupBy = reports.GroupBy(params.Get("groupBy"))
	q.FlowID, q.UserID, q.Type = params.Get("flowId"), params.Get("userId"), params.Get("type")
	if s := params.Get("top"); s != "" {
		if q.TopFlows, err = strconv.Atoi(s); err != nil || q.TopFlows < 1 {
			return q, invalid("top must be a whole number from 1 to %d (got %q)", reports.MaxTopFlows, s)
		}
	}
	return q.Normalize()
}
