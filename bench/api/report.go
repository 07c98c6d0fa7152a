package main

import (
	"fmt"
	"strings"
	"time"
)

const sectionHeading = "## API ingestion"

// Goals of the ingestion issue.
const (
	goalSingleRatio = 0.8 // × raw, single events at 8 and 32 clients
	goalBatchRatio  = 0.5 // × raw, batches of 100
	goalSingleP50   = 1200 * time.Microsecond
	goalSingleP99   = 3 * time.Millisecond
	goalAuthP50     = 500 * time.Microsecond
	goalAuthRate    = 10_000 // per second at 32 clients
	goalRSS         = 150 << 20
)

type report struct {
	machine *machine
	opts    options
	started time.Time
	rawTool string
	api     []*apiResult
	auth    []*authResult
	profile *profileResult
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

// replicaCount is the number of replicas of the replica cells, 0 without them.
func (r *report) replicaCount() int {
	n := 0
	for _, a := range r.api {
		n = max(n, a.Replicas)
	}
	return n
}

// replicaComparison says, for each replica cell, its events/s over the one-server cell's of the
// same shape in the same run (and each one's ratio to its own raw floor, which moves with the
// machine's load between the two).
func (r *report) replicaComparison() string {
	var parts []string
	for _, a := range r.api {
		if a.Replicas <= 1 {
			continue
		}
		for _, one := range r.api {
			if one.Replicas <= 1 && one.Batch == a.Batch && one.Clients == a.Clients && one.Hot == a.Hot && one.EventsPerSec() > 0 {
				parts = append(parts, fmt.Sprintf("%d-event %d-org: **%.2f** (÷ raw %.2f against %.2f)", a.Batch, a.cell.orgCount(a.Orgs),
					a.EventsPerSec()/one.EventsPerSec(), a.Ratio(), one.Ratio()))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("%d replicas ÷ one server, events/s of the same cell in this run, 8 clients: %s.", r.replicaCount(), strings.Join(parts, " · "))
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
	w("Measured by `make bench` (`go run ./bench/api`) on %s, commit %s. Reproduce with `make bench`.\n", r.started.UTC().Format("2006-01-02 15:04 UTC"), commit)
	w("The machine is shared, so absolute figures move with its load; each cell is therefore measured beside its raw\n")
	w("SQL floor in the same run, and the ratio is the figure to compare across runs. The load average is written beside\n")
	w("each cell.\n\n")
	w("**Machine.** %d cores (`nproc` = %s, %s), %d GiB RAM. PostgreSQL %s on the same machine with\n", m.NumCPU, m.Nproc, m.CPUModel, m.MemGiB, m.PGVersion)
	w("`synchronous_commit = %s` (every commit waits for its WAL flush), `fsync = %s`, `wal_sync_method = %s`,\n", m.SyncCommit, m.Fsync, m.WALSyncMethod)
	w("`shared_buffers = %s`. Go %s. The load generator, `lux serve` (one process, `go build`) and\n", m.SharedBuffers, m.GoVersion)
	w("PostgreSQL share the cores; HTTP/1.1 keep-alive over loopback. Load average when the run started: %s.\n\n", m.LoadAvg)
	w("**Method.** A fresh database; %d Pro organizations, each with never-expiring credits and an API key,\n", r.api[0].Orgs)
	lanes := "its default lanes"
	if r.opts.lanes > 0 {
		lanes = fmt.Sprintf("`LUX_INGEST_LANES=%d`", r.opts.lanes)
	}
	w("created through the billing service; `lux serve` started as a separate process (%s). Each cell runs\n", lanes)
	w("%s or %s requests, whichever comes first, after an unmeasured warm-up. A request is one\n", r.opts.duration, commas(float64(r.opts.maxRequests)))
	w("`POST /api/v1/usage` of 1 or 100 events (AI calls on two models, emails, SMS, each with `occurredAt`);\n")
	w("each client keeps one request in flight. %d orgs: the clients spread over them (with 32 clients, four share each\n", r.api[0].Orgs)
	w("org); 1 org: all clients post to one. Latency is per request, as the client sees it. Only 200 answers count.\n\n")
	if n := r.replicaCount(); n > 1 {
		more := "a second `lux serve` process is"
		if n > 2 {
			more = fmt.Sprintf("%d more `lux serve` processes are", n-1)
		}
		w("**%d replicas.** The rows marked \"%d replicas\" run last: %s started on the same\n", n, n, more)
		w("database beside the first (SPEC §12: stateless replicas, one PostgreSQL), and client *i* posts to replica\n")
		w("*i* mod %d, so each replica gets half the clients and, on the hot org, both meet only at the org's account\n", n)
		w("lock in the database. Coalescing is per process, so the hot org's batches coalesce on each replica apart.\n")
		w("Their raw floor is the same transaction as the one-server cell's. The RSS column lists each replica; the\n")
		w("server CPU is all replicas together.\n\n")
	}
	w("**Raw SQL floor.** Right after each cell, for as long, with as many clients on the same organizations, %s runs\n", r.rawTool)
	w("the minimal ingest on the same database: `BEGIN`; `INSERT` the request's events into a table with only a primary\n")
	w("key (one row, or 100 rows built server-side with `generate_series`); `UPDATE` one balance row; `COMMIT`. It\n")
	w("does none of the ledger work (pricing, idempotency, grants, arrears, counters, rollups).\n\n")

	w("| events / request | clients | orgs | service events/s | raw events/s | service ÷ raw | service p50 / p99 ms | raw p50 / p99 ms | server RSS MB | load avg | CPU ms per 1,000 events: server · PostgreSQL · load generator · other |\n")
	w("|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---|\n")
	var heaviest *apiResult
	for _, a := range r.api {
		if heaviest == nil || a.RSS > heaviest.RSS {
			heaviest = a
		}
		cpu := "n/a"
		if a.CPU.OK {
			ev := a.Requests * a.Batch
			cpu = fmt.Sprintf("%s · %s · %s · %s", perK(a.CPU.Server, ev), perK(a.CPU.Postgres, ev), perK(a.CPU.Load, ev), perK(a.CPU.Other, ev))
		}
		rawEv, rawLat := "–", "–"
		if a.Raw != nil {
			rawEv, rawLat = commas(a.Raw.EventsPerSec()), fmt.Sprintf("%.2f / %.2f", ms(a.Raw.P50), ms(a.Raw.P99))
		}
		errs := ""
		if a.Errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", a.Errors)
		}
		batch := fmt.Sprint(a.Batch)
		if a.Replicas > 1 {
			batch += fmt.Sprintf(" · %d replicas", a.Replicas)
		}
		w("| %s | %d | %d | %s%s | %s | **%.2f** | %.2f / %.2f | %s | %s | %s | %s |\n", batch, a.Clients, a.cell.orgCount(a.Orgs),
			commas(a.EventsPerSec()), errs, rawEv, a.Ratio(), ms(a.P50), ms(a.P99), rawLat, a.rssMB(), a.Load, cpu)
	}
	w("\n")
	if cmp := r.replicaComparison(); cmp != "" {
		w("%s\n\n", cmp)
	}
	if len(r.auth) > 0 {
		w("`POST /api/v1/authorize` with an estimate, same organizations, same server, right after the cells:\n\n")
		w("| clients | requests | per second | p50 ms | p99 ms | load avg |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, a := range r.auth {
			w("| %d | %s | **%s** | **%.2f** | %.2f | %s |\n", a.Clients, commas(float64(a.Requests)), commas(a.PerSec), ms(a.P50), ms(a.P99), a.Load)
		}
		w("\n")
	}

	// Goals.
	w("**Goals of the ingestion issue.**\n\n")
	w("| goal | measured | |\n|---|---|---|\n")
	var single, batch []string
	singleOK, batchOK := true, true
	var one *apiResult
	for _, a := range r.api {
		if a.Replicas > 1 {
			continue // the goals are the one server's; the replica rows are compared with them above
		}
		if a.Batch == 1 && a.Clients == 1 && !a.Hot {
			one = a
		}
		if a.Batch == 1 && a.Clients >= 8 {
			single = append(single, fmt.Sprintf("%.2f", a.Ratio()))
			singleOK = singleOK && a.Ratio() >= goalSingleRatio
		}
		if a.Batch == 100 {
			batch = append(batch, fmt.Sprintf("%.2f", a.Ratio()))
			batchOK = batchOK && a.Ratio() >= goalBatchRatio
		}
	}
	w("| single events ≥ %.1f × raw at 8 and 32 clients, %d orgs and 1 org | %s × | %s |\n", goalSingleRatio, r.api[0].Orgs, strings.Join(single, " · "), mark(singleOK))
	if one != nil {
		w("| one client: p50 ≤ %.1f ms, p99 ≤ %.0f ms | p50 %.2f ms, p99 %.2f ms | %s |\n", ms(goalSingleP50), ms(goalSingleP99), ms(one.P50), ms(one.P99),
			mark(one.P50 <= goalSingleP50 && one.P99 <= goalSingleP99))
	}
	w("| batches of 100 ≥ %.1f × raw | %s × | %s |\n", goalBatchRatio, strings.Join(batch, " · "), mark(batchOK))
	for _, a := range r.auth {
		switch a.Clients {
		case 1:
			w("| authorize p50 ≤ %.1f ms at one client | %.2f ms | %s |\n", ms(goalAuthP50), ms(a.P50), mark(a.P50 <= goalAuthP50))
		case 32:
			w("| authorize ≥ %s/s at 32 clients | %s/s | %s |\n", commas(goalAuthRate), commas(a.PerSec), mark(a.PerSec >= goalAuthRate))
		}
	}
	if heaviest != nil && heaviest.RSS > 0 {
		w("| RSS of `lux serve` < %d MB under the heaviest cell | %d MB (largest, in the %d-event %d-client %d-org cell) | %s |\n",
			goalRSS>>20, heaviest.RSS>>20, heaviest.Batch, heaviest.Clients, heaviest.cell.orgCount(heaviest.Orgs), mark(heaviest.RSS < goalRSS))
	}
	w("\n")
	if r.profile != nil {
		w("%s", r.profile.markdown())
	}
	return b.String()
}
