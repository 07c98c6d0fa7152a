package billing

import (
	"fmt"
	"hash/fnv"
	"sync"
)

// Coalescing of concurrent usage batches: ingestion keeps up with thousands of single events a
// second although each transaction costs a disk flush.
//
// Every batch must take its org's account lock and commit, and a commit costs a disk flush and
// a handful of round trips. Batches that arrive while a transaction is in flight queue, and the
// next transaction records them all — of one org or of many (ingest.go): one set of statements
// and one flush answer many requests. Organizations are spread over a few lanes by a hash of
// their id, so a lane's transactions never contend with each other and the lanes run in
// parallel; an org always uses the same lane, so its batches keep their order.
//
// The caller's own goroutine does the work: the first to arrive in an idle lane leads; when its
// transaction is done it hands the lead to the oldest waiting request. There is no background
// worker to start, stop or leak.

const (
	coalesceLanes      = 4     // transactions in flight at once per server
	maxCoalescedJobs   = 256   // batches in one transaction
	maxCoalescedEvents = 10000 // events in one transaction
)

// usageJob is one RecordUsage call waiting to be recorded.
type usageJob struct {
	org    string
	priced []pricedEvent
	first  map[string]int // event id → index of its first occurrence in priced
	done   chan jobResult // receives exactly one result, or first the lead
}

type jobResult struct {
	res  *UsageResult
	err  error
	lead bool // the receiver now leads its lane
}

// coalescer queues usage jobs in lanes.
type coalescer struct {
	lanes [coalesceLanes]lane
}

type lane struct {
	mu      sync.Mutex
	busy    bool
	pending []*usageJob
}

// do queues job and returns its result. run records a group of jobs and sends each its result;
// it is called by one goroutine at a time per lane.
func (c *coalescer) do(job *usageJob, run func([]*usageJob)) jobResult {
	h := fnv.New32a()
	h.Write([]byte(job.org))
	l := &c.lanes[h.Sum32()%coalesceLanes]

	l.mu.Lock()
	l.pending = append(l.pending, job)
	busy := l.busy
	l.busy = true
	l.mu.Unlock()
	if busy {
		r := <-job.done
		if !r.lead {
			return r
		}
	}
	// Leading: job is the oldest pending one. Take it and those queued behind it.
	l.mu.Lock()
	n, events := 0, 0
	for n < len(l.pending) && n < maxCoalescedJobs && (n == 0 || events+len(l.pending[n].priced) <= maxCoalescedEvents) {
		events += len(l.pending[n].priced)
		n++
	}
	group := append([]*usageJob(nil), l.pending[:n]...)
	l.pending = l.pending[n:]
	l.mu.Unlock()

	l.runGroup(group, run)
	return <-job.done
}

// runGroup runs one group and then hands the lead on, even if run panics: the group's
// unanswered jobs get an error and the queue behind them keeps moving; the panic goes on up to
// the leader's caller (the server's recover middleware logs it).
func (l *lane) runGroup(group []*usageJob, run func([]*usageJob)) {
	defer func() {
		p := recover()
		if p != nil {
			for _, j := range group {
				select { // answered jobs have a full buffer
				case j.done <- jobResult{err: fmt.Errorf("billing: recording usage failed: %v", p)}:
				default:
				}
			}
		}
		l.mu.Lock()
		if len(l.pending) > 0 {
			l.pending[0].done <- jobResult{lead: true}
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
