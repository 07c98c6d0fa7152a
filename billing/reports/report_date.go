package reports

import (
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// Date is a calendar day with no time of day and no zone of its own: in reports it is a day
// in the organization's time zone. The zero Date is "no date". Dates compare with ==.
type Date struct {
	t time.Time // 00:00 UTC of the day; only year, month and day matter
}

// NewDate returns the given day; out-of-range values normalise as time.Date does
// (March 32 is April 1).
func NewDate(year int, month time.Month, day int) Date {
	return Date{time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar day instant t falls on in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// ParseDate parses "2006-01-02", a day from MinYear to MaxYear. Anything else is EINVALID
// with a message naming the format or the window; in particular 0001-01-01 (the zero time) is
// a date that was given and is refused, never taken for "no date".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, billing.Errorf(billing.EINVALID, "%q is not a date: use YYYY-MM-DD, like 2026-03-01", s)
	}
	if t.Year() < MinYear || t.Year() > MaxYear {
		return Date{}, billing.Errorf(billing.EINVALID, "%s is outside the dates reports cover (%d-01-01 to %d-12-31)", s, MinYear, MaxYear)
	}
	return Date{t}, nil
}

// The years a report date may fall in.
const (
	MinYear = 2000
	MaxYear = 2999
)

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// String formats d as "2006-01-02" ("" for the zero Date).
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(time.DateOnly)
}

// Format formats d with a time layout ("Jan 2"); time-of-day fields print as midnight.
func (d Date) Format(layout string) string { return d.t.Format(layout) }

// Year returns d's year.
func (d Date) Year() int { return d.t.Year() }

// Month returns d's month.
func (d Date) Month() time.Month { return d.t.Month() }

// Day returns d's day of the month (1–31).
func (d Date) Day() int { return d.t.Day() }

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday { return d.t.Weekday() }

// AddDays returns d plus n days (n may be negative).
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// Compare returns -1, 0 or +1 as d is before, the same day as, or after e.
func (d Date) Compare(e Date) int { return d.t.Compare(e.t) }

// DaysUntil returns the number of days from d to e (negative when e is before d).
func (d Date) DaysUntil(e Date) int { return int(e.t.Sub(d.t) / (24 * time.Hour)) }

// Start returns the instant day d begins in loc (not always 00:00 where a DST change falls at
// midnight; time.Date picks the valid instant).
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// Time returns 00:00 UTC of d (for templates that format dates).
func (d Date) Time() time.Time { return d.t }

// MarshalJSON writes d as "2006-01-02", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "2006-01-02" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return billing.Errorf(billing.EINVALID, "a date is a string YYYY-MM-DD, not %s", b)
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value passes d to PostgreSQL as a DATE literal.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a DATE column (lib/pq returns it as a time.Time at 00:00 UTC).
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
	case time.Time:
		*d = NewDate(v.Year(), v.Month(), v.Day())
	case []byte:
		return d.Scan(string(v))
	case string:
		p, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return fmt.Errorf("billing: scan date %q: %w", v, err)
		}
		*d = Date{p}
	default:
		return fmt.Errorf("billing: cannot scan %T into a Date", src)
	}
	return nil
}

// addMonthsTo1st returns the 1st of the month n months after d's.
func (d Date) addMonthsTo1st(n int) Date { return NewDate(d.Year(), d.Month()+time.Month(n), 1) }
