package limits

import (
	_ "embed"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed queries.sql
var queriesSQL string

// q holds the named statements of queries.sql; a missing name panics at package start-up.
var q = func() struct{ insertChange, selectChanges string } {
	f := billing.ParseQueries("billing/limits/queries.sql", queriesSQL)
	return struct{ insertChange, selectChanges string }{f.Get("insert-change"), f.Get("select-changes")}
}()
