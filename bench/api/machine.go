package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/luxstudio/lux-billing/bench/benchkit"
)

// machine is what the figures depend on.
type machine struct {
	NumCPU        int
	Nproc         string
	CPUModel      string
	MemGiB        int
	PGVersion     string
	SyncCommit    string
	Fsync         string
	WALSyncMethod string
	SharedBuffers string
	GoVersion     string
	Commit        string
	Dirty         bool
	LoadAvg       string
}

func describeMachine(ctx context.Context, db *sql.DB, root string) (*machine, error) {
	m := &machine{NumCPU: runtime.NumCPU(), GoVersion: strings.TrimPrefix(runtime.Version(), "go")}
	if out, err := exec.Command("nproc").Output(); err == nil {
		m.Nproc = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				kb, _ := strconv.Atoi(f[1])
				m.MemGiB = (kb + 1<<19) >> 20
			}
		}
	}
	m.LoadAvg = benchkit.LoadAvg()
	var version string
	if err := db.QueryRowContext(ctx, `SHOW server_version`).Scan(&version); err != nil {
		return nil, err
	}
	m.PGVersion, _, _ = strings.Cut(version, " ")
	for _, s := range []struct {
		name string
		dst  *string
	}{{"synchronous_commit", &m.SyncCommit}, {"fsync", &m.Fsync}, {"wal_sync_method", &m.WALSyncMethod}, {"shared_buffers", &m.SharedBuffers}} {
		if err := db.QueryRowContext(ctx, "SHOW "+s.name).Scan(s.dst); err != nil {
			return nil, err
		}
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	m.Commit = git("rev-parse", "--short", "HEAD")
	m.Dirty = git("status", "--porcelain", "--untracked-files=no") != ""
	return m, nil
}
