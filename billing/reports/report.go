package reports

import (
	"context"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/luxstudio/lux-billing/billing"
)

// Interval is the width of a report's buckets.
type Interval string

// Report intervals. Weeks start on Monday; months are calendar months. Both are cut in the
// organization's time zone, like the days they are made of.
const (
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
)

// Intervals lists the intervals in display order.
var Intervals = []Interval{IntervalDay, IntervalWeek, IntervalMonth}

// GroupBy is what a report splits usage by.
type GroupBy string

// Report groupings: the usage type (AI, email, SMS, ...), the flow, or the member whose flow
// used the credits.
const (
	GroupByType GroupBy = "type"
	GroupByFlow GroupBy = "flow"
	GroupByUser GroupBy = "user"
)

// GroupBys lists the groupings in display order.
var GroupBys = []GroupBy{GroupByType, GroupByFlow, GroupByUser}

// Report limits.
const (
	MaxReportDays   = 400 // days in a report's range, both ends included
	DefaultTopFlows = 5   // flows in Report.TopFlows unless Query.TopFlows says otherwise
	MaxTopFlows     = 100
)

// Query selects a usage report. From and To are days in the organization's time zone,
// both included: {From: 2026-03-01, To: 2026-03-31} is the whole of March. The filters are
// optional ("" means all) and combine with AND.
type Query struct {
	From, To Date
	Interval Interval // "" means day
	GroupBy  GroupBy  // "" means type
	FlowID   string   // only this flow's usage
	UserID   string   // only this member's usage
	Type     string   // only this usage type ("ai", "email", ...)
	TopFlows int      // how many flows Report.TopFlows lists: 0 means DefaultTopFlows, at most MaxTopFlows
}

// Normalize applies the defaults and checks the query. The error is EINVALID and says what to
// fix: a missing date, to before from, a range over MaxReportDays, an unknown interval or
// grouping.
func (q Query) Normalize() (Query, error) {
	if q.Interval == "" {
		q.Interval = IntervalDay
	}
	if q.GroupBy == "" {
		q.GroupBy = GroupByType
	}
	if q.TopFlows == 0 {
		q.TopFlows = DefaultTopFlows
	}
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return q, billing.Errorf(billing.EINVALID, "a report needs both a start and an end date (YYYY-MM-DD)")
	case q.To.Before(q.From):
		return q, billing.Errorf(billing.EINVALID, "the end date %s is before the start date %s: swap them", q.To, q.From)
	case q.From.DaysUntil(q.To)+1 > MaxReportDays:
		return q, billing.Errorf(billing.EINVALID, "%s to %s is %d days; a report covers at most %d days: shorten the range",
			q.From, q.To, q.From.DaysUntil(q.To)+1, MaxReportDays)
	case q.From.Year() < 2000 || q.To.Year() > 9999:
		return q, billing.Errorf(billing.EINVALID, "dates must be between the years 2000 and 9999")
	}
	if !validInterval(q.Interval) {
		return q, billing.Errorf(billing.EINVALID, "interval %q is not one of day, week or month", q.Interval)
	}
	if !validGroupBy(q.GroupBy) {
		return q, billing.Errorf(billing.EINVALID, "groupBy %q is not one of type, flow or user", q.GroupBy)
	}
	if q.TopFlows < 0 || q.TopFlows > MaxTopFlows {
		return q, billing.Errorf(billing.EINVALID, "top flows must be between 1 and %d (got %d)", MaxTopFlows, q.TopFlows)
	}
	if q.Type != "" && !slices.Contains(billing.Types, q.Type) {
		return q, billing.Errorf(billing.EINVALID, "type %q is not one of %s", q.Type, strings.Join(billing.Types, ", "))
	}
	for _, f := range []struct{ name, v string }{{"flow", q.FlowID}, {"user", q.UserID}, {"type", q.Type}} {
		if len(f.v) > billing.MaxIDLength {
			return q, billing.Errorf(billing.EINVALID, "the %s filter is %d characters long; the most is %d", f.name, len(f.v), billing.MaxIDLength)
		}
	}
	return q, nil
}

func validInterval(i Interval) bool {
	for _, v := range Intervals {
		if v == i {
			return true
		}
	}
	return false
}

func validGroupBy(g GroupBy) bool {
	for _, v := range GroupBys {
		if v == g {
			return true
		}
	}
	return false
}

// BucketStart returns the first day of the bucket of width i that contains d: d itself for a
// day, the Monday on or before d for a week, the 1st of d's month for a month.
func BucketStart(d Date, i Interval) Date {
	switch i {
	case IntervalWeek:
		back := (int(d.Weekday()) + 6) % 7 // days since Monday
		return d.AddDays(-back)
	case IntervalMonth:
		return NewDate(d.Year(), d.Month(), 1)
	}
	return d
}

// nextBucket returns the first day of the bucket after the one starting at start.
func nextBucket(start Date, i Interval) Date {
	switch i {
	case IntervalWeek:
		return start.AddDays(7)
	case IntervalMonth:
		return start.addMonthsTo1st(1)
	}
	return start.AddDays(1)
}

// UsageSum is an amount of usage: credits in millicredits, quantity in the usage type's units
// (tokens, emails, messages, seconds, characters; summed across types when a group spans
// several, so only meaningful per type) and the number of events.
type UsageSum struct {
	Credits  billing.Millicredits
	Quantity int64
	Events   int64
}

func (u *UsageSum) add(v UsageSum) {
	u.Credits += v.Credits
	u.Quantity += v.Quantity
	u.Events += v.Events
}

// Bucket is one period of a report.
type Bucket struct {
	// Start is the first day of the period: the day, the week's Monday or the month's 1st. It
	// may be before the report's From (the first week or month can be partial).
	Start Date
	// From and To are the days of the period inside the report's range, both included; they
	// differ from the whole period only for the first and last buckets (Partial).
	From, To Date
	Partial  bool
	Total    UsageSum // all groups
}

// Group is one group of a report (a type, a flow or a member) with its series.
type Group struct {
	Key    string     // the type ("ai"), flow id or user id
	Label  string     // for people: "AI", the flow's name (else its id), the member's name (else email, else id)
	Detail string     // secondary text: a named flow's id, a named member's email; "" otherwise
	Total  UsageSum   // over the whole range
	Series []UsageSum // one per bucket, aligned with Report.Buckets; zero where there was no usage
}

// FlowTotal is a flow's usage over a report's range.
type FlowTotal struct {
	FlowID string
	Name   string // the flow's name, else its id
	UsageSum
}

// Report is usage over a range of days, in buckets, split into groups. Every figure comes
// from the daily rollup (usage_daily), which is cut in the organization's time zone.
type Report struct {
	Query    Query    // as normalised: defaults applied
	Timezone string   // the organization's IANA zone, in which days are cut
	Buckets  []Bucket // every period of the range in order, with or without usage
	Groups   []Group
	Total    UsageSum // the whole range, all groups
	// TopFlows are the flows that used most credits in the range (within the filters), most
	// first, at most Query.TopFlows of them.
	TopFlows []FlowTotal
}

// reportParams are the named parameters of select-report and select-report-cells.
type reportParams struct {
	Org      string   `db:"org"`
	From     Date     `db:"from"`
	To       Date     `db:"to"`
	Interval Interval `db:"interval"`
	GroupBy  GroupBy  `db:"group_by"`
	Flow     string   `db:"flow"`
	User     string   `db:"user"`
	Type     string   `db:"type"`
	First    Date     `db:"first"` // start of the first bucket
}

func newReportParams(orgID string, q Query) reportParams {
	return reportParams{Org: orgID, From: q.From, To: q.To, Interval: q.Interval, GroupBy: q.GroupBy,
		Flow: q.FlowID, User: q.UserID, Type: q.Type, First: BucketStart(q.From, q.Interval)}
}

// reportCell is one row of select-report or select-report-cells.
type reportCell struct {
	Key      string
	Label    string
	Credits  billing.Millicredits
	Quantity int64
	Events   int64
}

func (c *reportCell) sum() UsageSum {
	return UsageSum{Credits: c.Credits, Quantity: c.Quantity, Events: c.Events}
}

// orgZone is the organization's time zone and cycle anchor.
type orgZone struct {
	Timezone string    `db:"timezone"`
	Anchor   time.Time `db:"cycle_anchor"`
}

func (s *Service) orgZone(ctx context.Context, orgID string) (*orgZone, *time.Location, error) {
	var z orgZone
	if err := s.store.DB().GetContext(ctx, &z, queries.SelectOrgZone, orgID); err != nil {
		return nil, nil, billing.NotFound(err, "organization not found", "select org zone")
	}
	return &z, s.store.Location(z.Timezone), nil
}

// UsageReport returns an organization's usage over q's range (org-local days, both ends
// included) in buckets of q.Interval, split by q.GroupBy, with totals per group, per bucket and
// overall, and the top flows. It reads only the daily rollup, so its cost depends on the number
// of days, flows, members and types, not on the number of events: one read of the rollup rows
// in the range serves the cells and the top flows. Groups are ordered by credits, most first
// (then by key); a group appears when it has usage in the range. An invalid query is EINVALID;
// an unknown organization ENOTFOUND.
func (s *Service) UsageReport(ctx context.Context, orgID string, q Query) (*Report, error) {
	q, err := q.Normalize()
	if err != nil {
		return nil, err
	}
	z, _, err := s.orgZone(ctx, orgID)
	if err != nil {
		return nil, err
	}
	r := &Report{Query: q, Timezone: z.Timezone, Buckets: reportBuckets(q)}
	first := r.Buckets[0].Start
	// A cell's bucket comes as days since the first bucket's start.
	position := func(days int) (int, bool) {
		var i int
		switch q.Interval {
		case IntervalDay:
			i = days
		case IntervalWeek:
			i = days / 7
		default:
			d := first.AddDays(days)
			i = (d.Year()-first.Year())*12 + int(d.Month()-first.Month())
		}
		return i, i >= 0 && i < len(r.Buckets) && first.DaysUntil(r.Buckets[i].Start) == days
	}
	stmt, err := s.store.NamedStmt(ctx, queries.SelectReport)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.QueryxContext(ctx, newReportParams(orgID, q))
	if err != nil {
		return nil, fmt.Errorf("billing: usage report: %w", err)
	}
	defer rows.Close()
	groups := map[string]*Group{}
	var flows []FlowTotal
	for rows.Next() {
		var c reportCell
		var cell bool
		var days *int
		if err := rows.Scan(&cell, &days, &c.Key, &c.Credits, &c.Quantity, &c.Events); err != nil {
			return nil, fmt.Errorf("billing: usage report: %w", err)
		}
		if !cell {
			flows = append(flows, FlowTotal{FlowID: c.Key, Name: c.Key, UsageSum: c.sum()})
			continue
		}
		if days == nil {
			return nil, fmt.Errorf("billing: usage report: a cell without a bucket")
		}
		i, ok := position(*days)
		if !ok {
			return nil, fmt.Errorf("billing: usage report: bucket %s outside the range", first.AddDays(*days))
		}
		g := groups[c.Key]
		if g == nil {
			g = &Group{Key: c.Key, Label: c.Key, Series: make([]UsageSum, len(r.Buckets))}
			groups[c.Key] = g
		}
		v := c.sum()
		g.Series[i].add(v)
		g.Total.add(v)
		r.Buckets[i].Total.add(v)
		r.Total.add(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("billing: usage report: %w", err)
	}
	rows.Close()

	r.Groups = make([]Group, 0, len(groups))
	for _, g := range groups {
		r.Groups = append(r.Groups, *g)
	}
	sort.Slice(r.Groups, func(i, j int) bool {
		a, b := &r.Groups[i], &r.Groups[j]
		if a.Total.Credits != b.Total.Credits {
			return a.Total.Credits > b.Total.Credits
		}
		return a.Key < b.Key
	})
	sort.Slice(flows, func(i, j int) bool {
		if flows[i].Credits != flows[j].Credits {
			return flows[i].Credits > flows[j].Credits
		}
		return flows[i].FlowID < flows[j].FlowID
	})
	r.TopFlows = flows[:min(len(flows), q.TopFlows)]
	if r.TopFlows == nil {
		r.TopFlows = []FlowTotal{}
	}
	if err := s.labelReport(ctx, orgID, r); err != nil {
		return nil, err
	}
	return r, nil
}

// reportBuckets lists every bucket of q's range, the edges clipped to the range.
func reportBuckets(q Query) []Bucket {
	var out []Bucket
	for start := BucketStart(q.From, q.Interval); !start.After(q.To); start = nextBucket(start, q.Interval) {
		b := Bucket{Start: start, From: start, To: nextBucket(start, q.Interval).AddDays(-1)}
		if b.From.Before(q.From) {
			b.From, b.Partial = q.From, true
		}
		if b.To.After(q.To) {
			b.To, b.Partial = q.To, true
		}
		out = append(out, b)
	}
	return out
}

// CSVHeader is the header row of WriteReportCSV.
var CSVHeader = []string{"period_start", "group_key", "group_label", "credits", "quantity", "events"}

// WriteReportCSV writes the cells of the report q selects to w as CSV: a header
// (CSVHeader), then one row per bucket and group with usage, ordered by bucket then group
// key. Credits are decimals with up to three places ("7.66"); quantity and events are whole
// numbers; period_start is the bucket's first day (YYYY-MM-DD, org-local). Buckets and groups
// without usage have no row. The numbers are those of UsageReport for the same query. Rows are
// streamed from the database as they are read, never held in memory. A bad query is EINVALID
// and nothing is written.
func (s *Service) WriteReportCSV(ctx context.Context, w io.Writer, orgID string, q Query) error {
	q, err := q.Normalize()
	if err != nil {
		return err
	}
	if _, _, err := s.orgZone(ctx, orgID); err != nil {
		return err
	}
	// Planned with its values (not prepared): the generic plan of this query sorts the rollup
	// rows by text keys and looks labels up row by row.
	rows, err := sqlx.NamedQueryContext(ctx, s.store.DB(), queries.SelectReportCells, newReportParams(orgID, q))
	if err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	defer rows.Close()
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	for rows.Next() {
		var c reportCell
		var bucket string
		if err := rows.Scan(&bucket, &c.Key, &c.Label, &c.Credits, &c.Quantity, &c.Events); err != nil {
			return fmt.Errorf("billing: report csv: %w", err)
		}
		if q.GroupBy == GroupByType {
			c.Label = billing.TypeLabel(c.Key)
		}
		rec[0], rec[1], rec[2] = bucket, billing.CSVText(c.Key), billing.CSVText(c.Label)
		rec[3], rec[4], rec[5] = c.Credits.Decimal(), strconv.FormatInt(c.Quantity, 10), strconv.FormatInt(c.Events, 10)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	cw.Flush()
	return cw.Error()
}

// CSVFilename is a download name for the CSV of q, e.g.
// "lux-usage-2026-03-01-to-2026-03-31-by-flow-per-week.csv".
func CSVFilename(q Query) string {
	if n, err := q.Normalize(); err == nil {
		q = n
	}
	return fmt.Sprintf("lux-usage-%s-to-%s-by-%s-per-%s.csv", q.From, q.To, q.GroupBy, q.Interval)
}
