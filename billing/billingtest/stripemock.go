package billingtest

import (
	"context"
	"fmt"
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
		root, err := ModuleRoot()
		if err != nil {
			return "", nil, err
		}
		bin = filepath.Join(root, ".bin", "stripe-mock")
	}
	if _, err := os.Stat(bin); err != nil {
		return "", nil, fmt.Errorf("stripe-mock not found at %s: run `make test`, or `GOBIN=$PWD/.bin go install github.com/stripe/stripe-mock@v0.203.0`", bin)
	}
	httpAddr, err := FreeAddr()
	if err != nil {
		return "", nil, err
	}
	httpsAddr, err := FreeAddr()
	if err != nil {
		return "", nil, err
	}
	base := "http://" + httpAddr
	p, err := StartProcess(context.Background(), exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr), base+"/v1/balance", 90*time.Second)
	if err != nil {
		return "", nil, fmt.Errorf("stripe-mock: %w", err)
	}
	return base, p.Stop, nil
}

// ModuleRoot is the directory of the go.mod at or above the working directory: tests and
// benchmarks find the repository's .bin/ from it.
func ModuleRoot() (string, error) {
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
