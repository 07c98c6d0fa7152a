package handlers

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
	"github.com/luxstudio/lux-billing/views"
)

// The usage pages: the report (/settings/billing/usage) with its CSV, and the drill-down from a
// flow to its executions and from an execution to its events (usage_page_drill.go). Members and
// admins see the same pages: it is their organization's usage.

// rangeCustom is the range of a usage view that gives its own from and to dates.
const rangeCustom = "custom"

// Usage is the usage report of the current organization (GET /settings/billing/usage): a
// stacked chart and a table of credits per period and group, totals, top flows and the
// forecast. The query string holds the whole view (see usageView), so the URL can be shared;
// htmx requests from the filter form get the #usage-view fragment only. A query that cannot be
// used is shown inline with status 400, with the form keeping what was typed.
func (h *Pages) Usage(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	v := views.Usage{Shell: h.Shell(c, views.NavUsage, "Usage"), Now: h.Billing.Now()}
	filters, q, queryErr := h.usageView(ctx, org, c.QueryParams())
	v.Filters = filters
	if queryErr == nil {
		v.Report, queryErr = h.Reports.UsageReport(ctx, org, q)
	}
	if billing.ErrorCode(queryErr) != billing.EINVALID && queryErr != nil {
		return queryErr
	}
	var err error
	v.Units = map[string]string{}
	for _, r := range h.Billing.Rates().Current(v.Now) {
		v.Units[r.Type] = r.Unit
	}
	v.Loc = viewer(c).Loc
	if v.Report != nil {
		if v.Report.Total.Events == 0 {
			recent, err := h.Reports.RecentActivity(ctx, org, reports.ActivityUsage, 1)
			if err != nil {
				return err
			}
			v.NeverUsed = len(recent) == 0
		}
	}
	if v.Forecast, err = h.Reports.Forecast(ctx, org); err != nil {
		return err
	}
	show := func(c echo.Context, status int, msg string) error {
		v.Error = msg
		if wantsFragment(c) {
			return Render(c, status, views.UsageView(v))
		}
		return Render(c, status, views.UsagePage(v))
	}
	if queryErr != nil {
		return inline(queryErr, show) // a query that cannot be used: the form says why
	}
	return show(c, http.StatusOK, "")
}

// UsageCSV streams the cells of the usage view the query string selects as CSV
// (GET /settings/billing/usage.csv?<the page's query>): the rows of reports.WriteReportCSV, as
// they are read, under the name reports.CSVFilename gives.
func (h *Pages) UsageCSV(c echo.Context) error {
	ctx := c.Request().Context()
	org := viewer(c).Membership.OrgID
	_, q, err := h.usageView(ctx, org, c.QueryParams())
	if err != nil {
		return err
	}
	return h.Reports.WriteReportCSV(ctx, csvDownload(c, reports.CSVFilename(q)), org, q)
}

// usageView reads the view a usage page's query string selects:
//
//	range     a preset (7d, 30d, 90d, cycle, previous_cycle) or "custom"; default 30d
//	from, to  the days of a custom range (YYYY-MM-DD, org time zone, both included)
//	interval  day, week or month; default day
//	groupBy   type, flow or user; default type
//
// The form without JavaScript always sends the dates it shows, so dates that differ from what
// the preset covers are dates someone typed: they make the range custom. A custom range with
// only from ends today; with only to it is the 30 days up to it (as in the API). The filters
// come back as given, to fill the form again when the query cannot be used.
func (h *Pages) usageView(ctx context.Context, org string, params url.Values) (views.UsageFilters, reports.Query, error) {
	f := views.UsageFilters{
		Range: params.Get("range"), From: params.Get("from"), To: params.Get("to"),
		Interval: params.Get("interval"), GroupBy: params.Get("groupBy"),
	}
	if f.Interval == "" {
		f.Interval = string(reports.IntervalDay)
	}
	if f.GroupBy == "" {
		f.GroupBy = string(reports.GroupByType)
	}
	q := reports.Query{Interval: reports.Interval(f.Interval), GroupBy: reports.GroupBy(f.GroupBy)}
	if !slices.Contains(reports.Intervals, q.Interval) {
		return f, q, billing.Errorf(billing.EINVALID, "the interval %q is not one of daily, weekly or monthly: choose one above", f.Interval)
	}
	if !slices.Contains(reports.GroupBys, q.GroupBy) {
		return f, q, billing.Errorf(billing.EINVALID, "usage cannot be grouped by %q: group it by integration, flow or member above", f.GroupBy)
	}
	if f.Range != "" && f.Range != rangeCustom && !slices.Contains(reports.RangePresets, reports.RangePreset(f.Range)) {
		return f, q, billing.Errorf(billing.EINVALID, "the range %q is not one of the ranges offered: choose one above, or a custom range", f.Range)
	}
	date := func(name, s string) (reports.Date, error) {
		if s == "" {
			return reports.Date{}, nil
		}
		d, err := reports.ParseDate(s)
		if err != nil {
			return d, billing.Errorf(billing.EINVALID, "the %s date: %s", name, billing.ErrorMessage(err))
		}
		return d, nil
	}
	from, err := date("start", f.From)
	if err != nil {
		return f, q, err
	}
	to, err := date("end", f.To)
	if err != nil {
		return f, q, err
	}
	if f.Range == "" {
		f.Range = string(reports.DefaultRange)
		if !from.IsZero() || !to.IsZero() {
			f.Range = rangeCustom
		}
	}
	if f.Range != rangeCustom {
		pf, pt, err := h.Reports.ResolveRange(ctx, org, reports.RangePreset(f.Range), reports.Date{}, reports.Date{})
		if err != nil {
			return f, q, err
		}
		if (from.IsZero() || from == pf) && (to.IsZero() || to == pt) {
			q.From, q.To = pf, pt
			f.From, f.To = pf.String(), pt.String()
			q, err = q.Normalize()
			return f, q, err
		}
		f.Range = rangeCustom // dates were typed over the preset's
	}
	if from.IsZero() && to.IsZero() {
		return f, q, billing.Errorf(billing.EINVALID, "a custom range needs a start and an end date")
	}
	if from, to, err = h.Reports.ResolveRange(ctx, org, "", from, to); err != nil {
		return f, q, err
	}
	q.From, q.To = from, to
	f.From, f.To = from.String(), to.String()
	q, err = q.Normalize()
	return f, q, err
}

// csvDownload is where a CSV download is written: the response, with the headers of an
// attachment named name sent with the first bytes. Until something is written nothing is sent,
// so an error found first (a bad query, an unknown execution) still gets its error page. Each
// write is flushed: the rows reach the browser as they are read, never held in memory.
func csvDownload(c echo.Context, name string) *downloadWriter {
	return &downloadWriter{res: c.Response(), name: name}
}

type downloadWriter struct {
	res     *echo.Response
	name    string
	started bool
}

func (w *downloadWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.res.Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		w.res.WriteHeader(http.StatusOK)
	}
	// The server's WriteTimeout bounds a whole answer; a long download moves its deadline on
	// with every chunk instead, so only a client that stops reading is cut off.
	_ = http.NewResponseController(w.res).SetWriteDeadline(time.Now().Add(StreamDeadline))
	n, err := w.res.Write(p)
	if err == nil {
		w.res.Flush()
	}
	return n, err
}

// StreamDeadline is how long a streamed download may take to send one chunk.
const StreamDeadline = 30 * time.Second

// wantsFragment reports whether the request wants only the part of the page it swaps: an htmx
// request, except htmx restoring a page missing from its history cache, which wants it whole.
func wantsFragment(c echo.Context) bool {
	return IsHTMX(c) && c.Request().Header.Get("HX-History-Restore-Request") != "true"
}
