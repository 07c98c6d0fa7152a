package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/web/webtest"
)

var (
	buildOnce sync.Once
	luxBin    string
	buildErr  error
)

// luxBinary builds the lux command once per test run.
func luxBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lux-cli-test-")
		if err != nil {
			buildErr = err
			return
		}
		luxBin = filepath.Join(dir, "lux")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go" // from PATH
		}
		out, err := exec.Command(gobin, "build", "-o", luxBin, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return luxBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if luxBin != "" {
		os.RemoveAll(filepath.Dir(luxBin))
	}
	os.Exit(code)
}

// runLux runs the lux binary with only the given LUX_* settings and returns its output. Unless
// env says otherwise, XDG_CONFIG_HOME is a new empty directory, so no saved login is used.
func runLux(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	return runLuxIn(t, env, "", args...)
}

// runLuxIn is runLux with stdin.
func runLuxIn(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string, exitCode int) {
	t.Helper()
	if _, ok := env["XDG_CONFIG_HOME"]; !ok {
		env = withEnv(env, "XDG_CONFIG_HOME", t.TempDir())
	}
	bin := luxBinary(t) // built before the command's deadline starts: a first build can take a while
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LUX_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		exitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("lux %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), exitCode
}

// cliFixture is the real server on its own database, with a Free org that used 7.66 credits.
func cliFixture(t *testing.T) (url, key string) {
	t.Helper()
	ts := webtest.New(t, webtest.Options{Clock: billingtest.NewClock(time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC))})
	ctx := context.Background()
	u, org, err := ts.Identity.SignUp(ctx, identity.NewUser{Email: "ada@example.com", Password: "correct horse"}, "Analytical Engines")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err = ts.Identity.CreateAPIKey(ctx, org, u.ID, "cli")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Billing.RecordUsage(ctx, org, u.ID, []billing.UsageEvent{{ID: "evt_1", FlowID: "flow_123", ExecutionID: "exec_456", Type: "ai", Model: "claude-sonnet", Quantity: 1532}})
	if err != nil {
		t.Fatal(err)
	}
	return ts.URL, key
}

func TestCLI_CreditsPrintsBalancePlanAndCycle(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	out, errOut, code := runLux(t, map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key}, "credits")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	for _, want := range []string{
		"Analytical Engines — Free plan",
		"Balance", "992.34 credits",
		"992.34 of 1,000 left, resets Dec 26, 2026",
		"7.66 used, Nov 26 – Dec 26, 2026",
		"Monthly limit", "none",
		"Flows", "active",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestCLI_CreditsJSON(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	out, errOut, code := runLux(t, map[string]string{"LUX_API_URL": url + "/", "LUX_API_KEY": key}, "credits", "--json")
	if code != 0 {
		t.Fatalf("exit %d; stderr %s", code, errOut)
	}
	var got struct {
		Balance json.Number `json:"balance"`
		Plan    string      `json:"plan"`
		Cycle   struct {
			Start, End string
			Used       json.Number
		} `json:"cycle"`
		Paused bool `json:"paused"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if got.Balance != "992.34" || got.Plan != "free" || got.Cycle.Used != "7.66" || got.Cycle.Start != "2026-11-26T10:30:00Z" || got.Cycle.End != "2026-12-26T10:30:00Z" || got.Paused {
		t.Errorf("unexpected credits: %+v\n%s", got, out)
	}
}

func TestCLI_CreditsWithoutAKeyExplainsAndFails(t *testing.T) {
	t.Parallel()
	url, _ := cliFixture(t)
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no key", map[string]string{"LUX_API_URL": url}, "not logged in: run `lux login`"},
		{"unknown key", map[string]string{"LUX_API_URL": url, "LUX_API_KEY": identity.APIKeyPrefix + strings.Repeat("0", 64)}, "refused the API key"},
		{"no server", map[string]string{"LUX_API_URL": "http://127.0.0.1:1", "LUX_API_KEY": identity.APIKeyPrefix + strings.Repeat("0", 64)}, "cannot reach the Lux API"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, args := range [][]string{{"credits"}, {"credits", "--json"}} {
				out, errOut, code := runLux(t, c.env, args...)
				if code != 1 {
					t.Errorf("lux %s: exit %d, want 1", strings.Join(args, " "), code)
				}
				if !strings.Contains(errOut, c.want) {
					t.Errorf("lux %s: stderr %q lacks %q", strings.Join(args, " "), errOut, c.want)
				}
				if out != "" {
					t.Errorf("lux %s: printed to stdout on failure: %q", strings.Join(args, " "), out)
				}
			}
		})
	}
}

// withEnv returns a copy of env with k set to v.
func withEnv(env map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range env {
		if key != k {
			out[key] = val
		}
	}
	return out
}
