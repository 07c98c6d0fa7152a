package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of CPU times in /proc (100 on every Linux Go supports here).
const clockTicks = 100

// cpuProbe samples where CPU time goes: the lux server processes (one, or each replica), the
// PostgreSQL backends connected to the benchmark database, this process (the load generator),
// and the whole machine (so that load from anything else shows as "other").
type cpuProbe struct {
	ctx        context.Context
	db         *sql.DB
	dbName     string
	serverPIDs []int
}

func newCPUProbe(ctx context.Context, db *sql.DB, dbName string, serverPIDs ...int) *cpuProbe {
	return &cpuProbe{ctx: ctx, db: db, dbName: dbName, serverPIDs: serverPIDs}
}

type cpuSample struct {
	At       time.Time
	Server   time.Duration // all server processes together
	Backends map[int]time.Duration
	Self     time.Duration
	Busy     time.Duration // all CPUs, not idle
	OK       bool          // /proc was readable for the server and the backends
}

// cpuDelta is CPU time spent during a cell, by whom.
type cpuDelta struct {
	Wall     time.Duration
	Server   time.Duration // lux serve (Go), every replica together
	Postgres time.Duration // backends of the benchmark database
	Load     time.Duration // the load generator (this process)
	Other    time.Duration // the rest of the machine's busy time
	OK       bool
}

func (p *cpuProbe) sample() cpuSample {
	s := cpuSample{At: time.Now(), Backends: map[int]time.Duration{}, OK: true}
	for _, pid := range p.serverPIDs {
		d, err := procCPU(pid)
		if err != nil {
			s.OK = false
		}
		s.Server += d
	}
	rows, err := p.db.QueryContext(p.ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, p.dbName)
	if err == nil {
		for rows.Next() {
			var pid int
			if rows.Scan(&pid) == nil {
				if d, err := procCPU(pid); err == nil {
					s.Backends[pid] = d
				} else {
					s.OK = false // PostgreSQL runs elsewhere or as a user we cannot see
				}
			}
		}
		rows.Close()
	} else {
		s.OK = false
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.Self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.Busy, _ = machineBusy()
	return s
}

func (s cpuSample) sub(before cpuSample) cpuDelta {
	d := cpuDelta{Wall: s.At.Sub(before.At), Server: s.Server - before.Server, Load: s.Self - before.Self, OK: s.OK && before.OK}
	for pid, t := range s.Backends {
		d.Postgres += t - before.Backends[pid] // a backend that appeared counts from zero
	}
	d.Other = max(s.Busy-before.Busy-d.Server-d.Postgres-d.Load, 0)
	return d
}

// procCPU is a process's user+system CPU time from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state); utime and stime are fields 14 and 15
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// machineBusy is the non-idle CPU time of all CPUs since boot, from /proc/stat.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat")
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 || i >= 7 { // idle, iowait, steal; guest times are already in user
			continue
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}
