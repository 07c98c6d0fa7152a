package benchkit

import "testing"

func TestReplaceSection(t *testing.T) {
	const sec = "## API ingestion\n\nnew figures\n"
	cases := []struct{ name, doc, want string }{
		{"empty file", "", sec},
		{"appended after another section",
			"# Benchmarks\n\nIntro.\n\n## Reports at 10 million events\n\nTheirs.\n",
			"# Benchmarks\n\nIntro.\n\n## Reports at 10 million events\n\nTheirs.\n\n" + sec},
		{"replaced before another section",
			"# Benchmarks\n\n## API ingestion\n\nold\n| a |\n\n## Reports at 10 million events\n\nTheirs.\n",
			"# Benchmarks\n\n" + sec + "\n## Reports at 10 million events\n\nTheirs.\n"},
		{"replaced at the end",
			"# Benchmarks\n\n## Reports at 10 million events\n\nTheirs.\n\n## API ingestion\n\nold\n\n### Profile\n\nold too\n",
			"# Benchmarks\n\n## Reports at 10 million events\n\nTheirs.\n\n" + sec},
		{"a similar heading is not ours",
			"## API ingestion notes\n\nkeep\n",
			"## API ingestion notes\n\nkeep\n\n" + sec},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ReplaceSection(c.doc, "## API ingestion", sec); got != c.want {
				t.Errorf("got\n%q\nwant\n%q", got, c.want)
			}
		})
	}
}
