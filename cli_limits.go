package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

type limitsCmd struct {
	MonthlyLimit string `name:"monthly-limit" placeholder:"CREDITS|none" help:"Set the organization's monthly credit limit, or none (admins)."`
	Thresholds   string `placeholder:"50,80,100" help:"Set the alert thresholds, in percent of the monthly limit (admins)."`
	LowBalance   string `name:"low-balance" placeholder:"CREDITS|none" help:"Alert when the balance falls to this many credits, or none (admins)."`
	Member       string `placeholder:"EMAIL|USER_ID" help:"The member whose own limit --member-limit sets (admins)."`
	MemberLimit  string `name:"member-limit" placeholder:"CREDITS|none" help:"Set --member's monthly credit limit, or none (admins)."`
	JSON         bool   `name:"json" help:"Print the API's JSON."`
}

// Run shows the limits, or with any setting flag changes them (an admin's key) and shows the
// result.
func (cmd limitsCmd) Run(ctx context.Context, c *Config) error {
	return cmd.run(ctx, c, os.Stdout, stdoutStyle())
}

func (cmd limitsCmd) run(ctx context.Context, c *Config, w io.Writer, st style) error {
	change, err := cmd.orgChange()
	if err != nil {
		return err
	}
	if (cmd.Member == "") != (cmd.MemberLimit == "") {
		return usageErrorf("--member and --member-limit go together, e.g. --member dev@example.com --member-limit 20000")
	}
	var memberLimit any
	if cmd.MemberLimit != "" {
		if memberLimit, err = creditsOrNone("--member-limit", cmd.MemberLimit); err != nil {
			return err
		}
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	var warnings []string
	if len(change) > 0 {
		body, err := cl.do(ctx, http.MethodPut, "/api/v1/limits", change)
		if err != nil {
			return err
		}
		warnings = append(warnings, limitWarnings(body)...)
	}
	if cmd.Member != "" {
		id, err := cmd.memberID(ctx, cl)
		if err != nil {
			return err
		}
		body, err := cl.do(ctx, http.MethodPut, "/api/v1/limits/members/"+url.PathEscape(id), map[string]any{"monthlyLimit": memberLimit})
		if err != nil {
			return err
		}
		warnings = append(warnings, limitWarnings(body)...)
	}
	body, err := cl.do(ctx, http.MethodGet, "/api/v1/limits", nil)
	if err != nil {
		return err
	}
	if cmd.JSON {
		_, err := w.Write(append(body, '\n'))
		return err
	}
	var l api.Limits
	if err := json.Unmarshal(body, &l); err != nil {
		return fmt.Errorf("unexpected answer from the API: %w", err)
	}
	if len(change) > 0 || cmd.Member != "" {
		fmt.Fprintln(w, st.green("✓")+" Limits saved.")
		for _, m := range warnings {
			fmt.Fprintln(w, st.yellow("!")+" "+m)
		}
		fmt.Fprintln(w)
	}
	printLimits(w, &l, st)
	return nil
}

// orgChange is the body of PUT /api/v1/limits from the flags; empty when none is given.
func (cmd limitsCmd) orgChange() (map[string]any, error) {
	change := map[string]any{}
	var err error
	if cmd.MonthlyLimit != "" {
		if change["monthlyLimit"], err = creditsOrNone("--monthly-limit", cmd.MonthlyLimit); err != nil {
			return nil, err
		}
	}
	if cmd.LowBalance != "" {
		if change["lowBalance"], err = creditsOrNone("--low-balance", cmd.LowBalance); err != nil {
			return nil, err
		}
	}
	if cmd.Thresholds != "" {
		var ps []int
		for _, f := range strings.Split(cmd.Thresholds, ",") {
			p, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(f), "%"))
			if err != nil {
				return nil, usageErrorf("--thresholds %s: write whole percents separated by commas, e.g. --thresholds 50,80,100", cmd.Thresholds)
			}
			ps = append(ps, p)
		}
		change["thresholds"] = ps
	}
	return change, nil
}

// creditsOrNone reads an amount of credits ("150000", "1,500.5") or "none" (null: no limit).
func creditsOrNone(flag, s string) (any, error) {
	if v := strings.ToLower(strings.TrimSpace(s)); v == "none" || v == "off" {
		return nil, nil
	}
	m, err := billing.ParseCredits(s)
	if err != nil {
		return nil, usageErrorf("%s %s: %s, or none", flag, s, billing.ErrorMessage(err))
	}
	return m, nil
}

// memberID finds --member among the organization's members by email or id.
func (cmd limitsCmd) memberID(ctx context.Context, cl *apiClient) (string, error) {
	if !strings.Contains(cmd.Member, "@") {
		return cmd.Member, nil
	}
	body, err := cl.do(ctx, http.MethodGet, "/api/v1/limits", nil)
	if err != nil {
		return "", err
	}
	var l api.Limits
	if err := json.Unmarshal(body, &l); err != nil {
		return "", fmt.Errorf("unexpected answer from the API: %w", err)
	}
	for _, m := range l.Members {
		if strings.EqualFold(m.Email, cmd.Member) {
			return m.UserID, nil
		}
	}
	return "", usageErrorf("--member %s: no member of this organization has that email (see lux limits)", cmd.Member)
}

func limitWarnings(body []byte) []string {
	var l api.Limits
	_ = json.Unmarshal(body, &l)
	var out []string
	for _, w := range l.Warnings {
		out = append(out, w.Message)
	}
	return out
}

// printLimits prints the organization's limits, then its members' own.
func printLimits(w io.Writer, l *api.Limits, st style) {
	credits := func(m *billing.Millicredits) string {
		if m == nil {
			return "none"
		}
		return m.String() + " credits"
	}
	var ps []string
	for _, p := range l.Thresholds {
		ps = append(ps, strconv.Itoa(p)+"%")
	}
	thresholds := "none"
	if len(ps) > 0 {
		thresholds = strings.Join(ps, ", ") + " of the monthly limit"
	}
	rows := [][]string{
		{"Monthly limit", credits(l.MonthlyLimit)},
		{"Alerts at", thresholds},
		{"Low-balance alert", credits(l.LowBalance)},
		{"Used this cycle", l.CycleUsed.String() + " credits"},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-18s %s\n", r[0], r[1])
	}
	if len(l.Members) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, st.bold("Members"))
	table := [][]string{{"Member", "Role", "Used this cycle", "Own limit"}}
	for _, m := range l.Members {
		table = append(table, []string{m.Email, m.Role, m.Used.String(), credits(m.MonthlyLimit)})
	}
	writeAlignedTable(w, table, 0, 2)
}
