package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/bench/benchkit"
)

// cell is one measured configuration.
type cell struct {
	Batch    int  // events per request
	Clients  int  // concurrent clients, each with one request in flight
	Hot      bool // every client posts to one organization; otherwise clients spread over many
	Replicas int  // lux serve processes on the one database, client i posting to replica i mod Replicas; 0: one
}

// cells lists the configurations in the order they run and are reported: single events and
// batches of 100, over many organizations and on one hot organization, from 1, 8 and 32 clients.
func cells() []cell {
	var out []cell
	for _, batch := range []int{1, 100} {
		for _, hot := range []bool{false, true} {
			for _, clients := range []int{1, 8, 32} {
				out = append(out, cell{Batch: batch, Clients: clients, Hot: hot})
			}
		}
	}
	return out
}

// replicaCells are the cells measured again with the load spread over n `lux serve` replicas:
// single events and batches of 100 from 8 clients, over many organizations and on one hot
// organization (whose batches then meet only at the account lock in the database).
func replicaCells(n int) []cell {
	var out []cell
	for _, batch := range []int{1, 100} {
		for _, hot := range []bool{false, true} {
			out = append(out, cell{Batch: batch, Clients: 8, Hot: hot, Replicas: n})
		}
	}
	return out
}

// servers is the number of lux serve processes the cell loads.
func (c cell) servers() int { return max(c.Replicas, 1) }

func (c cell) orgs(n int) string {
	if c.Hot {
		return "1 (hot)"
	}
	return strconv.Itoa(n)
}

func (c cell) orgCount(n int) int {
	if c.Hot {
		return 1
	}
	return n
}

// orgIndex is the organization of client's k-th request: 0 for the hot org; otherwise the
// clients take turns over all organizations, client i on organizations i mod orgs when there are
// at least as many clients as organizations (so 8 clients never share one of 8).
func (c cell) orgIndex(client, k, orgs int) int {
	if c.Hot {
		return 0
	}
	return (client + k*c.Clients) % orgs
}

// apiResult is one cell's outcome.
type apiResult struct {
	cell
	Orgs     int
	Requests int // answered 200
	Errors   int // transport errors and non-200 answers
	FirstErr string
	Elapsed  time.Duration
	P50, P99 time.Duration
	CPU      cpuDelta
	RSS      int64   // the largest resident set of a server process during the cell, bytes
	RSSEach  []int64 // each replica's largest resident set, bytes
	Load     string  // the machine's load average when the cell started
	Raw      *rawResult
}

func (r *apiResult) EventsPerSec() float64 {
	return float64(r.Requests*r.Batch) / r.Elapsed.Seconds()
}

// Ratio is the service's events/s over the raw floor's, 0 without a floor.
func (r *apiResult) Ratio() float64 {
	if r.Raw == nil || r.Raw.EventsPerSec() == 0 {
		return 0
	}
	return r.EventsPerSec() / r.Raw.EventsPerSec()
}

func (r *apiResult) summary() string {
	s := fmt.Sprintf("API  batch %3d  clients %2d  orgs %-7s  servers %d  %7d req  %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  RSS %s MB  load %s  errors %d",
		r.Batch, r.Clients, r.cell.orgs(r.Orgs), r.servers(), r.Requests, r.EventsPerSec(), ms(r.P50), ms(r.P99), r.rssMB(), r.Load, r.Errors)
	if r.FirstErr != "" {
		s += "  first error: " + r.FirstErr
	}
	return s
}

// rssMB is each server's largest resident set in MB, "38 + 37" for two replicas.
func (r *apiResult) rssMB() string {
	if len(r.RSSEach) == 0 {
		return strconv.FormatInt(r.RSS>>20, 10)
	}
	parts := make([]string, len(r.RSSEach))
	for i, b := range r.RSSEach {
		parts[i] = strconv.FormatInt(b>>20, 10)
	}
	return strings.Join(parts, " + ")
}

func ms(d time.Duration) float64 { return benchkit.MS(d) }

// loader posts usage batches to the server, or spreads them over replicas.
type loader struct {
	client   *http.Client
	base     string
	replicas []string // when set, a cell of n replicas sends client i's requests to replicas[i mod n]
	keys     []string
	runs     int
}

// target is the server client i of cell c posts to.
func (l *loader) target(c cell, i int) string {
	if c.Replicas > 1 && len(l.replicas) >= c.Replicas {
		return l.replicas[i%c.Replicas]
	}
	return l.base
}

// run measures one cell: the clients start together and stop at the deadline or when maxReq
// requests have been sent, whichever comes first.
func (l *loader) run(ctx context.Context, c cell, dur time.Duration, maxReq int, probe *cpuProbe) (*apiResult, error) {
	l.runs++
	runID := l.runs
	bufs := make([][]byte, c.Clients)
	var before cpuSample
	if probe != nil {
		before = probe.sample()
	}
	load := benchkit.LoadAvg()
	res, err := benchkit.Clients(ctx, c.Clients, dur, maxReq, func(ctx context.Context, i, k int) error {
		bufs[i] = appendBatch(bufs[i][:0], runID, i, k, c.Batch)
		return l.post(ctx, l.target(c, i)+"/api/v1/usage", l.keys[c.orgIndex(i, k, len(l.keys))], bufs[i])
	})
	if err != nil {
		return nil, err
	}
	out := &apiResult{cell: c, Orgs: len(l.keys), Requests: res.OK(), Errors: res.Errors, FirstErr: res.FirstErr,
		Elapsed: res.Elapsed, P50: res.P(0.50), P99: res.P(0.99), Load: load}
	if probe != nil {
		out.CPU = probe.sample().sub(before)
	}
	if out.Requests == 0 {
		return nil, fmt.Errorf("no request succeeded in cell %+v: %s", c, res.FirstErr)
	}
	return out, nil
}

// authResult is one authorize cell.
type authResult struct {
	Clients  int
	Requests int
	Errors   int
	PerSec   float64
	P50, P99 time.Duration
	Load     string
}

// authorize asks POST /api/v1/authorize (with an estimate of the step about to run) from
// clients clients over the organizations, as a flow engine does before each step.
func (l *loader) authorize(ctx context.Context, clients int, dur time.Duration, maxReq int) (*authResult, error) {
	load := benchkit.LoadAvg()
	res, err := benchkit.Clients(ctx, clients, dur, maxReq, func(ctx context.Context, i, k int) error {
		body := `{"flowId":"flow_` + strconv.Itoa(k%8) + `","executionId":"exec_a_` + strconv.Itoa(i) + `_` + strconv.Itoa(k) +
			`","estimate":{"type":"ai","model":"claude-sonnet","quantity":1500}}`
		c := cell{Clients: clients}
		return l.post(ctx, l.base+"/api/v1/authorize", l.keys[c.orgIndex(i, k, len(l.keys))], []byte(body))
	})
	if err != nil {
		return nil, err
	}
	if res.OK() == 0 {
		return nil, fmt.Errorf("no authorize succeeded: %s", res.FirstErr)
	}
	return &authResult{Clients: clients, Requests: res.OK(), Errors: res.Errors, PerSec: res.PerSec(), P50: res.P(0.50), P99: res.P(0.99), Load: load}, nil
}

// post sends one batch to url and reads the whole answer; anything but 200 is an error.
func (l *loader) post(ctx context.Context, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return fmt.Errorf("HTTP %d: %s", res.StatusCode, bytes.TrimSpace(b))
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// appendBatch writes a usage request of n events with ids unique to (run, client, k). The mix
// is what a flow engine sends: AI calls on two models, emails and SMS, with the time of use.
func appendBatch(b []byte, run, client, k, n int) []byte {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	b = append(b, `{"events":[`...)
	for j := range n {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"r`...)
		b = strconv.AppendInt(b, int64(run), 10)
		b = append(b, 'c')
		b = strconv.AppendInt(b, int64(client), 10)
		b = append(b, 'k')
		b = strconv.AppendInt(b, int64(k), 10)
		b = append(b, 'e')
		b = strconv.AppendInt(b, int64(j), 10)
		b = append(b, `","flowId":"flow_`...)
		b = strconv.AppendInt(b, int64((k+j)%8), 10)
		b = append(b, `","executionId":"exec_`...)
		b = strconv.AppendInt(b, int64(run), 10)
		b = append(b, '_')
		b = strconv.AppendInt(b, int64(client), 10)
		b = append(b, '_')
		b = strconv.AppendInt(b, int64(k), 10)
		switch (k + j) % 4 {
		case 0:
			b = append(b, `","type":"ai","model":"claude-sonnet","quantity":`...)
			b = strconv.AppendInt(b, int64(400+(k*7+j)%1600), 10)
		case 1:
			b = append(b, `","type":"ai","model":"gpt-4o-mini","quantity":`...)
			b = strconv.AppendInt(b, int64(200+(k*13+j)%800), 10)
		case 2:
			b = append(b, `","type":"email","quantity":1`...)
		default:
			b = append(b, `","type":"sms","quantity":1`...)
		}
		b = append(b, `,"occurredAt":"`...)
		b = append(b, now...)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}
