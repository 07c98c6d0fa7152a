//go:build faults

package faults

import (
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
)

// replayAcked sends the acknowledged events of ids again, in batches of up to 50, and checks
// every answer is duplicate:true with the credits first answered. It returns how many were
// replayed.
func replayAcked(t *testing.T, base, key string, ids []string, bk *book) int {
	t.Helper()
	byID := map[string]event{}
	for _, e := range bk.sent() {
		byID[e.ID] = e
	}
	a := newAPI(base, key)
	n := 0
	for start := 0; start < len(ids); start += 50 {
		var batch []event
		for _, id := range ids[start:min(start+50, len(ids))] {
			batch = append(batch, byID[id])
		}
		ans := a.postUsage(batch)
		if ans.status != 200 || len(ans.results) != len(batch) {
			t.Fatalf("replay after restart: %d %.300s", ans.status, ans.raw)
		}
		for i, r := range ans.results {
			if !r.Duplicate || r.Credits.String() != bk.acked[batch[i].ID] {
				t.Errorf("replay of %s after restart: duplicate=%v credits=%s, first answered %s", batch[i].ID, r.Duplicate, r.Credits, bk.acked[batch[i].ID])
			}
			n++
		}
	}
	return n
}

// TestReplay_ReorderedBatchesTakeEffectOnce posts batches, then replays all of them many times,
// concurrently, in shuffled order, with their events reordered and regrouped: every replayed
// event is a duplicate, and the ledger and the stored events are exactly those of the first
// posting.
func TestReplay_ReorderedBatchesTakeEffectOnce(t *testing.T) {
	e := newEnv(t, "replay@example.com")
	dsn, srv, org, key := e.dsn, e.srv, e.org, e.key
	rnd := rand.New(rand.NewPCG(e.seed, 1))
	bk := newBook()
	c := &loadClient{n: 0, api: newAPI(srv.url(), key), bk: bk, rnd: rnd}
	const batches, perBatch = 40, 25
	var all []event
	for i := 0; i < batches; i++ {
		batch := make([]event, perBatch)
		for j := range batch {
			batch[j] = c.newEvent()
		}
		c.send(batch, nil, false)
		all = append(all, batch...)
	}

	// Replays: each event five times over, shuffled and regrouped into batches of 1–60, sent
	// by 8 clients at once.
	var replays []event
	for i := 0; i < 5; i++ {
		replays = append(replays, all...)
	}
	rnd.Shuffle(len(replays), func(i, j int) { replays[i], replays[j] = replays[j], replays[i] })
	var groups [][]event
	for len(replays) > 0 {
		n := min(1+rnd.IntN(60), len(replays))
		// One batch may not hold one id twice; split where it would.
		seen, cut := map[string]bool{}, n
		for k, e := range replays[:n] {
			if seen[e.ID] {
				cut = k
				break
			}
			seen[e.ID] = true
		}
		groups = append(groups, replays[:cut])
		replays = replays[cut:]
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	replayed, notDuplicate := 0, 0
	work := make(chan []event)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := newAPI(srv.url(), key)
			for g := range work {
				ans := a.postUsage(g)
				mu.Lock()
				if ans.status != 200 || len(ans.results) != len(g) {
					t.Errorf("replay: %d %.300s", ans.status, ans.raw)
				}
				for i, r := range ans.results {
					replayed++
					if !r.Duplicate || r.Credits.String() != bk.acked[g[i].ID] {
						notDuplicate++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, g := range groups {
		work <- g
	}
	close(work)
	wg.Wait()
	if notDuplicate > 0 {
		t.Errorf("%d of %d replayed events were not answered as duplicates with their first credits", notDuplicate, replayed)
	}
	lost, doubles := verify(t, dsn, org, bk)
	t.Logf("FIGURES replay: events=%d replayed=%d batches=%d not-duplicate=%d lost=%d double-charges=%d",
		len(all), replayed, len(groups), notDuplicate, lost, doubles)
}

// sent returns every acknowledged event whose body the book remembers, by id.
func (b *book) sent() []event {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]event, 0, len(b.bodies))
	for _, e := range b.bodies {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
