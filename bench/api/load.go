package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// cell is one measured configuration.
type cell struct {
	Batch   int  // events per request
	Clients int  // concurrent clients, each with one request in flight
	Hot     bool // every client posts to one organization; otherwise clients spread over many
}

// cells lists the configurations in the order they run and are reported.
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

func (c cell) orgs(n int) string {
	if c.Hot {
		return "1 (hot)"
	}
	return strconv.Itoa(n)
}

// orgIndex is the organization of client's k-th request: 0 for the hot org; otherwise the
// clients take turns over all organizations without ever sharing one (when clients divides the
// number of organizations).
func (c cell) orgIndex(client, k, orgs int) int {
	if c.Hot {
		return 0
	}
	return (client + k*c.Clients) % orgs
}

// latencies summarises request durations.
type latencies struct {
	P50, P99, Max time.Duration
}

func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[max(i, 0)]
	}
	return latencies{P50: at(0.50), P99: at(0.99), Max: ds[len(ds)-1]}
}

// apiResult is one cell's outcome.
type apiResult struct {
	cell
	Orgs     int
	Requests int // answered 200
	Errors   int // transport errors and non-200 answers
	FirstErr string
	Elapsed  time.Duration
	Lat      latencies
	CPU      cpuDelta
}

func (r *apiResult) EventsPerSec() float64 {
	return float64(r.Requests*r.Batch) / r.Elapsed.Seconds()
}

func (r *apiResult) summary() string {
	s := fmt.Sprintf("API  batch %3d  clients %2d  orgs %-7s  %7d req  %9.0f events/s  p50 %6.2f ms  p99 %6.2f ms  errors %d",
		r.Batch, r.Clients, r.cell.orgs(r.Orgs), r.Requests, r.EventsPerSec(), ms(r.Lat.P50), ms(r.Lat.P99), r.Errors)
	if r.FirstErr != "" {
		s += "  first error: " + r.FirstErr
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loader posts usage batches to the server.
type loader struct {
	client *http.Client
	base   string
	keys   []string
	runs   int
}

// run measures one cell: the clients start together and stop at the deadline or when maxReq
// requests have been sent, whichever comes first.
func (l *loader) run(ctx context.Context, c cell, dur time.Duration, maxReq int, probe *cpuProbe) (*apiResult, error) {
	l.runs++
	runID := l.runs
	var issued atomic.Int64
	lat := make([][]time.Duration, c.Clients)
	errs := make([]int, c.Clients)
	var firstErr atomic.Value
	start := make(chan struct{})
	var deadline time.Time
	var wg sync.WaitGroup
	for i := range c.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, c.Batch*260+32)
			<-start
			for k := 0; ; k++ {
				if ctx.Err() != nil || time.Now().After(deadline) || issued.Add(1) > int64(maxReq) {
					return
				}
				buf = appendBatch(buf[:0], runID, i, k, c.Batch)
				key := l.keys[c.orgIndex(i, k, len(l.keys))]
				t := time.Now()
				err := l.post(ctx, key, buf)
				d := time.Since(t)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errs[i]++
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				lat[i] = append(lat[i], d)
			}
		}()
	}
	var before cpuSample
	if probe != nil {
		before = probe.sample()
	}
	t0 := time.Now()
	deadline = t0.Add(dur)
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &apiResult{cell: c, Orgs: len(l.keys), Elapsed: elapsed}
	if probe != nil {
		res.CPU = probe.sample().sub(before)
	}
	var all []time.Duration
	for i := range c.Clients {
		all = append(all, lat[i]...)
		res.Errors += errs[i]
	}
	res.Requests = len(all)
	res.Lat = summarise(all)
	if s, ok := firstErr.Load().(string); ok {
		res.FirstErr = s
	}
	if res.Requests == 0 {
		return nil, fmt.Errorf("no request succeeded in cell %+v: %s", c, res.FirstErr)
	}
	return res, nil
}

// post sends one batch and reads the whole answer; anything but 200 is an error.
func (l *loader) post(ctx context.Context, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.base+"/api/v1/usage", bytes.NewReader(body))
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
