//go:build faults

package faults

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestCrash_KilledServerLosesNothingAndChargesOnce kills the real server with SIGKILL at random
// moments while 16 clients post usage (about 5 % replayed ids), restarts it each time, and then
// proves that every acknowledged event exists exactly once, no refused one exists, replays after
// the last restart are duplicates, and `lux check` passes.
func TestCrash_KilledServerLosesNothingAndChargesOnce(t *testing.T) {
	crashes := 20
	if n, err := strconv.Atoi(os.Getenv("LUX_FAULTS_CRASHES")); err == nil && n > 0 {
		crashes = n
	}
	e := newEnv(t, "crash@example.com")
	seed, dsn, srv, org, key := e.seed, e.dsn, e.srv, e.org, e.key
	rnd := rand.New(rand.NewPCG(seed, 0))
	bk := newBook()
	stop := startLoad(srv.url(), key, 16, seed, bk, false)
	var downtime time.Duration
	for i := 0; i < crashes; i++ {
		// Let the clients get going on this server, then crash it at a random moment.
		before := bk.ackedCount()
		deadline := time.Now().Add(30 * time.Second)
		for bk.ackedCount() < before+20 && time.Now().Before(deadline) {
			time.Sleep(2 * time.Millisecond) // polling interval, with a deadline
		}
		time.Sleep(time.Duration(rnd.IntN(300)) * time.Millisecond) // the random moment
		srv.kill()
		down := time.Now()
		srv.run()
		downtime += time.Since(down)
	}
	stop()

	// Replays after the last restart: every acknowledged event sent again, in shuffled batches,
	// is a duplicate with the credits first answered.
	ids := make([]string, 0, len(bk.acked))
	for id := range bk.acked {
		ids = append(ids, id)
	}
	rnd.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	if len(ids) > 400 {
		ids = ids[:400]
	}
	replayed := replayAcked(t, srv.url(), key, ids, bk)

	lost, doubles := verify(t, dsn, org, bk)
	t.Logf("FIGURES crash: crashes=%d acknowledged=%d refused=%d replays-in-load=%d replays-after-restart=%d retried-batches=%d lost=%d double-charges=%d restart-avg=%s",
		crashes, len(bk.acked), len(bk.refused), bk.replays, replayed, bk.retries, lost, doubles, (downtime / time.Duration(crashes)).Round(time.Millisecond))
}
