package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

// maxUsageColumns is how many groups the period table shows side by side; the rest are summed
// into "Other".
const maxUsageColumns = 6

type usageCmd struct {
	From     string `help:"First day, YYYY-MM-DD (default: 30 days before --to)."`
	To       string `help:"Last day, YYYY-MM-DD, included (default: today)."`
	Range    string `help:"Instead of --from/--to: 7d, 30d, 90d, cycle or previous_cycle."`
	Interval string `default:"day" enum:"day,week,month" help:"Period of each row: day, week or month."`
	GroupBy  string `name:"group-by" default:"type" enum:"type,flow,user" help:"Split usage by type, flow or user."`
	Flow     string `help:"Only this flow's usage (a flow id)."`
	User     string `help:"Only this member's usage (a user id)."`
	Type     string `help:"Only this usage type (ai, email, sms, voice_call, voice_synthesis)."`
	JSON     bool   `name:"json" help:"Print the API's JSON." xor:"format"`
	CSV      bool   `name:"csv" help:"Print the report as CSV." xor:"format"`
}

// Run prints the usage report of the API key's organization.
func (cmd usageCmd) Run(ctx context.Context, c *Config) error {
	return cmd.run(ctx, c, os.Stdout)
}

func (cmd usageCmd) path() string {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("from", cmd.From)
	set("to", cmd.To)
	set("range", cmd.Range)
	set("interval", cmd.Interval)
	set("groupBy", cmd.GroupBy)
	set("flowId", cmd.Flow)
	set("userId", cmd.User)
	set("type", cmd.Type)
	if cmd.CSV {
		v.Set("format", "csv")
	}
	return "/api/v1/usage?" + v.Encode()
}

func (cmd usageCmd) run(ctx context.Context, c *Config, w io.Writer) error {
	body, err := c.apiGet(ctx, cmd.path())
	if err != nil {
		return err
	}
	if cmd.JSON || cmd.CSV {
		if cmd.JSON {
			body = append(body, '\n')
		}
		_, err := w.Write(body)
		return err
	}
	var u api.Usage
	if err := json.Unmarshal(body, &u); err != nil {
		return fmt.Errorf("unexpected answer from the API: %w", err)
	}
	printUsage(w, &u)
	return nil
}

// printUsage prints a report as two tables: credits per period and group, then each group's
// totals and share.
func printUsage(w io.Writer, u *api.Usage) {
	groupName := map[string]string{"type": "Type", "flow": "Flow", "user": "Member"}[u.GroupBy]
	fmt.Fprintf(w, "Usage %s – %s by %s, per %s (%s), in credits\n", u.From, u.To, strings.ToLower(groupName), u.Interval, u.Timezone)
	if filters := usageFilters(u.Filters); filters != "" {
		fmt.Fprintf(w, "Only %s\n", filters)
	}
	fmt.Fprintln(w)
	if len(u.Groups) == 0 {
		fmt.Fprintln(w, "No usage in this range.")
		return
	}

	// Credits per period: one column per group, the smallest beyond maxUsageColumns as Other.
	shown := u.Groups
	other := false
	if len(shown) > maxUsageColumns {
		shown, other = shown[:maxUsageColumns-1], true
	}
	period := map[string]string{"day": "Day", "week": "Week of", "month": "Month"}[u.Interval]
	head := []string{period}
	for _, g := range shown {
		head = append(head, g.Label)
	}
	if other {
		head = append(head, "Other")
	}
	head = append(head, "Total")
	rows := [][]string{head}
	partial := false
	for i, b := range u.Buckets {
		label := b.Start.String()
		if u.Interval == "month" {
			label = b.Start.Format("Jan 2006")
		}
		if b.Partial {
			label += "*"
			partial = true
		}
		row := []string{label}
		var rest billing.Millicredits
		for j, g := range u.Groups {
			if j < len(shown) {
				row = append(row, g.Credits[i].String())
			} else {
				rest += g.Credits[i]
			}
		}
		if other {
			row = append(row, rest.String())
		}
		rows = append(rows, append(row, b.Credits.String()))
	}
	total := []string{"Total"}
	var rest billing.Millicredits
	for j, g := range u.Groups {
		if j < len(shown) {
			total = append(total, g.Total.Credits.String())
		} else {
			rest += g.Total.Credits
		}
	}
	if other {
		total = append(total, rest.String())
	}
	rows = append(rows, append(total, u.Total.Credits.String()))
	writeTable(w, rows, len(rows)-1)
	if partial {
		fmt.Fprintln(w, "\n* the range covers only part of this period.")
	}

	// Totals per group.
	fmt.Fprintln(w)
	rows = [][]string{{groupName, "Credits", "Share", "Quantity", "Events"}}
	for _, g := range u.Groups {
		name := g.Label
		if g.Detail != "" {
			name += " (" + g.Detail + ")"
		}
		rows = append(rows, []string{name, g.Total.Credits.String(), share(g.Total.Credits, u.Total.Credits),
			billing.Thousands(g.Total.Quantity), billing.Thousands(g.Total.Events)})
	}
	rows = append(rows, []string{"Total", u.Total.Credits.String(), "100%", "", billing.Thousands(u.Total.Events)})
	writeTable(w, rows, len(rows)-1)
	if u.GroupBy != "type" {
		fmt.Fprintln(w, "\nQuantity adds up units of different kinds (tokens, emails, seconds...): compare it within one type.")
	}
}

func usageFilters(f api.UsageFilters) string {
	var parts []string
	if f.FlowID != "" {
		parts = append(parts, "flow "+f.FlowID)
	}
	if f.UserID != "" {
		parts = append(parts, "member "+f.UserID)
	}
	if f.Type != "" {
		parts = append(parts, "type "+billing.TypeLabel(f.Type))
	}
	return strings.Join(parts, ", ")
}

// share formats part/whole as a percentage with one decimal, by integer arithmetic.
func share(part, whole billing.Millicredits) string {
	if whole <= 0 {
		return "—"
	}
	tenths := (int64(part)*1000 + int64(whole)/2) / int64(whole)
	return fmt.Sprintf("%d.%d%%", tenths/10, tenths%10)
}

// writeTable prints rows with the first column left-aligned and the others right-aligned, a
// rule under the header and, when ruleBefore > 1, a rule before that row (the totals).
func writeTable(w io.Writer, rows [][]string, ruleBefore int) {
	writeAlignedTable(w, rows, ruleBefore, 1)
}

// writeAlignedTable is writeTable with the columns before firstRight left-aligned.
func writeAlignedTable(w io.Writer, rows [][]string, ruleBefore, firstRight int) {
	widths := map[int]int{}
	for _, r := range rows {
		for i, cell := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	rule := func() {
		var parts []string
		for i := range rows[0] {
			parts = append(parts, strings.Repeat("─", widths[i]))
		}
		fmt.Fprintln(w, strings.Join(parts, "  "))
	}
	for n, r := range rows {
		if n == 1 || (n == ruleBefore && ruleBefore > 1) {
			rule()
		}
		var parts []string
		for i, cell := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i < firstRight {
				parts = append(parts, cell+pad)
			} else {
				parts = append(parts, pad+cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, "  "), " "))
	}
}
