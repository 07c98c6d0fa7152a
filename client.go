package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

// apiGet calls the Lux API at LUX_API_URL with LUX_API_KEY and returns the body of a 2xx
// answer; an error answer becomes its message.
func (c *Config) apiGet(ctx context.Context, path string) ([]byte, error) {
	if c.APIKey == "" {
		return nil, fmt.Errorf("set LUX_API_KEY to an API key (create one with `lux apikey create --email you@example.com`)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(c.APIURL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Lux API at %s (set LUX_API_URL): %w", c.APIURL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s (HTTP %d)", e.Error.Message, res.StatusCode)
		}
		return nil, fmt.Errorf("the API answered HTTP %d", res.StatusCode)
	}
	return body, nil
}

type creditsCmd struct {
	JSON bool `name:"json" help:"Print the API's JSON."`
}

func (cmd creditsCmd) Run(ctx context.Context, c *Config) error {
	body, err := c.apiGet(ctx, "/api/v1/credits")
	if err != nil {
		return err
	}
	if cmd.JSON {
		_, err := os.Stdout.Write(append(body, '\n'))
		return err
	}
	var cr api.Credits
	if err := json.Unmarshal(body, &cr); err != nil {
		return fmt.Errorf("unexpected answer from the API: %w", err)
	}
	printCredits(os.Stdout, &cr)
	return nil
}

func printCredits(w io.Writer, cr *api.Credits) {
	fmt.Fprintf(w, "%s — %s plan\n\n", cr.Org.Name, cr.PlanName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Balance\t%s credits\n", cr.Balance)
	fmt.Fprintf(tw, "  Plan allotment\t%s of %s left, resets %s\n", cr.Allotment.Remaining, cr.Allotment.Granted, cr.Allotment.ResetsAt.Format("Jan 2, 2006 15:04 MST"))
	fmt.Fprintf(tw, "  Purchased\t%s\n", cr.Purchased.Remaining)
	if cr.Other.Remaining != 0 {
		fmt.Fprintf(tw, "  Other grants\t%s\n", cr.Other.Remaining)
	}
	if cr.Arrears != 0 {
		fmt.Fprintf(tw, "  Arrears\t%s (settled from the next credits)\n", cr.Arrears)
	}
	fmt.Fprintf(tw, "This cycle\t%s used, %s – %s\n", cr.Cycle.Used, cr.Cycle.Start.Format("Jan 2"), cr.Cycle.End.Format("Jan 2, 2006"))
	limit := "none"
	if cr.MonthlyLimit != nil {
		limit = fmt.Sprintf("%s (%s used)", *cr.MonthlyLimit, percent(cr.Cycle.Used, *cr.MonthlyLimit))
	}
	fmt.Fprintf(tw, "Monthly limit\t%s\n", limit)
	status := "active"
	if cr.Paused && cr.PauseReason != nil {
		status = "PAUSED — " + billing.PauseMessage(*cr.PauseReason)
	}
	fmt.Fprintf(tw, "Flows\t%s\n", status)
	tw.Flush()
}

func percent(part, whole billing.Millicredits) string {
	if whole <= 0 {
		return "—"
	}
	return fmt.Sprintf("%d%%", int64(part)*100/int64(whole))
}
