package billing_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

func TestRecordUsage_PricesPerRateCard(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	cases := []struct {
		name  string
		typ   string
		model string
		qty   int64
		want  string
	}{
		{"1,000 Sonnet tokens", "ai", "claude-sonnet", 1000, "5"},
		{"1,532 Sonnet tokens", "ai", "claude-sonnet", 1532, "7.66"},
		{"1,000 Haiku tokens", "ai", "claude-haiku", 1000, "1"},
		{"1,000 Opus tokens", "ai", "claude-opus", 1000, "15"},
		{"1,000 GPT-4o tokens", "ai", "gpt-4o", 1000, "5"},
		{"1 GPT-4o-mini token", "ai", "gpt-4o-mini", 1, "0.001"},
		{"1 email", "email", "", 1, "1"},
		{"1 SMS", "sms", "", 1, "2"},
		{"61 s of voice is two started minutes", "voice_call", "", 61, "10"},
		{"60 s of voice is one minute", "voice_call", "", 60, "5"},
		{"1 s of voice is one started minute", "voice_call", "", 1, "5"},
		{"1,500 synthesis characters", "voice_synthesis", "", 1500, "1.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := f.Record(t, billingtest.Event(c.typ, c.model, c.qty))
			if got := res.Results[0].Credits.Decimal(); got != c.want {
				t.Errorf("cost = %s credits, want %s", got, c.want)
			}
		})
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRecordUsage_UnknownTypeOrModelIsRefused(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	for _, e := range []billing.UsageEvent{
		billingtest.Event("ai", "claude-unknown", 10),
		billingtest.Event("ai", "", 10),
		billingtest.Event("fax", "", 1),
		billingtest.Event("email", "claude-sonnet", 1),
	} {
		_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{billingtest.Event("email", "", 1), e})
		if billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("%s/%s: error %v, want EINVALID", e.Type, e.Model, err)
		}
	}
	var n int
	if err := f.DB.Get(&n, `SELECT count(*) FROM usage_events`); err != nil || n != 0 {
		t.Fatalf("events written by refused batches: %d (%v)", n, err)
	}
	if cs := f.CreditSummary(t); cs.Balance != billing.Credits(1000) {
		t.Errorf("balance changed to %s by refused batches", cs.Balance)
	}
}

func TestRecordUsage_DuplicateIDChargesOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	e := billingtest.Event("sms", "", 3)
	first := f.Record(t, e)
	again := f.Record(t, e)
	if first.Results[0].Duplicate || !again.Results[0].Duplicate {
		t.Fatalf("duplicate flags: first %v, again %v", first.Results[0].Duplicate, again.Results[0].Duplicate)
	}
	if again.Results[0].Credits != billing.Credits(6) {
		t.Errorf("duplicate reports %s credits, want the original 6", again.Results[0].Credits)
	}
	if again.Balance != billing.Credits(1000-6) {
		t.Errorf("balance %s, want 994", again.Balance)
	}
	// The same id with another body is a conflict, and nothing of its batch is written.
	changed := e
	changed.Quantity = 4
	other := billingtest.Event("email", "", 1)
	_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{other, changed})
	if billing.ErrorCode(err) != billing.ECONFLICT {
		t.Fatalf("reuse with a different body: %v, want ECONFLICT", err)
	}
	var n int
	_ = f.DB.Get(&n, `SELECT count(*) FROM usage_events WHERE id = $1`, other.ID)
	if n != 0 {
		t.Error("the conflicting batch's other event was recorded")
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRecordUsage_SameIDConcurrentlyChargesOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	e := billingtest.Event("email", "", 1)
	var wg sync.WaitGroup
	dups := make(chan bool, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{e})
			if err != nil {
				t.Error(err)
				return
			}
			dups <- res.Results[0].Duplicate
		}()
	}
	wg.Wait()
	close(dups)
	fresh := 0
	for d := range dups {
		if !d {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of 10 concurrent posts were charged, want exactly 1", fresh)
	}
	if cs := f.CreditSummary(t); cs.Balance != billing.Credits(999) {
		t.Errorf("balance %s, want 999", cs.Balance)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRecordUsage_ConcurrentClientsKeepLedgerExact(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free") // 1,000 credits: the racing clients run it into arrears
	const clients, perClient = 32, 10
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				e := billing.UsageEvent{ID: fmt.Sprintf("c%d_e%d", c, i), FlowID: fmt.Sprintf("flow_%d", c%4), ExecutionID: fmt.Sprintf("exec_%d", c), Type: "sms", Quantity: 2}
				// Every client also re-sends an earlier event: retries must not double-charge.
				batch := []billing.UsageEvent{e}
				if i > 0 {
					batch = append(batch, billing.UsageEvent{ID: fmt.Sprintf("c%d_e%d", c, i-1), FlowID: fmt.Sprintf("flow_%d", c%4), ExecutionID: fmt.Sprintf("exec_%d", c), Type: "sms", Quantity: 2})
				}
				if _, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, batch); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var n int
	if err := f.DB.Get(&n, `SELECT count(*) FROM usage_events WHERE org_id = $1`, f.Org); err != nil {
		t.Fatal(err)
	}
	if n != clients*perClient {
		t.Errorf("%d events recorded, want %d", n, clients*perClient)
	}
	cs := f.CreditSummary(t)
	used := billing.Credits(int64(clients * perClient * 4)) // 4 credits an event
	if want := billing.Credits(1000) - used; cs.Balance != want {
		t.Errorf("balance %s, want %s", cs.Balance, want)
	}
	// Grants are empty and the rest is arrears: exactly what the grants could not pay.
	if want := used - billing.Credits(1000); cs.Arrears != want {
		t.Errorf("arrears %s, want %s", cs.Arrears, want)
	}
	if !cs.Paused || cs.PauseReason != billing.ReasonCreditsExhausted {
		t.Errorf("paused=%v reason=%q, want credits_exhausted", cs.Paused, cs.PauseReason)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRecordUsage_BatchTooLarge(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	batch := make([]billing.UsageEvent, billing.MaxBatch+1)
	for i := range batch {
		batch[i] = billingtest.Event("email", "", 1)
	}
	_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, batch)
	if billing.ErrorCode(err) != billing.ETOOLARGE {
		t.Fatalf("1,001 events: %v, want ETOOLARGE", err)
	}
}

func TestRecordUsage_UserMustBeMember(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	e := billingtest.Event("email", "", 1)
	e.UserID = "usr_someone_else"
	_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{e})
	if billing.ErrorCode(err) != billing.EINVALID {
		t.Fatalf("unknown user: %v, want EINVALID", err)
	}
}
