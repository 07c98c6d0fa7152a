package billing

// CSVText makes a text value safe as a CSV cell for spreadsheets: a value that begins with
// "=", "+", "-", "@", a tab or a carriage return would be read as a formula (formula
// injection), so it gets a leading apostrophe, which spreadsheets show as text. Every CSV the
// product writes passes its text cells (ids, names, labels, models) through it; numbers the
// product formats itself are written as they are, so they stay numbers.
func CSVText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
