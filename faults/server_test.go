//go:build faults

package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/migrations"
)

var luxBin string

// TestMain builds the real lux binary once for every test of the suite.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lux-faults-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	luxBin = filepath.Join(dir, "lux")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(gobin, "build", "-o", luxBin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is the real lux binary serving one test's database.
type server struct {
	t     *testing.T
	dsn   string
	addr  string
	dir   string
	cmd   *exec.Cmd
	exit  chan struct{}
	log   *os.File
	start time.Time
	env   []string // more environment for lux serve (e.g. Stripe's settings)
}

// newServer prepares a server for the database at dsn (created and migrated here) and starts
// it, with env added to its environment.
func newServer(t *testing.T, dsn string, env ...string) *server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := billing.OpenDB(ctx, dsn, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations.Up(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	db.Close()
	dir := t.TempDir()
	lf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dsn: dsn, addr: fmt.Sprintf("127.0.0.1:%d", freePort(t)), dir: dir, log: lf, env: env}
	t.Cleanup(func() {
		s.kill()
		lf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(lf.Name())
			t.Logf("server log (tail):\n%s", tail(b, 4000))
		}
	})
	s.run()
	return s
}

func (s *server) url() string { return "http://" + s.addr }

// run starts the binary and waits until /healthz answers 200.
func (s *server) run() {
	s.t.Helper()
	cmd := exec.Command(luxBin, "serve")
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "DATABASE_URL="+s.dsn, "LUX_ADDR="+s.addr,
		"LUX_BASE_URL=http://"+s.addr, "LUX_SESSION_SECRET="+strings.Repeat("s", 32), "LUX_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, s.env...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd, s.exit, s.start = cmd, make(chan struct{}), time.Now()
	exit := s.exit
	go func() { _ = cmd.Wait(); close(exit) }()
	s.waitReady(30 * time.Second)
}

// waitReady polls /healthz until it answers 200.
func (s *server) waitReady(within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.exit:
			s.t.Fatal("lux serve exited while starting")
		default:
		}
		if res, err := client.Get(s.url() + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond) // polling interval, with a deadline
	}
	s.t.Fatalf("lux serve not ready after %s", within)
}

// kill ends the server with SIGKILL, as a crash would, and waits until it is gone.
func (s *server) kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exit
	s.cmd = nil
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.exit:
		return false
	default:
		return s.cmd != nil
	}
}

// seedOrg signs up an organization through the domain and returns an admin's API key.
func seedOrg(t *testing.T, dsn, email string) (orgID, key string) {
	t.Helper()
	ctx := context.Background()
	db, err := billing.OpenDB(ctx, dsn, false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc, err := billing.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	ids := identity.New(svc)
	u, org, err := ids.SignUp(ctx, identity.NewUser{Email: email, Password: "correct horse battery"}, "Fault Injection Ltd")
	if err != nil {
		t.Fatal(err)
	}
	key, _, err = ids.CreateAPIKey(ctx, org, u.ID, "faults")
	if err != nil {
		t.Fatal(err)
	}
	return org, key
}

// runLuxCheck runs `lux check` on the database and returns its exit code and output.
func runLuxCheck(t *testing.T, dsn string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(luxBin, append([]string{"check"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, string(out)
}

// event is one usage event as the flow engine sends it.
type event struct {
	ID          string `json:"id"`
	FlowID      string `json:"flowId"`
	ExecutionID string `json:"executionId"`
	Type        string `json:"type"`
	Model       string `json:"model,omitempty"`
	Quantity    int64  `json:"quantity"`
}

type eventResult struct {
	ID        string      `json:"id"`
	Credits   json.Number `json:"credits"`
	Duplicate bool        `json:"duplicate"`
}

// answer is what the API said to one request: its status and body (status 0: no answer).
type answer struct {
	status  int
	results []eventResult
	code    string // the error code of an error answer
	raw     string
}

// api posts usage batches with one API key, as the flow engine does.
type api struct {
	base, key string
	client    *http.Client
}

func newAPI(base, key string) *api {
	return &api{base: base, key: key, client: &http.Client{Timeout: 15 * time.Second}}
}

// postUsage sends one batch; a transport error (server gone) is an answer with status 0.
func (a *api) postUsage(events []event) answer {
	body, _ := json.Marshal(map[string]any{"events": events})
	req, _ := http.NewRequest(http.MethodPost, a.base+"/api/v1/usage", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/json")
	return a.do(req)
}

func (a *api) get(path string) answer {
	req, _ := http.NewRequest(http.MethodGet, a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.key)
	return a.do(req)
}

func (a *api) do(req *http.Request) answer {
	res, err := a.client.Do(req)
	if err != nil {
		return answer{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{} // cut mid-answer: as good as no answer
	}
	ans := answer{status: res.StatusCode, raw: string(b)}
	var body struct {
		Results []eventResult `json:"results"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&body); err == nil {
		ans.results, ans.code = body.Results, body.Error.Code
	}
	return ans
}

// env is one fault test's world: its seed (logged), its own cluster and server, and an
// organization with an admin's API key.
type env struct {
	seed     uint64
	pg       *cluster
	dsn      string
	srv      *server
	org, key string
}

// newEnv starts a private cluster and the real server on it (with serverEnv added to its
// environment), and signs up an organization.
func newEnv(t *testing.T, email string, serverEnv ...string) *env {
	t.Helper()
	e := &env{seed: uint64(time.Now().UnixNano())}
	t.Logf("seed %d", e.seed)
	e.pg = newCluster(t)
	e.dsn = e.pg.url("lux")
	e.srv = newServer(t, e.dsn, serverEnv...)
	e.org, e.key = seedOrg(t, e.dsn, email)
	return e
}
