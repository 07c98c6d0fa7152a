package billing

import (
	"strconv"
	"unicode/utf8"
)

// MaxQuoted is how many characters of a value a message quotes at most.
const MaxQuoted = 40

// Quote returns s in double quotes for a message, cut to its first MaxQuoted characters (an
// ellipsis marks the cut), so that a huge or hostile value never comes back whole in an error.
// Control characters and invalid bytes are escaped.
func Quote(s string) string {
	n, cut := 0, len(s)
	for i := range s {
		if n == MaxQuoted {
			cut = i
			break
		}
		n++
	}
	if cut < len(s) {
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// validText reports whether s is valid UTF-8 without NUL bytes: what the database can store.
func validText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return false
		}
	}
	return true
}
