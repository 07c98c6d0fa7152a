package billing

// Test hooks of the ingestion paths (ingest_fast.go).

// SlowPathOnly makes s record every group through the Go path, to compare the two paths.
func SlowPathOnly(s *Service) { s.slowOnly = true }

// FastGroups is the number of groups s recorded in one statement (ingest_usage).
func FastGroups(s *Service) int64 { return s.fastRuns.Load() }

// FastPathForAnySize lets s record groups of any size in one round trip.
func FastPathForAnySize(s *Service) { s.fastMax = MaxBatch * maxCoalescedJobs }

// OnTimezoneStep runs fn between ChangeTimezone's steps (TimezoneBuilt, TimezoneCaughtUp).
func OnTimezoneStep(s *Service, fn func(step string)) { s.timezoneHook = fn }

// RebuildUsageDailyQuery is the daily rollup computed from the events ($1 org, $2 zone).
var RebuildUsageDailyQuery = queries.RebuildUsageDaily
