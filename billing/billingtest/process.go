package billingtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Process is a server started by StartProcess (stripe-mock in tests, `lux serve` in the
// benchmarks).
type Process struct {
	Cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	once sync.Once
}

// StartProcess starts cmd and waits until readyURL answers with a status below 500, the process
// exits, ctx ends or timeout passes; on any of the last three it is stopped and an error
// returned. The caller stops it with Stop.
func StartProcess(ctx context.Context, cmd *exec.Cmd, readyURL string, timeout time.Duration) (*Process, error) {
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{Cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		res, err := client.Get(readyURL)
		if err == nil {
			res.Body.Close()
			if res.StatusCode < 500 {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it answered on %s", cmd.Path, readyURL)
		case <-ctx.Done():
			p.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond): // polling a process we do not control, bounded by the deadline
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("%s did not answer on %s within %s", cmd.Path, readyURL, timeout)
		}
	}
}

// Stop ends the process: SIGTERM, then SIGKILL after 10 s. Safe to call more than once.
func (p *Process) Stop() {
	p.once.Do(func() {
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
	})
}

// Exited tells whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}
