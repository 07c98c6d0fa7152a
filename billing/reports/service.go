// Package reports reads usage for people: usage reports by day, week or month and their CSV,
// the forecast, recent ledger activity, the execution drill-down and the date ranges reports
// cover, in each organization's time zone. It reads the rollups and the ledger the core
// writes and writes nothing itself.
package reports

import "github.com/luxstudio/lux-billing/billing"

// Service is the reports' entry point, over the core's shared store. It is safe for concurrent
// use.
type Service struct {
	core  *billing.Service
	store *billing.Store
}

// New returns the reports over the core.
func New(core *billing.Service) *Service { return &Service{core: core, store: core.Store} }
