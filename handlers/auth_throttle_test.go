package handlers

import (
	"testing"
	"time"
)

func TestThrottle_AllowsMaxPerWindowThenWaits(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(3, time.Minute)
	th.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("attempt %d must wait %v", i+1, w)
		}
		th.Hit("k")
		now = now.Add(10 * time.Second)
	}
	// Three hits at 0s, 10s, 20s; now is 30s: the first frees up at 60s.
	if w := th.Wait("k"); w != 30*time.Second {
		t.Fatalf("wait = %v, want 30s", w)
	}
	if w := th.Wait("other"); w != 0 {
		t.Fatalf("another key waits %v", w)
	}
	now = now.Add(30 * time.Second)
	if w := th.Wait("k"); w != 0 {
		t.Fatalf("after the window: wait %v", w)
	}
	th.Hit("k")
	th.Reset("k")
	if w := th.Wait("k"); w != 0 || len(th.hits) != 0 {
		t.Fatalf("after reset: wait %v, %d keys kept", w, len(th.hits))
	}
}

func TestThrottle_ForgetsIdleKeys(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	th := NewThrottle(5, time.Minute)
	th.now = func() time.Time { return now }
	for _, k := range []string{"a", "b", "c"} {
		th.Hit(k)
	}
	now = now.Add(2 * time.Minute)
	th.Hit("d")
	if len(th.hits) != 1 {
		t.Fatalf("%d keys kept, want only the live one", len(th.hits))
	}
}

func TestSafeNext_OnlySettingsPathsOfThisSite(t *testing.T) {
	for raw, want := range map[string]string{
		"/settings/billing":               "/settings/billing",
		"/settings":                       "/settings",
		"/settings/billing/plans?x=1":     "/settings/billing/plans?x=1",
		"":                                "",
		"/login":                          "",
		"/settingsevil":                   "",
		"//evil.example/settings":         "",
		"https://evil.example/settings/":  "",
		"/settings\\@evil.example":        "",
		"/settings/billing\r\nSet-Cookie": "",
	} {
		if got := SafeNext(raw); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", raw, got, want)
		}
	}
}
