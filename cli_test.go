package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing/identity"
)

var update = flag.Bool("update", false, "rewrite the golden files of the CLI tests")

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update . to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// theMonth is the worked month as lux estimate flags.
var theMonth = []string{"estimate", "--ai", "claude-sonnet:10000x1500", "--email", "2000", "--sms", "500", "--voice-minutes", "120"}

func TestCLI_EstimateGolden(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	env := map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key}
	out, errOut, code := runLux(t, env, theMonth...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "estimate.txt", out)
	out, errOut, code = runLux(t, env, append(theMonth, "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, errOut)
	}
	golden(t, "estimate.json", out)
	var est struct {
		Total           json.Number
		RecommendedPlan string
		TopUp           json.Number
	}
	if err := json.Unmarshal([]byte(out), &est); err != nil || est.Total != "78600" || est.RecommendedPlan != "pro" || est.TopUp != "77600" {
		t.Errorf("JSON %+v, %v", est, err)
	}
	// Every kind of line, readable forms.
	out, errOut, code = runLux(t, env, "estimate", "--ai", "claude-opus:300x20,000", "--voice", "50x2m30s", "--voice", "10x3", "--voice-synthesis", "300x1200", "--voice-synthesis", "5000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "estimate-kinds.txt", out)
}

func TestCLI_CreditsGolden(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	out, errOut, code := runLux(t, map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key}, "credits")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "credits.txt", out)
}

// Each wrong use is exit 2 with a message that shows the right form.
func TestCLI_WrongUsageExits2(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	env := map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"estimate", "--bogus"}, "unknown flag --bogus"},
		{[]string{"nonsense"}, "unexpected argument nonsense"},
		{[]string{"usage", "--interval", "year"}, `--interval must be one of "day","week","month"`},
		{[]string{"credits", "--interval", "soon"}, "--interval"},
		{[]string{"estimate"}, "say what a month holds, e.g. lux estimate --ai"},
		{[]string{"estimate", "--ai", "claude-sonnet"}, "--ai claude-sonnet: write MODEL:CALLSxTOKENS"},
		{[]string{"estimate", "--ai", "claude-sonnet:10x1.5"}, "tokens: enter a whole number (got 1.5)"},
		{[]string{"estimate", "--email", "lots"}, `--email lots: "lots" is not a number`},
		{[]string{"estimate", "--voice", "10x2h?"}, "--voice 10x2h?: write CALLSxLENGTH"},
		{[]string{"estimate", "--ai", "claude-poet:10x10"}, `--ai claude-poet:10x10: unknown model "claude-poet": choose one of claude-haiku`},
		{[]string{"estimate", "--email", "2000000000"}, "2,000,000,000 is more than the 1,000,000,000 an estimate takes"},
		{[]string{"limits", "--member", "dev@example.com"}, "--member and --member-limit go together"},
		{[]string{"limits", "--monthly-limit", "lots"}, "--monthly-limit lots:"},
		{[]string{"login", "--url", "localhost:8080", "--key", "lux_x"}, "is not a server URL"},
		{[]string{"completion", "fish"}, `must be one of "bash","zsh"`},
	}
	for _, c := range cases {
		out, errOut, code := runLux(t, env, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("lux %s: exit %d, stdout %q, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, out, errOut, c.want)
		}
	}
}

// lux credits --check exits 3 when flows are paused, 0 when they run; scripts read nothing else.
func TestCLI_CreditsCheckExits3WhenPaused(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	env := map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key}
	if _, errOut, code := runLux(t, env, "credits", "--check"); code != 0 {
		t.Fatalf("active: exit %d: %s", code, errOut)
	}
	// 100,000 Opus tokens cost 1,500 credits: more than the Free plan's 992.34 left.
	body := `{"events":[{"id":"big","flowId":"f","executionId":"x","type":"ai","model":"claude-opus","quantity":100000}]}`
	if res := postJSON(t, url+"/api/v1/usage", key, body); !strings.Contains(res, `"paused":true`) {
		t.Fatalf("not paused: %s", res)
	}
	out, errOut, code := runLux(t, env, "credits", "--check")
	if code != 3 || !strings.Contains(out, "PAUSED — ") || !strings.Contains(errOut, "flows are paused") {
		t.Errorf("paused: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, code = runLux(t, env, "credits", "--check", "--json")
	if code != 3 || !strings.Contains(out, `"paused":true`) {
		t.Errorf("paused --json: exit %d, %s", code, out)
	}
	if _, _, code := runLux(t, env, "credits"); code != 0 {
		t.Errorf("without --check a paused org is exit %d, want 0", code)
	}
}

// lux login checks the key against the server and saves it with mode 0600 under
// XDG_CONFIG_HOME; a fresh shell then needs no environment; lux logout removes it.
func TestCLI_LoginThenCommandsWorkWithoutEnvironment(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	xdg := filepath.Join(t.TempDir(), "config home")
	env := map[string]string{"XDG_CONFIG_HOME": xdg}

	out, errOut, code := runLux(t, env, "login", "--url", url+"/", "--key", key)
	if code != 0 || !strings.Contains(out, "Logged in to "+url+" as Analytical Engines (Free plan).") {
		t.Fatalf("login: exit %d, %q, %q", code, out, errOut)
	}
	path := filepath.Join(xdg, "lux", "config.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no config file at %s: %v", path, err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); runtime.GOOS != "windows" && di.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode %v, want 0700", di.Mode().Perm())
	}
	var saved savedLogin
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &saved); err != nil || saved.URL != url || saved.Key != key {
		t.Errorf("saved %s", b)
	}

	for _, args := range [][]string{{"credits"}, theMonth, {"usage", "--range", "7d"}} {
		if out, errOut, code := runLux(t, env, args...); code != 0 || out == "" {
			t.Errorf("lux %s after login: exit %d: %s", args[0], code, errOut)
		}
	}
	// The environment still wins: another server named in LUX_API_URL never gets the saved key.
	_, errOut, code = runLux(t, withEnv(env, "LUX_API_URL", "http://127.0.0.1:1"), "credits")
	if code != 1 || !strings.Contains(errOut, "you are logged in to "+url+", not http://127.0.0.1:1") {
		t.Errorf("other server: exit %d, %s", code, errOut)
	}
	_, errOut, code = runLux(t, withEnv(env, "LUX_API_KEY", identity.APIKeyPrefix+strings.Repeat("0", 64)), "credits")
	if code != 1 || !strings.Contains(errOut, "refused the API key") || !strings.Contains(errOut, "Run `lux login`") {
		t.Errorf("LUX_API_KEY overrides the saved key: exit %d, %s", code, errOut)
	}

	out, _, code = runLux(t, env, "logout")
	if code != 0 || !strings.Contains(out, "Logged out: removed "+path) {
		t.Errorf("logout: exit %d, %q", code, out)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("config file still there: %v", err)
	}
	if _, errOut, code := runLux(t, env, "credits"); code != 1 || !strings.Contains(errOut, "not logged in: run `lux login`") {
		t.Errorf("after logout: exit %d, %s", code, errOut)
	}
}

// Without XDG_CONFIG_HOME the login goes to the OS user config dir (~/.config on Linux); a key
// piped on standard input is read from there.
func TestCLI_LoginInTheUserConfigDirWithKeyOnStdin(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the user config dir checked here is Linux's")
	}
	url, key := cliFixture(t)
	home := t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": "", "HOME": home}
	out, errOut, code := runLuxIn(t, env, key+"\n", "login", "--url", url)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, ".config", "lux", "config.json")); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runLux(t, env, "credits"); code != 0 {
		t.Errorf("credits after login: %d %s", code, errOut)
	}
}

// A wrong key is refused by the server, nothing is saved, and the message says what to do.
func TestCLI_LoginWithAWrongKey(t *testing.T) {
	t.Parallel()
	url, _ := cliFixture(t)
	xdg := t.TempDir()
	env := map[string]string{"XDG_CONFIG_HOME": xdg}
	out, errOut, code := runLux(t, env, "login", "--url", url, "--key", identity.APIKeyPrefix+strings.Repeat("0", 64))
	if code != 1 || out != "" || !strings.Contains(errOut, url+" refused that API key, so nothing was saved") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	_, errOut, code = runLux(t, env, "login", "--url", "http://127.0.0.1:1", "--key", "lux_x")
	if code != 1 || !strings.Contains(errOut, "cannot reach the Lux API at http://127.0.0.1:1") || !strings.Contains(errOut, "Nothing was saved") {
		t.Errorf("unreachable: exit %d, %s", code, errOut)
	}
	_, errOut, code = runLux(t, env, "login", "--url", url) // no key, not a terminal, empty stdin
	if code != 2 || !strings.Contains(errOut, "no API key given") {
		t.Errorf("no key: exit %d, %s", code, errOut)
	}
	if entries, _ := os.ReadDir(filepath.Join(xdg, "lux")); len(entries) != 0 {
		t.Errorf("something was saved: %v", entries)
	}
}

// On a terminal lux login asks for the URL (offering a default) and the key.
func TestLoginCmd_AsksOnATerminal(t *testing.T) {
	url, key := cliFixture(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	var out strings.Builder
	err := loginCmd{}.run(context.Background(), &Config{}, strings.NewReader(url+"\n"+key+"\n"), &out, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Lux server URL [http://localhost:8080]: ", "API key (lux_…, create one in Settings → API keys): ", "Logged in to " + url} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if saved, _, err := readLogin(); err != nil || saved.Key != key {
		t.Errorf("saved %+v, %v", saved, err)
	}
}

func TestCLI_CompletionAnswersTheShell(t *testing.T) {
	t.Parallel()
	out, _, code := runLux(t, map[string]string{"COMP_LINE": "lux est", "COMP_POINT": "7"})
	if code != 0 || strings.TrimSpace(out) != "estimate" {
		t.Errorf("COMP_LINE=lux est: exit %d, %q", code, out)
	}
	out, _, _ = runLux(t, map[string]string{"COMP_LINE": "lux estimate --voice-m"})
	if strings.TrimSpace(out) != "--voice-minutes" {
		t.Errorf("flag completion %q", out)
	}
	for _, shell := range []string{"bash", "zsh"} {
		out, _, code := runLux(t, nil, "completion", shell)
		if code != 0 || !strings.Contains(out, "complete -o default -C ") {
			t.Errorf("lux completion %s: exit %d, %q", shell, code, out)
		}
	}
}

// Colour only on a terminal: piped output carries no escape codes, and NO_COLOR is honoured.
func TestStyle_ColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	cases := []struct {
		terminal bool
		env      map[string]string
		on       bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, map[string]string{"NO_COLOR": "1"}, false},
		{true, map[string]string{"NO_COLOR": ""}, true}, // no-color.org: present and not empty
		{true, map[string]string{"TERM": "dumb"}, false},
	}
	for _, c := range cases {
		if got := newStyle(c.terminal, env(c.env)).on; got != c.on {
			t.Errorf("terminal %v, env %v: colour %v", c.terminal, c.env, got)
		}
	}
	if got := (style{on: true}).red("PAUSED"); got != "\x1b[1;31mPAUSED\x1b[0m" {
		t.Errorf("%q", got)
	}
	if got := (style{}).red("PAUSED"); got != "PAUSED" {
		t.Errorf("%q", got)
	}
	// The binary's output in the other tests is piped: never an escape code.
	url, key := cliFixture(t)
	out, _, _ := runLux(t, map[string]string{"LUX_API_URL": url, "LUX_API_KEY": key, "TERM": "xterm-256color"}, theMonth...)
	if strings.Contains(out, "\x1b[") {
		t.Errorf("escape codes in piped output: %q", out)
	}
}

// postJSON posts body with the key and returns the answer's body.
func postJSON(t *testing.T, url, key, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// lux credits --watch refreshes until interrupted, then exits 0.
func TestCLI_CreditsWatchRefreshesUntilInterrupted(t *testing.T) {
	t.Parallel()
	url, key := cliFixture(t)
	cmd := exec.Command(luxBinary(t), "credits", "--watch", "--interval", "1s")
	cmd.Env = append(os.Environ(), "LUX_API_URL="+url, "LUX_API_KEY="+key, "XDG_CONFIG_HOME="+t.TempDir())
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(out.String(), "Updated ") < 2 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no second refresh: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
	}
	if n := strings.Count(out.String(), "Analytical Engines — Free plan"); n < 2 {
		t.Errorf("%d reports:\n%s", n, out.String())
	}
}

// lockedBuffer is a bytes.Buffer a process writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
