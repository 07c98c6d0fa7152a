package views

import (
	"net/url"
	"time"

	"github.com/luxstudio/lux-billing/billing/reports"
)

// Usage is the usage report page: the filter form, and either the report or why the query
// could not be used.
type Usage struct {
	Shell
	Filters  UsageFilters
	Error    string          // why the query could not be used (status 400); Report is nil then
	Report   *reports.Report // the view's report
	Forecast *reports.Forecast
	// NeverUsed is true when the organization has recorded no usage at all yet: the empty
	// state explains how usage starts rather than suggesting another range.
	NeverUsed bool
	Units     map[string]string // the unit of each usage type's quantity ("tokens")
	Now       time.Time
	Loc       *time.Location // the org's time zone: dates are shown in it
}

// UsageFilters is the state of the usage page's filter form: the view the query string
// selects, as given (so a form that could not be used comes back as it was typed).
type UsageFilters struct {
	Range    string // a reports.RangePreset or "custom"
	From, To string // YYYY-MM-DD: typed (custom) or the days the preset covers
	Interval string // day, week or month
	GroupBy  string // type, flow or user
}

// Custom reports whether the view's range is a custom one (its own from and to).
func (f UsageFilters) Custom() bool { return f.Range == "custom" }

// Query is the query string of the view: the range preset, or a custom range's dates, with
// the interval and grouping. A preset stays a preset, so a shared link keeps rolling.
func (f UsageFilters) Query() string {
	v := url.Values{}
	v.Set("range", f.Range)
	if f.Custom() {
		v.Set("from", f.From)
		v.Set("to", f.To)
	}
	v.Set("interval", f.Interval)
	v.Set("groupBy", f.GroupBy)
	return v.Encode()
}

// PinnedQuery is the query string of exactly the days the view shows now (a preset turned
// into its dates), for a download that must match the page.
func (f UsageFilters) PinnedQuery() string {
	v := url.Values{}
	v.Set("from", f.From)
	v.Set("to", f.To)
	v.Set("interval", f.Interval)
	v.Set("groupBy", f.GroupBy)
	return v.Encode()
}

// ExecutionsPerPage is how many executions the flow page lists at a time.
const ExecutionsPerPage = 25

// UsageFlow is the drill-down page of one flow: its usage by type over the range of the usage
// view it was opened from, and a page of its executions.
type UsageFlow struct {
	Shell
	FlowID   string
	FlowName string // "" when the flow has no name
	Filters  UsageFilters
	Summary  *reports.Report        // the flow's usage by type over the view's range
	Page     *reports.ExecutionPage // executions, newest first
	Cursor   string                 // the cursor this page was read at ("" for the newest)
	Names    reports.Names          // names of the flow and its members
	Now      time.Time
	Loc      *time.Location
}

// UsageExecution is the drill-down page of one execution: its credits by type and its events.
type UsageExecution struct {
	Shell
	Cost     *reports.ExecutionCost
	FlowName string
	Filters  UsageFilters
	Events   []UsageEventRow // in the order they happened
	Capped   bool            // Events stops at reports.MaxEventLimit: the CSV has them all
	Now      time.Time
	Loc      *time.Location
}

// UsageEventRow is one usage event with what the page says about it.
type UsageEventRow struct {
	Event  reports.RecordedEvent
	Member string // the member's name or email, else the user id
	Model  string // the model's name ("Claude Sonnet"), "" for types without models
	Unit   string // the unit of the quantity ("tokens"), "" when unknown
}
