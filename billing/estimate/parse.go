package estimate

import (
	"strconv"
	"strings"

	"github.com/luxstudio/lux-billing/billing"
)

// ParseNumber reads a count or quantity as a person types it: a whole number, optionally with
// thousands separators ("10,000", "10 000", "10_000"). The error is EINVALID with a message
// for the field: empty, not a number, a fraction, negative, or absurdly large (over limit).
func ParseNumber(s string, limit int64) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, billing.Errorf(billing.EINVALID, "enter a number")
	}
	t = strings.NewReplacer(",", "", "_", "", " ", "", "\u00a0", "", "\u202f", "").Replace(t)
	neg := strings.HasPrefix(t, "-")
	digits := strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	whole, frac, hasFrac := strings.Cut(digits, ".")
	if whole == "" && !hasFrac || !allDigits(whole) || hasFrac && (!allDigits(frac) || frac == "" && whole == "") {
		return 0, billing.Errorf(billing.EINVALID, "%q is not a number: enter a whole number, like 2000", clip(s))
	}
	if hasFrac && strings.Trim(frac, "0") != "" {
		return 0, billing.Errorf(billing.EINVALID, "enter a whole number (got %s)", clip(s))
	}
	whole = strings.TrimLeft(whole, "0")
	if neg && whole != "" {
		return 0, billing.Errorf(billing.EINVALID, "can't be negative")
	}
	if whole == "" {
		return 0, nil
	}
	if len(whole) > len(strconv.FormatInt(limit, 10)) {
		return 0, tooLarge(clip(s), limit)
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n > limit {
		return 0, tooLarge(billing.Thousands(n), limit)
	}
	return n, nil
}

func tooLarge(what string, limit int64) error {
	return billing.Errorf(billing.EINVALID, "%s is more than the %s an estimate takes: check the number", what, billing.Thousands(limit))
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clip keeps a typed value short enough to quote in a message.
func clip(s string) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) > 24 {
		return string(r[:24]) + "…"
	}
	return string(r)
}
