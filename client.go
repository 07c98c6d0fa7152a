package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/billing"
)

// apiClient talks to the Lux API as one API key.
type apiClient struct {
	url, key string
	http     *http.Client
}

// client returns the API client the client commands use. The server is LUX_API_URL, else the
// one `lux login` saved, else http://localhost:8080; the key is LUX_API_KEY, else the saved key
// — but only for the server it was saved with, so a key never goes to another server.
func (c *Config) client() (*apiClient, error) {
	saved, _, err := readLogin()
	if err != nil {
		return nil, err
	}
	url := c.APIURL
	if url == "" {
		url = saved.URL
	}
	if url == "" {
		url = defaultAPIURL
	}
	key := c.APIKey
	if key == "" && sameServer(url, saved.URL) {
		key = saved.Key
	}
	if key == "" {
		if saved.Key != "" {
			return nil, fmt.Errorf("you are logged in to %s, not %s: run `lux login --url %s`, or set LUX_API_KEY", saved.URL, url, url)
		}
		return nil, fmt.Errorf("not logged in: run `lux login` (or set LUX_API_URL and LUX_API_KEY)")
	}
	return &apiClient{url: strings.TrimRight(url, "/"), key: key, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// apiGet calls GET path on the Lux API and returns the body of a 2xx answer.
func (c *Config) apiGet(ctx context.Context, path string) ([]byte, error) {
	cl, err := c.client()
	if err != nil {
		return nil, err
	}
	return cl.do(ctx, http.MethodGet, path, nil)
}

// do sends a request with a JSON body (nil for none) and returns the body of a 2xx answer. An
// error answer becomes its message with what to do about it: a refused key says to run `lux
// login`, an unreachable server names the URL tried.
func (cl *apiClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, cl.url+path, rd)
	if err != nil {
		return nil, fmt.Errorf("the API URL %q is not a URL: run `lux login --url http://host:port`", cl.url)
	}
	req.Header.Set("Authorization", "Bearer "+cl.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := cl.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach the Lux API at %s: %v\nIs the server running? To use another server, run `lux login --url URL` or set LUX_API_URL", cl.url, rootCause(err))
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", cl.url, err)
	}
	if res.StatusCode/100 == 2 {
		return out, nil
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	msg := fmt.Sprintf("the API at %s answered HTTP %d", cl.url, res.StatusCode)
	if json.Unmarshal(out, &e) == nil && e.Error.Message != "" {
		msg = e.Error.Message
	} else {
		e.Error.Message = msg
	}
	switch res.StatusCode {
	case http.StatusUnauthorized:
		msg = fmt.Sprintf("%s refused the API key: %s\nRun `lux login` with a valid key (create one in Settings → API keys)", cl.url, msg)
	case http.StatusForbidden:
		msg += " (your key acts as a member: ask an admin, or log in with an admin's key)"
	default:
		msg = fmt.Sprintf("%s (HTTP %d)", msg, res.StatusCode)
	}
	return nil, &apiError{status: res.StatusCode, message: msg, raw: e.Error.Message}
}

// apiError is an error answer of the API: message says what to do, raw is the API's own.
type apiError struct {
	status  int
	message string
	raw     string
}

func (e *apiError) Error() string { return e.message }

// rootCause drops the request details net/http wraps around a connection error.
func rootCause(err error) error {
	var ue *neturl.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

type creditsCmd struct {
	JSON     bool          `name:"json" help:"Print the API's JSON."`
	Check    bool          `help:"Exit with status 3 when flows are paused (for scripts and cron)."`
	Watch    bool          `help:"Refresh until interrupted (Ctrl-C)."`
	Interval time.Duration `default:"5s" help:"How often --watch refreshes, e.g. 10s or 1m."`

	seen bool // a refresh was printed already
}

// Run prints the balance, plan, cycle usage and limit; with --check it exits 3 when flows are
// paused; with --watch it refreshes every --interval.
func (cmd creditsCmd) Run(ctx context.Context, c *Config) error {
	return cmd.run(ctx, c, os.Stdout, stdoutStyle())
}

func (cmd creditsCmd) run(ctx context.Context, c *Config, w io.Writer, st style) error {
	if cmd.Watch && cmd.Interval < time.Second {
		return usageErrorf("--interval must be at least 1s (got %s)", cmd.Interval)
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	for {
		paused, err := cmd.once(ctx, cl, w, st)
		cmd.seen = true
		if err != nil {
			return err
		}
		if !cmd.Watch {
			if paused && cmd.Check {
				return &exitError{code: exitPaused, err: errors.New("flows are paused")}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil // Ctrl-C ends watching normally
		case <-time.After(cmd.Interval):
		}
	}
}

// once prints the credits once and reports whether flows are paused.
func (cmd creditsCmd) once(ctx context.Context, cl *apiClient, w io.Writer, st style) (paused bool, err error) {
	body, err := cl.do(ctx, http.MethodGet, "/api/v1/credits", nil)
	if err != nil {
		if cmd.Watch && ctx.Err() != nil {
			return false, nil
		}
		return false, err
	}
	var cr api.Credits
	if err := json.Unmarshal(body, &cr); err != nil {
		return false, fmt.Errorf("unexpected answer from the API: %w", err)
	}
	if cmd.Watch && st.on {
		fmt.Fprint(w, "\x1b[H\x1b[2J") // clear the terminal: each refresh replaces the last
	} else if cmd.Watch && cmd.seen {
		fmt.Fprintln(w) // piped: refreshes follow each other, a blank line apart
	}
	if cmd.JSON {
		_, err = w.Write(append(body, '\n'))
		return cr.Paused, err
	}
	printCredits(w, &cr, st)
	if cmd.Watch {
		fmt.Fprintf(w, "\n%s\n", st.dim(fmt.Sprintf("Updated %s · every %s · Ctrl-C to stop", time.Now().Format("15:04:05"), cmd.Interval)))
	}
	return cr.Paused, nil
}

func printCredits(w io.Writer, cr *api.Credits, st style) {
	fmt.Fprintf(w, "%s — %s plan\n\n", st.bold(cr.Org.Name), cr.PlanName)
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
	status := st.green("active")
	if cr.Paused && cr.PauseReason != nil {
		status = st.red("PAUSED") + " — " + billing.PauseMessage(*cr.PauseReason)
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
