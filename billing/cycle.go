package billing

import "time"

// CycleAt returns the billing cycle [start, end) that contains instant at for an organization
// whose cycles are anchored at anchor: cycle k starts k calendar months after the anchor, on the
// anchor's day of month clamped to the month's end, at the anchor's time of day (UTC).
func CycleAt(anchor, at time.Time) (start, end time.Time) {
	anchor, at = anchor.UTC(), at.UTC()
	k := (at.Year()-anchor.Year())*12 + int(at.Month()-anchor.Month())
	for cycleStart(anchor, k).After(at) {
		k--
	}
	for !cycleStart(anchor, k+1).After(at) {
		k++
	}
	return cycleStart(anchor, k), cycleStart(anchor, k+1)
}

// NextCycle returns the cycle after the one starting at start.
func NextCycle(anchor, start time.Time) (time.Time, time.Time) {
	_, end := CycleAt(anchor, start)
	_, next := CycleAt(anchor, end)
	return end, next
}

func cycleStart(anchor time.Time, k int) time.Time {
	y, m := anchor.Year(), int(anchor.Month())-1+k
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	month := time.Month(m + 1)
	day := anchor.Day()
	if last := daysIn(y, month); day > last {
		day = last
	}
	return time.Date(y, month, day, anchor.Hour(), anchor.Minute(), anchor.Second(), anchor.Nanosecond(), time.UTC)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
