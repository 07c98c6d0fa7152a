package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// server is the lux serve process under test.
type server struct {
	*billingtest.Process
	base    string
	logPath string
}

// startServer runs `lux serve` on a free loopback port against dbURL and waits for /healthz;
// its output goes to <name>.log in dir.
func startServer(ctx context.Context, bin, dbURL, dir, name string, env ...string) (*server, error) {
	addr, err := billingtest.FreeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // anything the server writes (e.g. .data/) stays in the temporary directory
	cmd.Env = append(cleanEnv(),
		"DATABASE_URL="+dbURL,
		"LUX_ADDR="+addr,
		"LUX_BASE_URL=http://"+addr,
		"LUX_SESSION_SECRET="+strings.Repeat("b", 32),
		"LUX_LOG_LEVEL=warn",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := billingtest.StartProcess(ctx, cmd, "http://"+addr+"/healthz", 60*time.Second)
	if err != nil {
		b, _ := os.ReadFile(logPath)
		return nil, errWithLog(err, b)
	}
	return &server{Process: p, base: "http://" + addr, logPath: logPath}, nil
}

func errWithLog(err error, log []byte) error {
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	return &logErr{err: err, log: string(log)}
}

type logErr struct {
	err error
	log string
}

func (e *logErr) Error() string { return e.err.Error() + "; its log:\n" + e.log }

// cleanEnv is the environment without the lux settings of whoever runs the benchmark.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "LUX_") || strings.HasPrefix(kv, "DATABASE_URL=") ||
			strings.HasPrefix(kv, "STRIPE_") || strings.HasPrefix(kv, "SMTP_URL=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// rssSampler records the largest resident set of a process while it runs.
type rssSampler struct {
	stop chan struct{}
	wg   sync.WaitGroup
	peak int64 // bytes
}

// sampleRSS reads pid's VmRSS every 50 ms until stopped.
func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if b := procRSS(pid); b > s.peak {
				s.peak = b
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// done stops sampling and returns the peak in bytes (0 when /proc was unreadable).
func (s *rssSampler) done() int64 {
	close(s.stop)
	s.wg.Wait()
	return s.peak
}

// procRSS is VmRSS of /proc/<pid>/status in bytes, or 0.
func procRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
