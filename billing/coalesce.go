package billing

import (
	"fmt"
	"sync"
)

// Coalescing of concurrent usage batches (SPEC §13).
//
// Every batch of an organization must take that org's account lock and commit; one commit costs
// a disk flush. Batches that arrive while a transaction of the same org is in flight queue, and
// the next transaction records them all: one lock, one set of writes and one flush answer many
// requests. The caller's own goroutine does the work (the first to arrive leads; when its
// transaction is done it hands the lead to the oldest waiting request), so there is no
// background worker to start, stop or leak.

const (
	maxCoalescedJobs   = 128   // batches in one transaction
	maxCoalescedEvents = 10000 // events in one transaction
)

// usageJob is one RecordUsage call waiting to be recorded.
type usageJob struct {
	priced []pricedEvent
	first  map[string]int // event id → index of its first occurrence in priced
	done   chan jobResult // receives exactly one result, or first the lead
}

type jobResult struct {
	res  *UsageResult
	err  error
	lead bool // the receiver now leads its org's queue
}

// coalescer queues usage jobs per organization.
type coalescer struct {
	mu   sync.Mutex
	orgs map[string]*orgQueue
}

type orgQueue struct {
	pending []*usageJob
}

// do queues job for org and returns its result. run records a group of jobs and sends each
// its result; it is called by one goroutine at a time per org.
func (c *coalescer) do(org string, job *usageJob, run func([]*usageJob)) jobResult {
	c.mu.Lock()
	if c.orgs == nil {
		c.orgs = map[string]*orgQueue{}
	}
	q, busy := c.orgs[org]
	if !busy {
		q = &orgQueue{}
		c.orgs[org] = q
	}
	q.pending = append(q.pending, job)
	c.mu.Unlock()
	if busy {
		r := <-job.done
		if !r.lead {
			return r
		}
	}
	// Leading: job is the oldest pending one. Take it and those queued behind it.
	c.mu.Lock()
	n, events := 0, 0
	for n < len(q.pending) && n < maxCoalescedJobs && (n == 0 || events+len(q.pending[n].priced) <= maxCoalescedEvents) {
		events += len(q.pending[n].priced)
		n++
	}
	group := append([]*usageJob(nil), q.pending[:n]...)
	q.pending = q.pending[n:]
	c.mu.Unlock()

	c.runGroup(org, q, group, run)
	return <-job.done
}

// runGroup runs one group and then hands the lead on, even if run panics: the group's
// unanswered jobs get an error and the queue behind them keeps moving; the panic goes on up to
// the leader's caller (the server's recover middleware logs it).
func (c *coalescer) runGroup(org string, q *orgQueue, group []*usageJob, run func([]*usageJob)) {
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
		c.mu.Lock()
		if len(q.pending) > 0 {
			q.pending[0].done <- jobResult{lead: true}
		} else {
			delete(c.orgs, org)
		}
		c.mu.Unlock()
		if p != nil {
			panic(p)
		}
	}()
	run(group)
}
