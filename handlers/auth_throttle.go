package handlers

import (
	"sync"
	"time"
)

// Throttle allows at most max attempts per key in any window of time, in memory. Each server
// counts its own attempts, which bounds guessing per server; the accounts' bcrypt cost bounds
// it further.
type Throttle struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	hits   map[string][]time.Time
	swept  time.Time
}

// NewThrottle returns a throttle of max attempts per window.
func NewThrottle(max int, window time.Duration) *Throttle {
	return &Throttle{max: max, window: window, now: time.Now, hits: map[string][]time.Time{}}
}

// Wait returns how long key must wait before its next attempt: 0 when it may go on now.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	hits := t.live(key, now)
	if len(hits) < t.max {
		return 0
	}
	return hits[len(hits)-t.max].Add(t.window).Sub(now)
}

// Hit records an attempt by key.
func (t *Throttle) Hit(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	hits := append(t.live(key, now), now)
	if len(hits) > t.max {
		hits = hits[len(hits)-t.max:]
	}
	t.hits[key] = hits
	if now.Sub(t.swept) > t.window {
		t.sweep(now)
	}
}

// Reset forgets key's attempts (after a successful sign-in).
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	delete(t.hits, key)
	t.mu.Unlock()
}

// live returns key's attempts within the window ending now, dropping older ones.
func (t *Throttle) live(key string, now time.Time) []time.Time {
	hits := t.hits[key]
	i := 0
	for i < len(hits) && now.Sub(hits[i]) >= t.window {
		i++
	}
	if i == len(hits) {
		delete(t.hits, key)
		return nil
	}
	hits = hits[i:]
	t.hits[key] = hits
	return hits
}

// sweep forgets every key with no attempt left in the window, so memory stays bounded by the
// attempts of one window.
func (t *Throttle) sweep(now time.Time) {
	for k, hits := range t.hits {
		if now.Sub(hits[len(hits)-1]) >= t.window {
			delete(t.hits, k)
		}
	}
	t.swept = now
}
