package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the lux serve process under test.
type server struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	done    chan struct{} // closed when the process has exited
	once    sync.Once
}

// startServer runs `lux serve` on a free loopback port against dbURL and waits for /healthz.
func startServer(ctx context.Context, bin, dbURL, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // anything the server writes (e.g. .data/) stays in the temporary directory
	cmd.Env = append(cleanEnv(),
		"DATABASE_URL="+dbURL,
		"LUX_ADDR="+addr,
		"LUX_BASE_URL=http://"+addr,
		"LUX_SESSION_SECRET="+strings.Repeat("b", 32),
		"LUX_LOG_LEVEL=warn",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start lux serve: %w", err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(s.done)
	}()

	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		res, err := client.Get(s.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("lux serve exited before it was ready; its log:\n%s", s.logTail())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond): // polling a process we do not control
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("lux serve was not ready within 60 s; its log:\n%s", s.logTail())
		}
	}
}

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

// stop ends the server: SIGTERM, then SIGKILL after 10 s. Safe to call more than once.
func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
