package billing

import (
	"context"
	"fmt"
)

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

// Test hooks of authorize's shared reads (authorize.go).

// AuthorizeRead is one request of a shared authorize read.
type AuthorizeRead struct {
	Org, User string
	Balance   Millicredits
	IsMember  bool
	Err       error
}

// ReadAuthorizeTogether reads the state of reqs in one shared read, as queued requests are.
func ReadAuthorizeTogether(s *Service, reqs []AuthorizeRead) {
	jobs := make([]*authorizeJob, len(reqs))
	for i, r := range reqs {
		jobs[i] = &authorizeJob{org: r.Org, user: r.User, done: make(chan outcome[*authorizeRow], 1)}
	}
	s.readAuthorize(context.Background(), jobs)
	for i, j := range jobs {
		o := <-j.done
		reqs[i].Err = o.err
		if o.res != nil {
			if o.res.OrgID != reqs[i].Org {
				reqs[i].Err = fmt.Errorf("answered with org %s", o.res.OrgID)
			}
			reqs[i].Balance, reqs[i].IsMember = o.res.Balance, o.res.IsMember
		}
	}
}
