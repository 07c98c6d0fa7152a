// Package faults is the fault suite of Lux Billing: it builds the real lux binary, runs it on a
// private PostgreSQL cluster of its own, and injects faults — kill -9 of the server under load,
// a database outage, replayed and reordered batches — then proves that nothing acknowledged was
// lost, nothing was charged twice and every ledger invariant holds (`lux check`).
//
// The tests carry the build tag "faults", so a plain `go test ./...` stays fast; run them with
// `make test-faults` (which also runs the bounded fuzz targets). Figures are in
// docs/RELIABILITY.md.
package faults
