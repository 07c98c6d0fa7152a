package billing

import (
	"testing"
	"time"
)

func TestCycleAt_ClampsToMonthEnd(t *testing.T) {
	anchor := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		at, start, end string
	}{
		{"2026-01-31T10:00:00Z", "2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"2026-02-28T09:59:59Z", "2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"},
		{"2026-02-28T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z"},
		{"2026-04-15T00:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"},
		{"2028-02-29T12:00:00Z", "2028-02-29T10:00:00Z", "2028-03-31T10:00:00Z"}, // leap year
		{"2026-12-31T10:00:00Z", "2026-12-31T10:00:00Z", "2027-01-31T10:00:00Z"},
	}
	for _, c := range cases {
		at, _ := time.Parse(time.RFC3339, c.at)
		start, end := CycleAt(anchor, at)
		if start.Format(time.RFC3339) != c.start || end.Format(time.RFC3339) != c.end {
			t.Errorf("CycleAt(%s) = [%s, %s), want [%s, %s)", c.at, start.Format(time.RFC3339), end.Format(time.RFC3339), c.start, c.end)
		}
	}
}

func TestCycleAt_CyclesTileTime(t *testing.T) {
	anchor := time.Date(2025, 5, 30, 23, 15, 0, 0, time.UTC)
	start, end := CycleAt(anchor, anchor)
	for range 40 {
		if !end.After(start) {
			t.Fatalf("empty cycle [%s, %s)", start, end)
		}
		s2, e2 := NextCycle(anchor, start)
		if !s2.Equal(end) {
			t.Fatalf("gap or overlap: cycle ends %s, next starts %s", end, s2)
		}
		if ms, me := CycleAt(anchor, end.Add(-time.Nanosecond)); !ms.Equal(start) || !me.Equal(end) {
			t.Fatalf("the last instant of [%s, %s) maps to [%s, %s)", start, end, ms, me)
		}
		start, end = s2, e2
	}
}

func TestAllocate_SoonestExpiringFirstThenOldest(t *testing.T) {
	soon := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	later := soon.AddDate(0, 1, 0)
	grants := []*liveGrant{
		{ID: 1, Kind: GrantPurchase, Remaining: 500},
		{ID: 2, Kind: GrantPlanAllotment, Remaining: 300, ExpiresAt: &later},
		{ID: 3, Kind: GrantPurchase, Remaining: 400},
		{ID: 4, Kind: GrantPromo, Remaining: 100, ExpiresAt: &soon},
	}
	consumptionOrder(grants)
	var order []int64
	for _, g := range grants {
		order = append(order, g.ID)
	}
	if want := []int64{4, 2, 1, 3}; !equal(order, want) {
		t.Fatalf("consumption order %v, want %v", order, want)
	}
	parts, unfunded := allocate(grants, 1000)
	want := []allocation{{4, 100}, {2, 300}, {1, 500}, {3, 100}}
	if len(parts) != len(want) || unfunded != 0 {
		t.Fatalf("allocate = %v, unfunded %d", parts, unfunded)
	}
	for i := range want {
		if parts[i] != want[i] {
			t.Errorf("part %d = %v, want %v", i, parts[i], want[i])
		}
	}
	parts, unfunded = allocate(grants, 1000)
	if len(parts) != 1 || parts[0] != (allocation{3, 300}) || unfunded != 700 {
		t.Errorf("second allocate = %v, unfunded %d; want [{3 300}], 700", parts, unfunded)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
