package handlers_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// postAll runs n clients at once (released together, no sleeps), client i posting bodies(i)
// one after another, and returns every answer; a transport error fails the test.
func (e *apiEnv) postAll(t *testing.T, key string, n int, bodies func(client int) []any) [][]response {
	t.Helper()
	out := make([][]response, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for _, b := range bodies(c) {
				r, err := e.send("POST", "/api/v1/usage", "Bearer "+key, b)
				if err != nil {
					errs[c] = err
					return
				}
				out[c] = append(out[c], r)
			}
		}()
	}
	close(start)
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			t.Fatalf("client %d: %v", c, err)
		}
	}
	return out
}

// allOK fails the test unless every answer is 200.
func allOK(t testing.TB, answers [][]response) {
	t.Helper()
	for c, rs := range answers {
		for _, r := range rs {
			if r.Status != http.StatusOK {
				t.Fatalf("client %d: HTTP %d: %s", c, r.Status, r.Body)
			}
		}
	}
}

// results returns an answer's per-event results.
func results(t testing.TB, r response) []map[string]any {
	t.Helper()
	raw, _ := r.JSON["results"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

func TestPostUsage_ConcurrentClientsChargeEveryEventOnce(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada") // Free: 1,000 credits
	const clients, requests = 32, 8
	// Even clients send single events, odd clients batches of 3; every event is 2 SMS (4 credits).
	sms := func(id string) map[string]any {
		return map[string]any{"id": id, "flowId": "flow_1", "executionId": "exec_" + id[:3], "type": "sms", "quantity": 2}
	}
	perBatch := func(c int) int { return 1 + 2*(c%2) }
	answers := e.postAll(t, a.key, clients, func(c int) []any {
		var bodies []any
		for r := range requests {
			var evs []map[string]any
			for k := range perBatch(c) {
				evs = append(evs, sms(fmt.Sprintf("c%02d_r%d_e%d", c, r, k)))
			}
			bodies = append(bodies, batch(evs...))
		}
		return bodies
	})
	allOK(t, answers)

	var events int
	var balances []string
	for c, rs := range answers {
		for _, r := range rs {
			res := results(t, r)
			if len(res) != perBatch(c) {
				t.Fatalf("client %d: %d results for %d events", c, len(res), perBatch(c))
			}
			for _, x := range res {
				if x["duplicate"] != false || x["credits"] != json.Number("4") {
					t.Errorf("client %d: result %v, want a new event of 4 credits", c, x)
				}
			}
			events += len(res)
			balances = append(balances, num(t, r, "balance"))
		}
	}
	const costMC = 4_000
	total := int64(events) * costMC
	granted := int64(billing.Credits(1000))
	s := e.state(a.org)
	if s.Events != int64(events) || events != 16*requests*1+16*requests*3 {
		t.Errorf("%d events recorded, %d answered; want %d", s.Events, events, 16*requests*4)
	}
	if s.Balance != granted-total || s.CycleUsed != total {
		t.Errorf("balance %d mc, cycle used %d mc; want %d and %d", s.Balance, s.CycleUsed, granted-total, total)
	}
	if s.Arrears != total-granted {
		t.Errorf("arrears %d mc, want exactly the cost beyond the grants, %d", s.Arrears, total-granted)
	}
	var usageEntries, unfunded, negative, remaining int64
	if err := e.DB.QueryRow(`SELECT count(*), COALESCE(sum(unfunded_mc), 0) FROM ledger_entries WHERE org_id = $1 AND kind = 'usage'`, a.org).Scan(&usageEntries, &unfunded); err != nil {
		t.Fatal(err)
	}
	// Concurrent batches of one org may share a transaction and a usage entry (coalesce.go).
	if usageEntries < 1 || usageEntries > clients*requests || unfunded != total-granted {
		t.Errorf("%d usage entries with %d mc unfunded; want 1 to %d entries, %d mc", usageEntries, unfunded, clients*requests, total-granted)
	}
	if err := e.DB.QueryRow(`SELECT count(*) FILTER (WHERE remaining_mc < 0), COALESCE(sum(remaining_mc), 0) FROM grants WHERE org_id = $1`, a.org).Scan(&negative, &remaining); err != nil {
		t.Fatal(err)
	}
	if negative != 0 || remaining != 0 {
		t.Errorf("%d grants below zero, %d mc left in grants; want none and 0", negative, remaining)
	}
	// The lowest balance any answer reported is the final one.
	sort.Slice(balances, func(i, j int) bool { return mustMC(t, balances[i]) < mustMC(t, balances[j]) })
	if got := mustMC(t, balances[0]); got != s.Balance {
		t.Errorf("lowest reported balance %d mc, final %d mc", got, s.Balance)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func mustMC(t testing.TB, credits string) int64 {
	t.Helper()
	m, err := billing.ParseCredits(credits)
	if err != nil {
		t.Fatal(err)
	}
	return int64(m)
}

func TestPostUsage_SameEventPostedConcurrentlyIsChargedOnce(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	const senders = 10
	hot := event("evt_hot")
	hot["quantity"] = 7
	answers := e.postAll(t, a.key, senders, func(int) []any { return []any{batch(hot)} })
	allOK(t, answers)
	fresh := 0
	for _, rs := range answers {
		x := results(t, rs[0])[0]
		if x["credits"] != json.Number("7") {
			t.Errorf("result %v, want 7 credits", x)
		}
		if x["duplicate"] == false {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of %d answers say the event is new, want exactly 1", fresh, senders)
	}
	if s := e.state(a.org); s.Events != 1 || s.Balance != int64(billing.Credits(993)) {
		t.Errorf("%d events, balance %d mc; want 1 event and 993000 mc", s.Events, s.Balance)
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestPostUsage_OverlappingBatchesInAnyOrderDoNotDeadlock(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	const senders, ids = 10, 6
	answers := e.postAll(t, a.key, senders, func(c int) []any {
		rng := rand.New(rand.NewPCG(uint64(c), 1))
		evs := make([]map[string]any, ids)
		for i, k := range rng.Perm(ids) {
			evs[i] = event(fmt.Sprintf("shared_%d", k))
		}
		return []any{batch(evs...)}
	})
	allOK(t, answers)
	fresh := map[string]int{}
	for _, rs := range answers {
		for _, x := range results(t, rs[0]) {
			if x["duplicate"] == false {
				fresh[x["id"].(string)]++
			}
		}
	}
	for k := range ids {
		if id := fmt.Sprintf("shared_%d", k); fresh[id] != 1 {
			t.Errorf("%s reported new %d times, want once", id, fresh[id])
		}
	}
	if s := e.state(a.org); s.Events != ids || s.Balance != int64(billing.Credits(1000-ids)) {
		t.Errorf("%d events, balance %d mc; want %d events, %d mc", s.Events, s.Balance, ids, billing.Credits(1000-ids))
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}

func TestPostUsage_ConcurrentBadBatchesDoNotAffectGoodOnes(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	a := e.signUp("ada")
	if r := e.call("POST", "/api/v1/usage", a.key, batch(event("taken"))); r.Status != http.StatusOK {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	// Clients 0, 3, 6, … reuse "taken" with another body (409); 1, 4, 7, … name a user who is not
	// a member (400); the others are good. Each bad batch also carries a good event of its own,
	// which must not be written.
	const clients = 24
	answers := e.postAll(t, a.key, clients, func(c int) []any {
		own := event(fmt.Sprintf("own_%d", c))
		switch c % 3 {
		case 0:
			bad := event("taken")
			bad["quantity"] = 2
			return []any{batch(own, bad)}
		case 1:
			bad := event(fmt.Sprintf("stranger_%d", c))
			bad["userId"] = "usr_stranger"
			return []any{batch(own, bad)}
		}
		return []any{batch(own)}
	})
	for c, rs := range answers {
		want := []int{http.StatusConflict, http.StatusBadRequest, http.StatusOK}[c%3]
		if rs[0].Status != want {
			t.Errorf("client %d: HTTP %d, want %d: %s", c, rs[0].Status, want, rs[0].Body)
		}
	}
	var ids []string
	if err := e.DB.Select(&ids, `SELECT id FROM usage_events WHERE org_id = $1 ORDER BY id`, a.org); err != nil {
		t.Fatal(err)
	}
	want := []string{}
	for c := range clients {
		if c%3 == 2 {
			want = append(want, fmt.Sprintf("own_%d", c))
		}
	}
	want = append(want, "taken")
	sort.Strings(want)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("recorded %v\nwant     %v", ids, want)
	}
	if s := e.state(a.org); s.Balance != int64(billing.Credits(1000-int64(len(want)))) {
		t.Errorf("balance %d mc, want %d", s.Balance, billing.Credits(1000-int64(len(want))))
	}
	billingtest.AssertLedger(t, e.DB, a.org)
}
