package billing

import "testing"

func TestMillicredits_Format(t *testing.T) {
	cases := []struct {
		m        Millicredits
		decimal  string
		readable string
	}{
		{0, "0", "0"},
		{1, "0.001", "0.001"},
		{7660, "7.66", "7.66"},
		{12345500, "12345.5", "12,345.5"},
		{-1500, "-1.5", "-1.5"},
		{1000000000, "1000000", "1,000,000"},
		{-123456789, "-123456.789", "-123,456.789"},
	}
	for _, c := range cases {
		if got := c.m.Decimal(); got != c.decimal {
			t.Errorf("%d.Decimal() = %q, want %q", int64(c.m), got, c.decimal)
		}
		if got := c.m.String(); got != c.readable {
			t.Errorf("%d.String() = %q, want %q", int64(c.m), got, c.readable)
		}
		back, err := ParseCredits(c.decimal)
		if err != nil || back != c.m {
			t.Errorf("ParseCredits(%q) = %d, %v; want %d", c.decimal, back, err, c.m)
		}
	}
}

func TestParseCredits_RejectsWhatIsNotAnAmount(t *testing.T) {
	for _, s := range []string{"", "abc", "1.2345", "1e3", "--1", "1.2.3", "."} {
		if _, err := ParseCredits(s); ErrorCode(err) != EINVALID {
			t.Errorf("ParseCredits(%q): %v, want EINVALID", s, err)
		}
	}
}

func TestCents_String(t *testing.T) {
	for c, want := range map[Cents]string{0: "$0.00", 5: "$0.05", 123450: "$1,234.50", -99: "-$0.99"} {
		if got := c.String(); got != want {
			t.Errorf("Cents(%d) = %q, want %q", int64(c), got, want)
		}
	}
}
