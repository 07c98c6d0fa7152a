package billing

import (
	"fmt"
	"hash/fnv"
	"runtime"
	"sync"
)

// Coalescing of concurrent requests: ingestion keeps up with thousands of single events a
// second although each transaction costs a disk flush, and authorize answers many flow steps
// with one read.
//
// Every usage batch must take its org's account lock and commit, and a commit costs a disk
// flush and a round trip. Batches that arrive while a transaction is in flight queue, and the
// next transaction records them all — of one org or of many (ingest.go): one statement and one
// flush answer many requests. Organizations are spread over a few lanes by a hash of their id,
// so a lane's transactions never contend with each other and the lanes run in parallel; an org
// always uses the same lane, so its batches keep their order. Authorize (authorize.go) queues
// the same way: the requests that arrive while a read is in flight are answered by the next
// read, one statement for all of them, each seeing a snapshot taken after it arrived.
//
// The caller's own goroutine does the work: the first to arrive in an idle lane leads; when its
// group is done it hands the lead to the oldest waiting request. There is no background worker
// to start, stop or leak, and a request that finds its lane idle is run at once.

// DefaultLanes is the number of groups in flight at once per server and kind of request
// (WithLanes, LUX_INGEST_LANES): one per CPU core, at least two. Measured on 2 cores
// (docs/BENCHMARKS.md, "Lanes against cores"): every lane more splits the same requests into
// smaller groups, so each event costs the server and PostgreSQL more CPU — 4 lanes cost
// PostgreSQL 60 % more per single event than 2 — while a second lane keeps a group's commit
// from stalling the others.
func DefaultLanes() int { return max(2, runtime.NumCPU()) }

const (
	maxCoalescedJobs   = 256   // requests in one group
	maxCoalescedEvents = 10000 // events in one usage transaction
)

// outcome is what a queued request receives: its result, or first the lead of its lane.
type outcome[R any] struct {
	res  R
	err  error
	lead bool // the receiver now leads its lane
}

// queued is a request that can wait in a coalescer's lane.
type queued[R any] interface {
	laneKey() string          // requests with the same key share a lane (and keep their order)
	weight() int              // its share of a group's size limit
	results() chan outcome[R] // buffered (1): receives exactly one result, or first the lead
}

// coalescer queues requests of one kind in lanes; J is the request, R its result.
type coalescer[R any, J queued[R]] struct {
	lanes     []lane[J]
	maxWeight int // a group's total weight at most (its first request always fits)
}

func newCoalescer[R any, J queued[R]](lanes, maxWeight int) coalescer[R, J] {
	return coalescer[R, J]{lanes: make([]lane[J], max(lanes, 1)), maxWeight: maxWeight}
}

type lane[J any] struct {
	mu      sync.Mutex
	busy    bool
	pending []J
}

// do queues job and returns its outcome. run handles a group of requests and sends each its
// outcome; it is called by one goroutine at a time per lane.
func (c *coalescer[R, J]) do(job J, run func([]J)) outcome[R] {
	h := fnv.New32a()
	h.Write([]byte(job.laneKey()))
	l := &c.lanes[h.Sum32()%uint32(len(c.lanes))]

	l.mu.Lock()
	l.pending = append(l.pending, job)
	busy := l.busy
	l.busy = true
	l.mu.Unlock()
	if busy {
		r := <-job.results()
		if !r.lead {
			return r
		}
	}
	// Leading: job is the oldest pending one. Take it and those queued behind it.
	l.mu.Lock()
	n, weight := 0, 0
	for n < len(l.pending) && n < maxCoalescedJobs && (n == 0 || c.maxWeight == 0 || weight+l.pending[n].weight() <= c.maxWeight) {
		weight += l.pending[n].weight()
		n++
	}
	group := append([]J(nil), l.pending[:n]...)
	l.pending = l.pending[n:]
	l.mu.Unlock()

	runGroup(l, group, run)
	return <-job.results()
}

// runGroup runs one group and then hands the lead on, even if run panics: the group's
// unanswered requests get an error and the queue behind them keeps moving; the panic goes on up
// to the leader's caller (the server's recover middleware logs it).
func runGroup[R any, J queued[R]](l *lane[J], group []J, run func([]J)) {
	defer func() {
		p := recover()
		if p != nil {
			for _, j := range group {
				select { // answered requests have a full buffer
				case j.results() <- outcome[R]{err: fmt.Errorf("billing: request failed: %v", p)}:
				default:
				}
			}
		}
		l.mu.Lock()
		if len(l.pending) > 0 {
			l.pending[0].results() <- outcome[R]{lead: true}
		} else {
			l.busy = false
		}
		l.mu.Unlock()
		if p != nil {
			panic(p)
		}
	}()
	run(group)
}
