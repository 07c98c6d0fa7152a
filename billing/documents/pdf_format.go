package documents

import (
	"fmt"
	"strings"

	"github.com/luxstudio/lux-billing/billing"
)

// money formats minor units in a currency: "$1,234.50", "€12.00", "CHF 12.00".
func money(cents int64, currency string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	s := billing.Thousands(cents/100) + fmt.Sprintf(".%02d", cents%100)
	switch strings.ToLower(currency) {
	case "usd":
		s = "$" + s
	case "eur":
		s = "€" + s
	case "gbp":
		s = "£" + s
	default:
		s = strings.ToUpper(currency) + " " + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Money formats a document amount for people, like the PDF does.
func Money(c billing.Cents, currency string) string { return money(int64(c), currency) }

// taxLabel is the tax line's label with its rate ("Tax (8.25%)").
func taxLabel(d *Document) string {
	label := d.Body.TaxLabel
	if label == "" {
		label = "Tax"
	}
	rate := d.Body.TaxRateBP
	pct := fmt.Sprintf("%d.%02d", rate/100, rate%100)
	pct = strings.TrimSuffix(strings.TrimRight(pct, "0"), ".")
	return fmt.Sprintf("%s (%s%%)", label, pct)
}

// wrap splits s into lines no wider than w in the current font. It measures the translated
// (code page) text, which fpdf's SplitText cannot do for characters outside ASCII.
func (r *renderer) wrap(s string, w float64) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		next := word
		if line != "" {
			next = line + " " + word
		}
		if line != "" && r.pdf.GetStringWidth(r.tr(next)) > w {
			lines = append(lines, line)
			next = word
		}
		line = next
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
