package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/estimate"
)

type estimateCmd struct {
	AI             []string `name:"ai" sep:"none" placeholder:"MODEL:CALLSxTOKENS" help:"AI calls a month: the model, the calls and the tokens of each, e.g. claude-sonnet:10000x1500. Repeat for more models."`
	Email          []string `sep:"none" placeholder:"N" help:"Emails a month."`
	SMS            []string `name:"sms" sep:"none" placeholder:"N" help:"SMS messages a month."`
	VoiceMinutes   []string `name:"voice-minutes" sep:"none" placeholder:"N" help:"Minutes of voice calls a month."`
	Voice          []string `sep:"none" placeholder:"CALLSxLENGTH" help:"Voice calls a month and the length of each, e.g. 200x3m or 200x90s; each call is billed per started minute."`
	VoiceSynthesis []string `name:"voice-synthesis" sep:"none" placeholder:"CHARS|TIMESxCHARS" help:"Characters of synthesised speech a month, e.g. 50000, or times × characters, e.g. 300x1200."`
	JSON           bool     `name:"json" help:"Print the API's JSON."`
}

// cliLine is a line of the estimate and the flag it came from, to name it in errors.
type cliLine struct {
	flag string
	line api.EstimateLine
}

// Run prices the lines on the server (POST /api/v1/estimate) and prints them.
func (cmd estimateCmd) Run(ctx context.Context, c *Config) error {
	return cmd.run(ctx, c, os.Stdout, stdoutStyle())
}

func (cmd estimateCmd) run(ctx context.Context, c *Config, w io.Writer, st style) error {
	lines, err := cmd.lines()
	if err != nil {
		return err
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	req := api.EstimateRequest{Lines: make([]api.EstimateLine, len(lines))}
	for i, l := range lines {
		req.Lines[i] = l.line
	}
	body, err := cl.do(ctx, http.MethodPost, "/api/v1/estimate", req)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusBadRequest {
		return usageErrorf("%s", nameFlags(ae.raw, lines))
	}
	if err != nil {
		return err
	}
	if cmd.JSON {
		_, err := w.Write(append(body, '\n'))
		return err
	}
	var est api.CostEstimate
	if err := json.Unmarshal(body, &est); err != nil {
		return fmt.Errorf("unexpected answer from the API: %w", err)
	}
	printEstimate(w, &est, st)
	return nil
}

// lines turns the flags into lines of work, in the order of the flags' kinds. A malformed
// value is a usage error (exit 2) that shows the expected form.
func (cmd estimateCmd) lines() ([]cliLine, error) {
	var out []cliLine
	add := func(flag, v string, l api.EstimateLine) {
		out = append(out, cliLine{flag: flag + " " + v, line: l})
	}
	for _, v := range cmd.AI {
		model, amounts, ok := strings.Cut(v, ":")
		calls, tokens, err := pair(amounts, "tokens")
		if !ok || model == "" || err != nil {
			return nil, usageErrorf("--ai %s: write MODEL:CALLSxTOKENS, e.g. --ai claude-sonnet:10000x1500 (10,000 calls of 1,500 tokens)%s", v, because(err))
		}
		add("--ai", v, api.EstimateLine{Type: billing.TypeAI, Model: strings.TrimSpace(model), Count: calls, Quantity: tokens})
	}
	single := func(flag, typ string, vals []string) error {
		for _, v := range vals {
			n, err := estimate.ParseNumber(v, estimate.MaxCount)
			if err != nil {
				return usageErrorf("%s %s: %s", flag, v, billing.ErrorMessage(err))
			}
			add(flag, v, api.EstimateLine{Type: typ, Count: n, Quantity: 1})
		}
		return nil
	}
	if err := single("--email", billing.TypeEmail, cmd.Email); err != nil {
		return nil, err
	}
	if err := single("--sms", billing.TypeSMS, cmd.SMS); err != nil {
		return nil, err
	}
	for _, v := range cmd.VoiceMinutes {
		n, err := estimate.ParseNumber(v, estimate.MaxCount)
		if err != nil {
			return nil, usageErrorf("--voice-minutes %s: %s", v, billing.ErrorMessage(err))
		}
		add("--voice-minutes", v, api.EstimateLine{Type: billing.TypeVoiceCall, Count: n, Quantity: 60})
	}
	for _, v := range cmd.Voice {
		calls, length, ok := cutTimes(v)
		n, err := estimate.ParseNumber(calls, estimate.MaxCount)
		secs, derr := parseCallLength(length)
		if !ok || err != nil || derr != nil {
			return nil, usageErrorf("--voice %s: write CALLSxLENGTH, e.g. --voice 200x3m (200 calls of 3 minutes) or --voice 50x90s%s", v, because(errors.Join(err, derr)))
		}
		add("--voice", v, api.EstimateLine{Type: billing.TypeVoiceCall, Count: n, Quantity: secs})
	}
	for _, v := range cmd.VoiceSynthesis {
		times, chars := int64(1), int64(0)
		var err error
		if _, _, ok := cutTimes(v); ok {
			times, chars, err = pair(v, "characters")
		} else {
			chars, err = estimate.ParseNumber(v, estimate.MaxQuantity)
		}
		if err != nil {
			return nil, usageErrorf("--voice-synthesis %s: write CHARACTERS or TIMESxCHARACTERS, e.g. 50000 or 300x1200%s", v, because(err))
		}
		add("--voice-synthesis", v, api.EstimateLine{Type: billing.TypeVoiceSynthesis, Count: times, Quantity: chars})
	}
	if len(out) == 0 {
		return nil, usageErrorf("say what a month holds, e.g. lux estimate --ai claude-sonnet:10000x1500 --email 2000 --sms 500 --voice-minutes 120 (see lux estimate --help)")
	}
	return out, nil
}

// cutTimes splits "AxB" (x, X, × or *).
func cutTimes(s string) (a, b string, ok bool) {
	i := strings.IndexAny(s, "xX×*")
	if i < 0 {
		return s, "", false
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return s[:i], s[i+size:], true
}

// pair parses "COUNTxQUANTITY".
func pair(s, what string) (count, quantity int64, err error) {
	a, b, ok := cutTimes(s)
	if !ok {
		return 0, 0, fmt.Errorf("no x between the count and the %s", what)
	}
	if count, err = estimate.ParseNumber(a, estimate.MaxCount); err != nil {
		return 0, 0, fmt.Errorf("count: %s", billing.ErrorMessage(err))
	}
	if quantity, err = estimate.ParseNumber(b, estimate.MaxQuantity); err != nil {
		return 0, 0, fmt.Errorf("%s: %s", what, billing.ErrorMessage(err))
	}
	return count, quantity, nil
}

var bareMinutes = regexp.MustCompile(`^\s*\d+\s*$`)

// parseCallLength reads a call's length: "3m", "90s", "2m30s", or a bare number of minutes.
func parseCallLength(s string) (int64, error) {
	if bareMinutes.MatchString(s) {
		m, err := estimate.ParseNumber(s, estimate.MaxQuantity/60)
		if err != nil {
			return 0, fmt.Errorf("length: %s", billing.ErrorMessage(err))
		}
		return m * 60, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 || d%time.Second != 0 {
		return 0, fmt.Errorf("length %q: use minutes and seconds, like 3m, 90s or 2m30s", s)
	}
	return int64(d / time.Second), nil
}

func because(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}

var lineRef = regexp.MustCompile(`lines\[(\d+)\]\.?(\w*): `)

// nameFlags rewrites the API's "lines[2].model: …" into the flag the line came from.
func nameFlags(msg string, lines []cliLine) string {
	return lineRef.ReplaceAllStringFunc(msg, func(m string) string {
		sub := lineRef.FindStringSubmatch(m)
		i, _ := strconv.Atoi(sub[1])
		if i >= len(lines) {
			return m
		}
		if sub[2] == "count" || sub[2] == "quantity" {
			return lines[i].flag + ": " + sub[2] + " "
		}
		return lines[i].flag + ": " // the message names the type or model itself
	})
}

// printEstimate prints an estimate as a table of lines, then the cost, the plan and the tips.
func printEstimate(w io.Writer, e *api.CostEstimate, st style) {
	fmt.Fprintln(w, st.bold("Estimate for a month"))
	fmt.Fprintln(w)
	rows := [][]string{{"Work", "Per month", "Credits"}}
	for _, l := range e.Lines {
		rows = append(rows, []string{l.Label, describeLine(l), l.Credits.String()})
	}
	rows = append(rows, []string{"Total", "", e.Total.String()})
	writeAlignedTable(w, rows, len(rows)-1, 2)
	fmt.Fprintln(w)
	rec, cur := e.Plans.Recommended, e.Plans.Current
	facts := [][]string{
		{"Cost", fmt.Sprintf("%s a month at %s a credit", e.Cost.Cents, e.Cost.CreditPriceCents)},
		{"Recommended", planLine(rec)},
	}
	onPlan := fmt.Sprintf("%s: its %s credits a month cover this", cur.Name, creditsOf(cur))
	if e.TopUp > 0 {
		onPlan = fmt.Sprintf("%s: buy %s credits a month on top of its %s (%s)", cur.Name, e.TopUp, creditsOf(cur), e.Cost.TopUpCents)
	}
	facts = append(facts, []string{"Your plan", onPlan})
	seen := map[int]bool{}
	for _, s := range e.Savings {
		if !seen[s.Line] { // the best saving of each line
			seen[s.Line] = true
			facts = append(facts, []string{"Tip", s.Message})
		}
	}
	width := 0
	for _, f := range facts {
		width = max(width, len(f[0]))
	}
	for _, f := range facts {
		v := f[1]
		if f[0] == "Recommended" {
			v = st.green(v)
		}
		fmt.Fprintf(w, "%-*s  %s\n", width, f[0], v)
	}
}

func planLine(p api.EstimatePlan) string {
	if p.Credits == nil {
		return p.Name + " (a custom allotment: contact sales)"
	}
	price := "free"
	if p.PriceCents > 0 {
		price = billing.Cents(p.PriceCents).String() + " a month"
	}
	return fmt.Sprintf("%s plan: %s credits a month, %s", p.Name, creditsOf(p), price)
}

func creditsOf(p api.EstimatePlan) string {
	if p.Credits == nil {
		return "custom"
	}
	return p.Credits.String()
}

// describeLine says what a line holds, in its own units: "10,000 calls × 1,500 tokens".
func describeLine(l api.EstimatedLine) string {
	n := billing.Thousands
	switch l.Type {
	case billing.TypeEmail:
		return times(l, "emails", "email")
	case billing.TypeSMS:
		return times(l, "messages", "message")
	case billing.TypeVoiceCall:
		return fmt.Sprintf("%s calls × %s", n(l.Count), callLength(l.Quantity))
	case billing.TypeAI:
		return fmt.Sprintf("%s calls × %s tokens", n(l.Count), n(l.Quantity))
	}
	if l.Count == 1 {
		return n(l.Quantity) + " " + l.Unit
	}
	return fmt.Sprintf("%s × %s %s", n(l.Count), n(l.Quantity), l.Unit)
}

func times(l api.EstimatedLine, plural, singular string) string {
	if l.Quantity == 1 {
		return billing.Thousands(l.Count) + " " + plural
	}
	return fmt.Sprintf("%s × %s %s", billing.Thousands(l.Count), billing.Thousands(l.Quantity), plural)
}

// callLength formats seconds as "3 min", "1 min 30 s" or "45 s".
func callLength(secs int64) string {
	m, s := secs/60, secs%60
	switch {
	case m == 0:
		return fmt.Sprintf("%d s", s)
	case s == 0:
		return billing.Thousands(m) + " min"
	}
	return fmt.Sprintf("%s min %d s", billing.Thousands(m), s)
}
