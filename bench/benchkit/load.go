package benchkit

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Result is what a load loop measured: the latencies of the calls that succeeded, sorted.
type Result struct {
	Lat      []time.Duration
	Errors   int
	FirstErr string
	Elapsed  time.Duration
}

// OK is the number of calls that succeeded.
func (r *Result) OK() int { return len(r.Lat) }

// PerSec is successful calls per second of wall time.
func (r *Result) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Lat)) / r.Elapsed.Seconds()
}

// P is the q-quantile of the latencies.
func (r *Result) P(q float64) time.Duration { return Quantile(r.Lat, q) }

// Clients runs call from clients goroutines, each with one call in flight, until dur has passed
// or maxCalls calls have started, whichever comes first (both bound the loop). call gets the
// client's number and its own call count k. Errors are counted, not fatal; a cancelled ctx
// ends the loop and is returned.
func Clients(ctx context.Context, clients int, dur time.Duration, maxCalls int, call func(ctx context.Context, client, k int) error) (*Result, error) {
	var started atomic.Int64
	lat := make([][]time.Duration, clients)
	errs := make([]int, clients)
	var firstErr atomic.Value
	start := make(chan struct{})
	var deadline time.Time
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for k := 0; ; k++ {
				if ctx.Err() != nil || time.Now().After(deadline) || started.Add(1) > int64(maxCalls) {
					return
				}
				t := time.Now()
				err := call(ctx, i, k)
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
	t0 := time.Now()
	deadline = t0.Add(dur)
	close(start)
	wg.Wait()
	res := &Result{Elapsed: time.Since(t0)}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range clients {
		res.Lat = append(res.Lat, lat[i]...)
		res.Errors += errs[i]
	}
	Sorted(res.Lat)
	if s, ok := firstErr.Load().(string); ok {
		res.FirstErr = s
	}
	return res, nil
}

// Timed calls fn warmUp times unmeasured, then n times, timing each; the first error stops it.
func Timed(ctx context.Context, warmUp, n int, fn func() error) ([]time.Duration, error) {
	out := make([]time.Duration, 0, n)
	for i := -warmUp; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := fn(); err != nil {
			return nil, fmt.Errorf("call %d: %w", i+warmUp+1, err)
		}
		if i >= 0 {
			out = append(out, time.Since(t))
		}
	}
	return Sorted(out), nil
}
