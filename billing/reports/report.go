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
// from the daily rollups (usage_daily, usage_flow_daily), cut in the organization's time zone.
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
	// The per-flow rollups' ranges: the full weeks WeekFrom to WeekTo (Mondays) from the weekly
	// one, the days From to DaysTo and DaysFrom to To from the daily one.
	WeekFrom Date `db:"week_from"`
	WeekTo   Date `db:"week_to"`
	DaysTo   Date `db:"days_to"`
	DaysFrom Date `db:"days_from"`
}

// newReportParams are q's parameters. weeks: the per-flow rollups' rows may come from the
// weekly one (full weeks inside the range), which a report's cells can use only by week.
func newReportParams(orgID string, q Query, weeks bool) reportParams {
	p := reportParams{Org: orgID, From: q.From, To: q.To, Interval: q.Interval, GroupBy: q.GroupBy,
		Flow: q.FlowID, User: q.UserID, Type: q.Type, First: BucketStart(q.From, q.Interval)}
	// No weeks: an empty range of them, and all days in the first range.
	p.WeekFrom, p.WeekTo, p.DaysTo, p.DaysFrom = q.To, q.From.AddDays(-1), q.To, q.To.AddDays(1)
	if weeks {
		// The first Monday on or after From, the last Monday whose Sunday is on or before To.
		first, last := BucketStart(q.From.AddDays(6), IntervalWeek), BucketStart(q.To.AddDays(-6), IntervalWeek)
		if !first.After(last) {
			p.WeekFrom, p.WeekTo, p.DaysTo, p.DaysFrom = first, last, first.AddDays(-1), last.AddDays(7)
		}
	}
	return p
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
// overall, and the top flows. It reads only the rollups (see queryReport), so its cost depends
// on the number of days, flows, members and types, not on the number of events: one query
// serves the cells and the top flows. Groups are ordered by credits, most first
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
	// A row's bucket comes as days since the first bucket's start: the bucket's start, or (from
	// the per-flow rollups) a day or week inside it.
	position := func(days int) (int, bool) {
		d := first.AddDays(days)
		var i int
		switch q.Interval {
		case IntervalDay:
			i = days
		case IntervalWeek:
			i = days / 7
		default:
			i = (d.Year()-first.Year())*12 + int(d.Month()-first.Month())
		}
		ok := days >= 0 && i >= 0 && i < len(r.Buckets) && !d.Before(r.Buckets[i].Start) && !d.After(r.Buckets[i].To)
		return i, ok
	}
	rows, err := s.queryReport(ctx, orgID, q)
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
	if q.GroupBy == GroupByFlow && flows == nil {
		// Read from the per-flow rollup: the top flows are the groups.
		for _, g := range groups {
			flows = append(flows, FlowTotal{FlowID: g.Key, Name: g.Key, UsageSum: g.Total})
		}
	}

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

// byFlowRollup tells whether q can be answered from the per-flow rollup (usage_flow_daily),
// which has no member, type or model: whether it filters neither by member nor by type.
func byFlowRollup(q Query) bool { return q.UserID == "" && q.Type == "" }

// queryReport runs the query that reads q's cells and flow totals with the fewest rollup
// rows: grouped by flow, the per-flow rollups alone, unaggregated (a hash aggregate of a row
// per cell costs more than the caller's sums); by type or member, the daily rollup for the
// cells and the per-flow rollups for the flows; filtered by member or type, the daily rollup
// for both (select-report, prepared: its generic plan is a range scan of the primary key into
// a hash aggregate, which costs less than planning it each time). The first two are planned
// with their values, so that their CASEs fold.
func (s *Service) queryReport(ctx context.Context, orgID string, q Query) (*sqlx.Rows, error) {
	switch {
	case byFlowRollup(q) && q.GroupBy == GroupByFlow:
		p := newReportParams(orgID, q, q.Interval == IntervalWeek)
		return sqlx.NamedQueryContext(ctx, s.store.DB(), queries.SelectReportByFlow, p)
	case byFlowRollup(q):
		// The flow totals do not care about buckets: full weeks whatever the interval.
		return sqlx.NamedQueryContext(ctx, s.store.DB(), queries.SelectReportAndFlows, newReportParams(orgID, q, true))
	}
	p := newReportParams(orgID, q, false)
	stmt, err := s.store.NamedStmt(ctx, queries.SelectReport)
	if err != nil {
		return nil, err
	}
	return stmt.QueryxContext(ctx, p)
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
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	rec := make([]string, len(CSVHeader))
	write := func(bucket string, c *reportCell) error {
		rec[0], rec[1], rec[2] = bucket, billing.CSVText(c.Key), billing.CSVText(c.Label)
		rec[3], rec[4], rec[5] = c.Credits.Decimal(), strconv.FormatInt(c.Quantity, 10), strconv.FormatInt(c.Events, 10)
		return cw.Write(rec)
	}
	if byFlowRollup(q) && q.GroupBy == GroupByFlow {
		err = s.writeFlowCells(ctx, orgID, q, write)
	} else {
		err = s.writeCells(ctx, orgID, q, write)
	}
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// writeCells writes the cells of select-report-cells (labelled, ordered) in turn.
func (s *Service) writeCells(ctx context.Context, orgID string, q Query, write func(string, *reportCell) error) error {
	// Planned with its values (not prepared): the generic plan of this query sorts the rollup
	// rows by text keys and looks labels up row by row.
	rows, err := sqlx.NamedQueryContext(ctx, s.store.DB(), queries.SelectReportCells, newReportParams(orgID, q, false))
	if err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c reportCell
		var bucket string
		if err := rows.Scan(&bucket, &c.Key, &c.Label, &c.Credits, &c.Quantity, &c.Events); err != nil {
			return fmt.Errorf("billing: report csv: %w", err)
		}
		if q.GroupBy == GroupByType {
			c.Label = billing.TypeLabel(c.Key)
		}
		if err := write(bucket, &c); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	return nil
}

// writeFlowCells writes the cells of a report grouped by flow from the per-flow rollups: their
// rows come ordered by bucket and flow, several for a cell when a bucket spans days, and are
// added up here; labels are the flows' names (else the id), read first.
func (s *Service) writeFlowCells(ctx context.Context, orgID string, q Query, write func(string, *reportCell) error) error {
	var flows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := s.store.DB().SelectContext(ctx, &flows, queries.SelectOrgFlowNames, orgID); err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	names := make(map[string]string, len(flows))
	for _, f := range flows {
		names[f.ID] = f.Name
	}
	rows, err := sqlx.NamedQueryContext(ctx, s.store.DB(), queries.SelectFlowCells, newReportParams(orgID, q, q.Interval == IntervalWeek))
	if err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	defer rows.Close()
	var cell reportCell
	var cellBucket, bucket, key string
	var n int
	for rows.Next() {
		var v reportCell
		if err := rows.Scan(&bucket, &key, &v.Credits, &v.Quantity, &v.Events); err != nil {
			return fmt.Errorf("billing: report csv: %w", err)
		}
		if n > 0 && (bucket != cellBucket || key != cell.Key) {
			if err := write(cellBucket, &cell); err != nil {
				return err
			}
			n = 0
		}
		if n == 0 {
			cellBucket, cell = bucket, reportCell{Key: key, Label: key}
			if name := names[key]; name != "" {
				cell.Label = name
			}
		}
		cell.Credits, cell.Quantity, cell.Events = cell.Credits+v.Credits, cell.Quantity+v.Quantity, cell.Events+v.Events
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("billing: report csv: %w", err)
	}
	if n > 0 {
		return write(cellBucket, &cell)
	}
	return nil
}

// CSVFilename is a download name for the CSV of q, e.g.
// "lux-usage-2026-03-01-to-2026-03-31-by-flow-per-week.csv".
func CSVFilename(q Query) string {
	if n, err := q.Normalize(); err == nil {
		q = n
	}
	return fmt.Sprintf("lux-usage-%s-to-%s-by-%s-per-%s.csv", q.From, q.To, q.GroupBy, q.Interval)
}
