package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const sectionHeading = "## API ingestion"

// Goals of the ingestion issue.
const (
	goalBatched   = 20_000 // events/s with batches
	goalSingle    = 3_000  // events/s with single events
	goalSingleP99 = 15 * time.Millisecond
	goalRawRatio  = 0.8
)

type report struct {
	machine *machine
	opts    options
	started time.Time
	api     []*apiResult
	raw     []*rawResult
	pgbench []*rawResult
	profile *profileResult
}

func (r *report) rawFor(c cell, tool []*rawResult) *rawResult {
	for _, x := range tool {
		if x.cell == c {
			return x
		}
	}
	return nil
}

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

func commas(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func perK(d time.Duration, events int) string {
	if events == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond)*1000/float64(events))
}

// markdown renders the section, heading included.
func (r *report) markdown() string {
	m := r.machine
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n\n", sectionHeading)
	commit := m.Commit
	if m.Dirty {
		commit += " with uncommitted changes in the tree"
	}
	w("Measured by `make bench` (`go run ./bench/api`) on %s, commit %s. Reproduce with `make bench`;\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), commit)
	w("the figures vary by a few percent from run to run and more when the machine is busy.\n\n")
	w("**Machine.** %d cores (`nproc` = %s, %s), %d GiB RAM. PostgreSQL %s on the same machine with\n", m.NumCPU, m.Nproc, m.CPUModel, m.MemGiB, m.PGVersion)
	w("`synchronous_commit = %s` (every commit waits for its WAL flush), `fsync = %s`, `wal_sync_method = %s`,\n", m.SyncCommit, m.Fsync, m.WALSyncMethod)
	w("`shared_buffers = %s`. Go %s. The load generator, `lux serve` (one process, `go build`) and\n", m.SharedBuffers, m.GoVersion)
	w("PostgreSQL share the cores; HTTP/1.1 keep-alive over loopback. Load average when the run started: %s\n", m.LoadAvg)
	w("(anything else running shows as \"other\" CPU below).\n\n")
	w("**Method.** A fresh database; %d Pro organizations, each with never-expiring credits and an API key,\n", r.api[0].Orgs)
	w("created through the billing service; `lux serve` started as a separate process. Each cell runs\n")
	w("%s or %s requests, whichever comes first, after an unmeasured warm-up. A request is one\n", r.opts.duration, commas(float64(r.opts.maxRequests)))
	w("`POST /api/v1/usage` of 1 or 100 events (AI calls on two models, emails, SMS, each with `occurredAt`);\n")
	w("each client keeps one request in flight. \"Many\" orgs: clients never share an organization; \"hot\": all\n")
	w("clients post to one. Latency is per request, as the client sees it. Only 200 answers count.\n\n")

	w("| events / request | clients | orgs | requests | events/s | p50 ms | p99 ms | errors | CPU ms per 1,000 events: server · PostgreSQL · load generator · other |\n")
	w("|---:|---:|---|---:|---:|---:|---:|---:|---|\n")
	var wall, other time.Duration
	for _, a := range r.api {
		if a.CPU.OK {
			wall += a.CPU.Wall
			other += a.CPU.Other
		}
	}
	for _, a := range r.api {
		cpu := "n/a"
		if a.CPU.OK {
			ev := a.Requests * a.Batch
			cpu = fmt.Sprintf("%s · %s · %s · %s", perK(a.CPU.Server, ev), perK(a.CPU.Postgres, ev), perK(a.CPU.Load, ev), perK(a.CPU.Other, ev))
		}
		w("| %d | %d | %s | %s | **%s** | %.2f | %.2f | %d | %s |\n", a.Batch, a.Clients, a.cell.orgs(a.Orgs), commas(float64(a.Requests)),
			commas(a.EventsPerSec()), ms(a.Lat.P50), ms(a.Lat.P99), a.Errors, cpu)
	}
	if wall > 0 {
		w("\nDuring the cells, work other than the load generator, the server and its PostgreSQL backends (other\n")
		w("databases' backends, PostgreSQL's WAL writer, anything else on the machine) used %.0f%% of the machine's\n", 100*float64(other)/float64(wall)/float64(m.NumCPU))
		w("CPU time.\n")
	}
	w("\n")

	w("**Raw SQL floor.** Right after each single-event cell, the same number of transactions on the same\n")
	w("database and organizations: `BEGIN; INSERT` one event row; `UPDATE` one balance row; `COMMIT`, with\n")
	w("prepared statements through `database/sql` + lib/pq from as many goroutines as the cell had clients.")
	if len(r.pgbench) > 0 {
		w(" The\nsame transaction run by `pgbench -M prepared` (after the server stopped) is shown for reference.")
	}
	w("\n\n")
	if len(r.pgbench) > 0 {
		w("| clients | orgs | transactions | raw tx/s | p50 ms | p99 ms | pgbench tx/s | API single events/s | API ÷ raw |\n")
		w("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	} else {
		w("| clients | orgs | transactions | raw tx/s | p50 ms | p99 ms | API single events/s | API ÷ raw |\n")
		w("|---:|---|---:|---:|---:|---:|---:|---:|\n")
	}
	var ratios []float64
	for _, a := range r.api {
		if a.Batch != 1 {
			continue
		}
		x := r.rawFor(a.cell, r.raw)
		if x == nil {
			continue
		}
		ratio := a.EventsPerSec() / x.TxPerSec()
		ratios = append(ratios, ratio)
		pgb := ""
		if len(r.pgbench) > 0 {
			pgb = "– | "
			if p := r.rawFor(a.cell, r.pgbench); p != nil {
				pgb = commas(p.TxPerSec()) + " | "
			}
		}
		txs := commas(float64(x.Tx))
		if x.Tx < a.Requests {
			txs += " (time bound)"
		}
		w("| %d | %s | %s | %s | %.2f | %.2f | %s%s | **%.2f** |\n", x.Clients, x.cell.orgs(x.Orgs), txs, commas(x.TxPerSec()),
			ms(x.Lat.P50), ms(x.Lat.P99), pgb, commas(a.EventsPerSec()), ratio)
	}
	w("\n")

	// Goals.
	var bestBatch, bestSingle *apiResult
	var p99s []string
	p99Met, p99Cells := 0, 0
	for _, a := range r.api {
		if a.Batch > 1 && (bestBatch == nil || a.EventsPerSec() > bestBatch.EventsPerSec()) {
			bestBatch = a
		}
		if a.Batch == 1 {
			if bestSingle == nil || a.EventsPerSec() > bestSingle.EventsPerSec() {
				bestSingle = a
			}
			p99Cells++
			if a.Lat.P99 < goalSingleP99 {
				p99Met++
			}
			p99s = append(p99s, fmt.Sprintf("%.1f", ms(a.Lat.P99)))
		}
	}
	minRatio, maxRatio := 0.0, 0.0
	for i, x := range ratios {
		if i == 0 || x < minRatio {
			minRatio = x
		}
		if i == 0 || x > maxRatio {
			maxRatio = x
		}
	}
	describe := func(a *apiResult) string {
		where := fmt.Sprintf("%d orgs", a.Orgs)
		if a.Hot {
			where = "one hot org"
		}
		return fmt.Sprintf("%s events/s (%d clients, %s)", commas(a.EventsPerSec()), a.Clients, where)
	}
	w("**Goals of the ingestion issue.**\n\n")
	w("| goal | measured | |\n|---|---|---|\n")
	w("| ≥ %s events/s in batches | best 100-event cell: %s | %s |\n", commas(goalBatched), describe(bestBatch), mark(bestBatch.EventsPerSec() >= goalBatched))
	w("| ≥ %s single events/s | best single-event cell: %s | %s |\n", commas(goalSingle), describe(bestSingle), mark(bestSingle.EventsPerSec() >= goalSingle))
	w("| p99 < %d ms for single events | %s ms (cells in table order); under %d ms in %d of %d cells | %s |\n",
		goalSingleP99/time.Millisecond, strings.Join(p99s, " · "), goalSingleP99/time.Millisecond, p99Met, p99Cells, mark(p99Met == p99Cells))
	if len(ratios) > 0 {
		w("| ≥ %.1f × the raw SQL figure | %.2f to %.2f × | %s |\n", goalRawRatio, minRatio, maxRatio, mark(minRatio >= goalRawRatio))
	}
	w("\n")
	if r.profile != nil {
		w("%s", r.profile.markdown())
	}
	return b.String()
}

// writeSection replaces the section that starts with the line heading, up to the next "## "
// heading, with section; it appends the section when there is none, and creates the file with
// a one-line introduction when it does not exist. Nothing else in the file changes.
func writeSection(path, heading, section string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		b, err = []byte("# Benchmarks\n\nMeasured speed of Lux Billing; each section says how it was measured and how to reproduce it.\n"), nil
	}
	if err != nil {
		return err
	}
	return writeFileAtomic(path, replaceSection(string(b), heading, section))
}

// replaceSection is writeSection on a string.
func replaceSection(doc, heading, section string) string {
	section = strings.TrimRight(section, "\n") + "\n"
	lines := strings.SplitAfter(doc, "\n")
	start := -1
	for i, line := range lines {
		if strings.TrimRight(line, "\r\n") == heading {
			start = i
			break
		}
	}
	if start < 0 {
		doc = strings.TrimRight(doc, "\n")
		if doc == "" {
			return section
		}
		return doc + "\n\n" + section
	}
	end := len(lines)
	for i := start + 1; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "## ") {
			end = i
			break
		}
	}
	before, after := strings.Join(lines[:start], ""), strings.Join(lines[end:], "")
	if after != "" {
		section += "\n"
	}
	return before + section + after
}

// writeFileAtomic replaces path in one rename, so a reader never sees half a file.
func writeFileAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".benchmarks-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
