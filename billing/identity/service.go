// Package identity is who people and machines are: users and their passwords, memberships of
// organizations and their roles, and API keys. It stands beside the core (package billing):
// an organization is created by the core with its account, inside identity's transaction that
// adds its first admin. It never writes ledger tables.
package identity

import "github.com/luxstudio/lux-billing/billing"

// Service is identity's entry point, over the core's shared store. It is safe for concurrent
// use.
type Service struct {
	core  *billing.Service
	store *billing.Store
	keys  keyCache    // recently authenticated API keys
	limit signInLimit // the per-account sign-in limit's sweeps
}

// New returns identity over the core. Its API key cache is dropped whenever keys or
// memberships change (notification lux_auth, see billing.Service.Watch), so build it before
// Watch starts.
func New(core *billing.Service) *Service {
	s := &Service{core: core, store: core.Store}
	core.OnNotify("lux_auth", s.keys.clear)
	return s
}
