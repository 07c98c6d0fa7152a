package billingtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StripeMock starts stripe-mock (Stripe's API test server) on free loopback ports for the test
// and returns its HTTP base URL, for STRIPE_API_BASE; it is stopped when the test ends. The
// binary is $LUX_STRIPE_MOCK, else <module root>/.bin/stripe-mock (`make test` installs it).
// stripe-mock validates requests against Stripe's schema and answers with fixtures: the same
// ids every time, so tests correlate by their own ids.
func StripeMock(t testing.TB) string {
	t.Helper()
	url, stop, err := StartStripeMock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return url
}

// StartStripeMock is StripeMock for a TestMain that shares one stripe-mock between the tests of
// a package: the caller stops it.
func StartStripeMock() (url string, stop func(), err error) {
	bin := os.Getenv("LUX_STRIPE_MOCK")
	if bin == "" {
		root, err := moduleRoot()
		if err != nil {
			return "", nil, err
		}
		bin = filepath.Join(root, ".bin", "stripe-mock")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", nil, fmt.Errorf("stripe-mock not found at %s: run `make test`, or `GOBIN=$PWD/.bin go install github.com/stripe/stripe-mock@v0.203.0`", bin)
	}
	httpAddr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	httpsAddr, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start stripe-mock: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	base := "http://" + httpAddr
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/v1/balance")
		if err == nil {
			res.Body.Close()
			return base, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("stripe-mock did not answer on %s: %w", base, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for readiness, bounded by the deadline
	}
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// moduleRoot is the directory of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}
