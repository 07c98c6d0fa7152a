package billing

import (
	"fmt"
	"strconv"
	"strings"
)

// Millicredits is an amount of credit in thousandths of a credit. All credit arithmetic is
// done in this integer unit; it is formatted only at the edge (views, JSON, CLI).
type Millicredits int64

// Credit is one credit.
const Credit Millicredits = 1000

// Credits returns n whole credits as millicredits.
func Credits(n int64) Millicredits { return Millicredits(n) * Credit }

// Cents is an amount of money in minor currency units (US cents for USD).
type Cents int64

// Decimal formats m as a plain decimal number of credits with up to three decimals and no
// thousands separators ("7.66", "-12", "0.001"). It is exact: no floating point is involved.
func (m Millicredits) Decimal() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m)
	}
	whole, frac := u/1000, u%1000
	s := strconv.FormatUint(whole, 10)
	if frac != 0 {
		f := fmt.Sprintf("%03d", frac)
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats m for people: thousands separated, up to three decimals ("12,345.5").
func (m Millicredits) String() string {
	whole, frac, hasFrac := strings.Cut(m.Decimal(), ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	s := Thousands(n)
	if m < 0 && n == 0 {
		s = "-" + s // -0.5: the whole part alone lost its sign
	}
	if hasFrac {
		s += "." + frac
	}
	return s
}

// Thousands formats n with thousands separators ("-1,234,567").
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	digits := strings.TrimPrefix(s, "-")
	var b strings.Builder
	if len(digits) < len(s) {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// MarshalJSON writes m as a JSON number of credits with up to three decimals (7660 → 7.66).
func (m Millicredits) MarshalJSON() ([]byte, error) { return []byte(m.Decimal()), nil }

// ParseCredits parses a decimal number of credits ("12", "7.66", "0.001") into millicredits.
// More than three decimals, a sign other than a leading minus, or anything else is EINVALID.
func ParseCredits(s string) (Millicredits, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	bad := Errorf(EINVALID, "%q is not an amount of credits: use a number with up to 3 decimals, like 1500 or 7.66", s)
	if s == "" {
		return 0, bad
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 3 || len(whole) > 15 {
		return 0, bad
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseUint(whole, 10, 63)
	if err != nil {
		return 0, bad
	}
	var f uint64
	if frac != "" {
		f, err = strconv.ParseUint(frac+strings.Repeat("0", 3-len(frac)), 10, 16)
		if err != nil {
			return 0, bad
		}
	}
	m := Millicredits(w*1000 + f)
	if neg {
		m = -m
	}
	return m, nil
}

// String formats c as dollars and cents ("$1,234.50") for USD amounts.
func (c Cents) String() string {
	neg := c < 0
	if neg {
		c = -c
	}
	s := "$" + Millicredits(int64(c)/100*1000).String() + fmt.Sprintf(".%02d", int64(c)%100)
	if neg {
		s = "-" + s
	}
	return s
}

// UnmarshalJSON reads a JSON number of credits with up to three decimals.
func (m *Millicredits) UnmarshalJSON(b []byte) error {
	v, err := ParseCredits(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
