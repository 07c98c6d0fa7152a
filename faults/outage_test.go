//go:build faults

package faults

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// TestOutage_DatabaseDownAnswers503AndRecoversByItself stops the server's PostgreSQL cluster
// in the middle of a load: while it is down the API answers 503 with a JSON error (never a 500
// or a panic) and /healthz says not ready; once it is back the server recovers by itself, and
// nothing acknowledged is lost.
func TestOutage_DatabaseDownAnswers503AndRecoversByItself(t *testing.T) {
	e := newEnv(t, "outage@example.com")
	pg, dsn, srv, org, key := e.pg, e.dsn, e.srv, e.org, e.key
	bk := newBook()
	stop := startLoad(srv.url(), key, 8, e.seed, bk, true)
	waitAcked(t, bk, 50)

	pg.stop()
	down := time.Now()
	probe := newAPI(srv.url(), key)
	probes, unavailable := 0, 0
	// Hold the outage for three seconds, probing the API and /healthz all along.
	for time.Since(down) < 3*time.Second {
		ans := probe.postUsage([]event{{ID: "probe-" + time.Now().Format("150405.000000000"), FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1}})
		probes++
		switch {
		case ans.status == http.StatusServiceUnavailable && ans.code == billing.EUNAVAILABLE && strings.Contains(ans.raw, `"message"`):
			unavailable++
		default:
			t.Errorf("POST /api/v1/usage while the database is down: %d %.300s", ans.status, ans.raw)
		}
		h := probe.get("/healthz")
		if h.status != http.StatusServiceUnavailable || !strings.Contains(h.raw, "unavailable") {
			t.Errorf("/healthz while the database is down: %d %.200s", h.status, h.raw)
		}
		for _, path := range []string{"/api/v1/credits", "/api/v1/usage", "/api/v1/executions/x"} {
			if a := probe.get(path); a.status != http.StatusServiceUnavailable || a.code != billing.EUNAVAILABLE {
				t.Errorf("GET %s while the database is down: %d %.200s", path, a.status, a.raw)
			}
		}
		if t.Failed() {
			break
		}
	}
	outage := time.Since(down)
	pg.start()
	back := time.Now()
	// The server reconnects by itself: the same probe succeeds within a deadline.
	recovered := time.Duration(0)
	for time.Since(back) < 30*time.Second {
		ans := probe.postUsage([]event{{ID: "after-" + time.Now().Format("150405.000000000"), FlowID: "f", ExecutionID: "x", Type: "email", Quantity: 1}})
		if ans.status == http.StatusOK {
			recovered = time.Since(back)
			bk.mu.Lock()
			bk.acked[ans.results[0].ID] = ans.results[0].Credits.String()
			bk.mu.Unlock()
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval, with a deadline
	}
	if recovered == 0 {
		t.Fatal("the server did not recover within 30 s of the database coming back")
	}
	if h := probe.get("/healthz"); h.status != http.StatusOK {
		t.Errorf("/healthz after recovery: %d %s", h.status, h.raw)
	}
	waitAcked(t, bk, bk.ackedCount()+50)
	stop()
	if !srv.alive() {
		t.Fatal("the server exited during the outage")
	}
	if n := bk.statuses[http.StatusInternalServerError]; n > 0 {
		t.Errorf("%d answers were 500 during the run", n)
	}
	lost, doubles := verify(t, dsn, org, bk)
	t.Logf("FIGURES outage: outage=%s probes=%d answered-503=%d recovered-after=%s acknowledged=%d client-503s=%d lost=%d double-charges=%d",
		outage.Round(10*time.Millisecond), probes, unavailable, recovered.Round(time.Millisecond), len(bk.acked), bk.statuses[503], lost, doubles)
}

// waitAcked polls until the book holds n acknowledged events.
func waitAcked(t *testing.T, bk *book, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for bk.ackedCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events acknowledged within a minute", bk.ackedCount(), n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, with a deadline
	}
}
