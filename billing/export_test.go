package billing

// Test hooks of the ingestion paths (ingest_fast.go).

// SlowPathOnly makes s record every group through the Go path, to compare the two paths.
func SlowPathOnly(s *Service) { s.slowOnly = true }

// FastGroups is the number of groups s recorded in one statement (ingest_usage).
func FastGroups(s *Service) int64 { return s.fastRuns.Load() }

// FastPathForAnySize lets s record groups of any size in one round trip.
func FastPathForAnySize(s *Service) { s.fastMax = MaxBatch * maxCoalescedJobs }
