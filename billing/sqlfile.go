package billing

import (
	"fmt"
	"regexp"

	"github.com/qustavo/dotsql"
)

// QueryFile is a package's queries.sql: statements each headed by "-- name: verb-noun", the
// name unique in the file. A package parses its file once and copies each statement into a
// plain string field of its query struct (field SelectPlan for "select-plan"), so a missing
// name stops the program at start-up, never in a request.
type QueryFile struct {
	file string
	dot  *dotsql.DotSql
}

var queryName = regexp.MustCompile(`(?m)^--\s*name:\s*(\S+)`)

// ParseQueries parses src, the text of file. A malformed file or a name given twice panics:
// the file is embedded, so either is a bug caught by the first test.
func ParseQueries(file, src string) QueryFile {
	seen := map[string]bool{}
	for _, m := range queryName.FindAllStringSubmatch(src, -1) {
		if seen[m[1]] {
			panic(fmt.Sprintf("%s: query %q is named twice", file, m[1]))
		}
		seen[m[1]] = true
	}
	dot, err := dotsql.LoadFromString(src)
	if err != nil {
		panic(fmt.Sprintf("%s: %v", file, err))
	}
	return QueryFile{file: file, dot: dot}
}

// Get returns the statement named name; a missing one panics (see QueryFile).
func (f QueryFile) Get(name string) string {
	raw, err := f.dot.Raw(name)
	if err != nil {
		panic(fmt.Sprintf("%s: no query named %q", f.file, name))
	}
	return raw
}
