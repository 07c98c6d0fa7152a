package billing_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// BenchmarkRecordUsage measures the domain's ingestion path on one org, in process (no HTTP),
// through ingest_usage (path=fast) and through the Go path alone (path=go), side by side:
// go test -run XXX -bench RecordUsage -count 3 ./billing/
func BenchmarkRecordUsage(b *testing.B) {
	for _, c := range []struct {
		size int
		path string
	}{{1, "fast"}, {1, "go"}, {100, "fast"}, {100, "go"}} {
		size := c.size
		b.Run(fmt.Sprintf("batch=%d/path=%s", size, c.path), func(b *testing.B) {
			svc, db := billingtest.NewService(b)
			if c.path == "go" {
				billing.SlowPathOnly(svc)
			}
			u, err := identity.New(svc).CreateUser(ctx, identity.NewUser{Email: "bench@example.com", Password: "correct horse"})
			if err != nil {
				b.Fatal(err)
			}
			org, err := identity.New(svc).CreateOrg(ctx, billing.NewOrg{Name: "Bench", PlanCode: "pro"}, u.ID)
			if err != nil {
				b.Fatal(err)
			}
			var seq atomic.Int64
			b.SetParallelism(benchParallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					batch := make([]billing.UsageEvent, size)
					for i := range batch {
						n := seq.Add(1)
						batch[i] = billing.UsageEvent{ID: fmt.Sprintf("e%d", n), FlowID: fmt.Sprintf("flow_%d", n%7), ExecutionID: fmt.Sprintf("x%d", n/5), Type: "ai", Model: "claude-haiku", Quantity: 100}
					}
					if _, err := svc.RecordUsage(ctx, org, u.ID, batch); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
			billingtest.AssertLedger(b, db, org)
		})
	}
}

// benchParallelism is goroutines per core in BenchmarkRecordUsage.
var benchParallelism = 4
