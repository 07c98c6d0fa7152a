package billing

import "strconv"

// MaxQuoted is how many characters of a value a message quotes at most.
const MaxQuoted = 40

// Quote returns s in double quotes for a message, cut to its first MaxQuoted characters (an
// ellipsis marks the cut), so that a huge or hostile value never comes back whole in an error.
// Control characters and invalid bytes are escaped.
func Quote(s string) string {
	if cut := cutText(s, MaxQuoted); cut != s {
		return strconv.Quote(cut) + "…"
	}
	return strconv.Quote(s)
}

// cutText returns the first n characters of s (all of s when it is shorter).
func cutText(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}
