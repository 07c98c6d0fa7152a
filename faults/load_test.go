//go:build faults

package faults

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// book records what the API told the clients: every event it acknowledged (with the credits
// it answered) and every event of a batch it refused. A batch without an answer is retried
// until it gets one, as the flow engine does, so at the end every event sent is in one of the
// two sets.
type book struct {
	mu       sync.Mutex
	acked    map[string]string // id → credits answered
	refused  map[string]bool
	bodies   map[string]event // acknowledged events as sent, for replays
	replays  int              // replayed events answered duplicate:true, as they must be
	retries  int              // batches sent again after no answer or a 503
	statuses map[int]int
	problems []string
}

func newBook() *book {
	return &book{acked: map[string]string{}, refused: map[string]bool{}, bodies: map[string]event{}, statuses: map[int]int{}}
}

func (b *book) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.problems) < 20 {
		b.problems = append(b.problems, fmt.Sprintf(format, args...))
	}
}

func (b *book) ackedCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acked)
}

// loadClient posts batches until ctx ends: 1–8 events each, about 5 % of them replays of an
// event acknowledged before, and about 2 % of batches holding an invalid event (which makes
// the whole batch refused). The batch in flight when ctx ends is still sent until answered.
type loadClient struct {
	n   int
	api *api
	bk  *book
	rnd *rand.Rand
	// unavailableOK: 503 is an expected answer (a database outage), retried like no answer.
	unavailableOK bool
	mine          []event // this client's acknowledged events, for replays
	seq           int
}

func (c *loadClient) newEvent() event {
	c.seq++
	e := event{ID: fmt.Sprintf("c%02d-%06d", c.n, c.seq), FlowID: fmt.Sprintf("flow_%d", c.rnd.IntN(5)),
		ExecutionID: fmt.Sprintf("exec_%d_%d", c.n, c.seq/10)}
	switch c.rnd.IntN(3) {
	case 0:
		e.Type, e.Quantity = "email", int64(1+c.rnd.IntN(3))
	case 1:
		e.Type, e.Quantity = "sms", 1
	default:
		e.Type, e.Model, e.Quantity = "ai", "claude-haiku", int64(100+c.rnd.IntN(5000))
	}
	return e
}

func (c *loadClient) run(ctx context.Context) {
	for ctx.Err() == nil {
		var batch []event
		replayed := map[string]bool{}
		invalid := c.rnd.IntN(50) == 0
		for i := 1 + c.rnd.IntN(8); i > 0; i-- {
			if !invalid && len(c.mine) > 0 && c.rnd.IntN(20) == 0 {
				e := c.mine[c.rnd.IntN(len(c.mine))]
				if !replayed[e.ID] {
					replayed[e.ID] = true
					batch = append(batch, e)
					continue
				}
			}
			batch = append(batch, c.newEvent())
		}
		if invalid {
			bad := c.newEvent()
			bad.Type, bad.Model, bad.Quantity = "ai", "no-such-model", 10
			batch = append(batch, bad)
		}
		c.send(batch, replayed, invalid)
	}
}

// send posts batch until the API answers it (no answer, or a 503 during an outage, is retried).
func (c *loadClient) send(batch []event, replayed map[string]bool, invalid bool) {
	for attempt := 0; ; attempt++ {
		ans := c.api.postUsage(batch)
		c.bk.mu.Lock()
		c.bk.statuses[ans.status]++
		if attempt > 0 {
			c.bk.retries++
		}
		c.bk.mu.Unlock()
		switch {
		case ans.status == 0 || (ans.status == 503 && c.unavailableOK && ans.code == billing.EUNAVAILABLE):
			time.Sleep(time.Duration(5+c.rnd.IntN(20)) * time.Millisecond) // client back-off
			continue
		case invalid && ans.status == 400:
			c.bk.mu.Lock()
			for _, e := range batch {
				if !replayed[e.ID] {
					c.bk.refused[e.ID] = true
				}
			}
			c.bk.mu.Unlock()
		case !invalid && ans.status == 200 && len(ans.results) == len(batch):
			c.bk.mu.Lock()
			for i, r := range ans.results {
				e := batch[i]
				switch {
				case r.ID != e.ID:
					c.bk.problems = append(c.bk.problems, fmt.Sprintf("result %d is for %s, not %s", i, r.ID, e.ID))
				case replayed[e.ID]:
					if !r.Duplicate || r.Credits.String() != c.bk.acked[e.ID] {
						c.bk.problems = append(c.bk.problems, fmt.Sprintf("replay of %s answered duplicate=%v credits=%s (first answer %s)", e.ID, r.Duplicate, r.Credits, c.bk.acked[e.ID]))
					}
					c.bk.replays++
				default:
					c.bk.acked[e.ID] = r.Credits.String()
					c.bk.bodies[e.ID] = e
					c.mine = append(c.mine, e)
				}
			}
			c.bk.mu.Unlock()
		default:
			c.bk.problem("batch (invalid=%v) answered %d: %.300s", invalid, ans.status, ans.raw)
		}
		return
	}
}

// startLoad runs n clients until the returned stop function is called; stop waits until each
// client's last batch is answered.
func startLoad(base, key string, n int, seed uint64, bk *book, unavailableOK bool) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		c := &loadClient{n: i, api: newAPI(base, key), bk: bk, rnd: rand.New(rand.NewPCG(seed, uint64(i))), unavailableOK: unavailableOK}
		wg.Add(1)
		go func() { defer wg.Done(); c.run(ctx) }()
	}
	return func() { cancel(); wg.Wait() }
}

// verify proves the book against the database: every acknowledged event exists exactly once
// with the credits answered, no refused event exists, nothing else exists, and the usage the
// ledger charged is exactly the acknowledged events' cost. It returns the number of lost
// events and of double charges (both must be 0).
func verify(t *testing.T, dsn, org string, bk *book) (lost, doubles int) {
	t.Helper()
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows []struct {
		ID   string `db:"id"`
		Cost int64  `db:"cost_mc"`
	}
	if err := db.Select(&rows, `SELECT id, cost_mc FROM usage_events WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	stored := make(map[string]int64, len(rows))
	for _, r := range rows {
		stored[r.ID] = r.Cost
	}
	var ackedCost int64
	for id, credits := range bk.acked {
		cost, ok := stored[id]
		if !ok {
			lost++
			t.Errorf("acknowledged event %s is not stored", id)
			continue
		}
		ackedCost += cost
		if got := billing.Millicredits(cost).Decimal(); got != credits {
			t.Errorf("event %s: stored %s credits, answered %s", id, got, credits)
		}
	}
	for id := range bk.refused {
		if _, ok := stored[id]; ok {
			t.Errorf("refused event %s is stored", id)
		}
	}
	if len(stored) != len(bk.acked) {
		t.Errorf("%d events stored, %d acknowledged", len(stored), len(bk.acked))
	}
	var charged int64
	if err := db.Get(&charged, `SELECT COALESCE(-sum(amount_mc), 0) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage'`, org); err != nil {
		t.Fatal(err)
	}
	if charged != ackedCost {
		doubles = 1
		t.Errorf("the ledger charged %d mc for usage; the acknowledged events cost %d mc", charged, ackedCost)
	}
	if code, out := runLuxCheck(t, dsn); code != 0 {
		t.Errorf("lux check: exit %d\n%s", code, out)
	}
	for _, p := range bk.problems {
		t.Error(p)
	}
	return lost, doubles
}
