package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/luxstudio/lux-billing/api"
)

type loginCmd struct {
	URL string `help:"The Lux server, e.g. https://billing.example.com (asked when not given on a terminal; default: LUX_API_URL, the saved one, else http://localhost:8080)."`
	Key string `help:"Your API key (lux_…). Without it lux asks on the terminal, or reads one line from standard input when that is not a terminal."`
}

// Run asks for (or takes) the server and the key, checks them against the server and saves
// them for every later client command.
func (cmd loginCmd) Run(ctx context.Context, c *Config) error {
	return cmd.run(ctx, c, os.Stdin, os.Stdout, stdinIsTerminal())
}

func (cmd loginCmd) run(ctx context.Context, c *Config, in io.Reader, out io.Writer, terminal bool) error {
	saved, _, _ := readLogin() // a damaged file is replaced by this login
	var err error
	url := strings.TrimSpace(cmd.URL)
	suggested := firstOf(c.APIURL, saved.URL, defaultAPIURL)
	lines := bufio.NewReader(in)
	if url == "" && terminal {
		fmt.Fprintf(out, "Lux server URL [%s]: ", suggested)
		url, err = readLine(lines)
		if err != nil {
			return err
		}
	}
	if url == "" {
		url = suggested
	}
	url = strings.TrimRight(url, "/")
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return usageErrorf("%q is not a server URL: give one starting with http:// or https://, e.g. --url https://billing.example.com", url)
	}
	key := strings.TrimSpace(cmd.Key)
	if key == "" {
		switch {
		case terminal:
			fmt.Fprint(out, "API key (lux_…, create one in Settings → API keys): ")
			key, err = readSecret(in, lines)
			fmt.Fprintln(out)
		default:
			key, err = readLine(lines)
		}
		if err != nil {
			return err
		}
	}
	if key == "" {
		return usageErrorf("no API key given: pass --key lux_…, or run `lux login` in a terminal to be asked")
	}
	cl := &apiClient{url: url, key: key, http: &http.Client{Timeout: 15 * time.Second}}
	body, err := cl.do(ctx, http.MethodGet, "/api/v1/credits", nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusUnauthorized {
		return fmt.Errorf("%s refused that API key, so nothing was saved. Check the key (it starts with lux_ and is shown once when created), or create a new one in Settings → API keys", url)
	}
	if err != nil {
		return fmt.Errorf("%w\nNothing was saved", err)
	}
	var cr api.Credits
	if err := json.Unmarshal(body, &cr); err != nil || cr.Org.ID == "" {
		return fmt.Errorf("%s answered, but not like a Lux server: check the URL. Nothing was saved", url)
	}
	path, err := writeLogin(savedLogin{URL: url, Key: key})
	if err != nil {
		return err
	}
	st := stdoutStyle()
	fmt.Fprintf(out, "%s Logged in to %s as %s (%s plan).\n", st.green("✓"), url, st.bold(cr.Org.Name), cr.PlanName)
	fmt.Fprintf(out, "Saved in %s (readable only by you). Try `lux credits`.\n", path)
	return nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// readLine reads one line without its line ending; an empty input gives "".
func readLine(r *bufio.Reader) (string, error) {
	s, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(s), nil
}

// readSecret reads a line without echoing it when in is the terminal.
func readSecret(in io.Reader, lines *bufio.Reader) (string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		return strings.TrimSpace(string(b)), err
	}
	return readLine(lines)
}

type logoutCmd struct{}

// Run removes the saved login.
func (logoutCmd) Run() error {
	path, err := loginPath()
	if err != nil {
		return err
	}
	err = os.Remove(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Printf("Not logged in: there is no %s.\n", path)
		return nil
	case err != nil:
		return fmt.Errorf("cannot remove %s: %w", path, err)
	}
	fmt.Printf("Logged out: removed %s.\n", path)
	if os.Getenv("LUX_API_KEY") != "" {
		fmt.Println("LUX_API_KEY is still set in your environment; client commands keep using it.")
	}
	return nil
}
