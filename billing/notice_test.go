package billing_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// outboxRow is a notification as the outbox holds it, in a form tests compare.
type outboxRow struct {
	Kind    string `db:"kind"`
	UserID  string `db:"user_id"`
	Scope   string `db:"scope"`
	Percent string `db:"percent"`
	Mails   int    `db:"mails"`
}

func (r outboxRow) String() string {
	s := r.Kind
	if r.Scope != "" {
		s += "/" + r.Scope
	}
	if r.Percent != "" {
		s += "/" + r.Percent
	}
	if r.UserID != "" {
		s += "/" + r.UserID
	}
	return s
}

// outbox returns the org's notifications in order, as "kind/scope/percent/user".
func outbox(t *testing.T, f *billingtest.Fixture) ([]string, []outboxRow) {
	t.Helper()
	var rows []outboxRow
	err := f.DB.SelectContext(ctx, &rows, `
		SELECT n.kind, COALESCE(n.user_id, '') AS user_id, COALESCE(n.data->>'scope', '') AS scope,
		       COALESCE(n.data->>'percent', '') AS percent,
		       (SELECT count(*) FROM notification_deliveries d WHERE d.notification_id = n.id AND d.channel = 'email') AS mails
		FROM notifications n WHERE n.org_id = $1 ORDER BY n.id`, f.Org)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.String()
	}
	return out, rows
}

func emails(id string, n int64) billing.UsageEvent {
	return billing.UsageEvent{ID: id, FlowID: "flow_1", ExecutionID: "exec_" + id, Type: "email", Quantity: n}
}

func setOrgLimit(t *testing.T, f *billingtest.Fixture, credits int64) {
	t.Helper()
	limit := billing.Credits(credits)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &limit); err != nil {
		t.Fatal(err)
	}
}

func wantOutbox(t *testing.T, f *billingtest.Fixture, want ...string) []outboxRow {
	t.Helper()
	got, rows := outbox(t, f)
	if !slices.Equal(got, want) {
		t.Fatalf("outbox:\n got %q\nwant %q", got, want)
	}
	return rows
}

func TestThresholds_EachFiresOncePerCycleWithAMailPerAdmin(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	second := f.NewMember(t, "second-admin@example.com", "Second")
	if _, err := f.DB.ExecContext(ctx, `UPDATE memberships SET role = 'admin' WHERE user_id = $1`, second.ID); err != nil {
		t.Fatal(err)
	}
	f.NewMember(t, "member@example.com", "Member") // no mail for a member
	setOrgLimit(t, f, 100)

	f.Record(t, emails("a", 49))
	wantOutbox(t, f)
	f.Record(t, emails("b", 1)) // 50 %
	f.Record(t, emails("c", 1))
	wantOutbox(t, f, "threshold_reached/org/50")
	f.Record(t, emails("d", 30)) // 81 %
	f.Record(t, emails("e", 19)) // 100 %: paused
	f.Record(t, emails("f", 5))  // over the limit: usage is still recorded, nothing new
	rows := wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100")
	for _, r := range rows {
		if r.Mails != 2 {
			t.Errorf("%s: %d mails, want one per admin (2)", r, r.Mails)
		}
	}
	// A retried batch is a duplicate: no charge, no notice.
	f.Record(t, emails("e", 19))
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100")
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestThresholds_OneBatchOverSeveralGivesEachOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	setOrgLimit(t, f, 100)
	f.Record(t, emails("a", 40))
	f.Record(t, emails("b", 70)) // 40 % → 110 %
	f.Record(t, emails("c", 10))
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100")
}

func TestThresholds_RacingClientsGiveOneNotice(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	setOrgLimit(t, f, 100)
	f.Record(t, emails("start", 42))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{emails(fmt.Sprintf("r%d", i), 1)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantOutbox(t, f, "threshold_reached/org/50") // 42 + 16 = 58 %
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestNotices_CreditsExhaustedThenResumedByAPurchase(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free") // 1,000 credits
	low := billing.Credits(200)
	if _, err := f.DB.ExecContext(ctx, `UPDATE orgs SET low_balance_mc = $2 WHERE id = $1`, f.Org, int64(low)); err != nil {
		t.Fatal(err)
	}
	f.Record(t, emails("a", 700))
	wantOutbox(t, f)
	f.Record(t, emails("b", 150)) // 150 left
	wantOutbox(t, f, "low_balance")
	f.Record(t, emails("c", 100)) // still low: no second alert
	f.Record(t, emails("d", 100)) // -50: paused
	f.Record(t, emails("e", 10))
	wantOutbox(t, f, "low_balance", "credits_exhausted")
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(1000), nil, "p1", ""); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f, "low_balance", "credits_exhausted", "resumed/org")
	f.Record(t, emails("f", 900)) // 940 left of 1,000 bought minus the 60 of arrears … down to 40
	wantOutbox(t, f, "low_balance", "credits_exhausted", "resumed/org", "low_balance")
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestNotices_MemberLimitReachedAndResumedWhenRaised(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	m := f.NewMember(t, "dev@example.com", "Dev")
	limit := billing.Credits(10)
	if err := f.Svc.SetMemberLimit(ctx, f.Org, m.ID, &limit); err != nil {
		t.Fatal(err)
	}
	ev := emails("m1", 12)
	ev.UserID = m.ID
	f.Record(t, ev)
	rows := wantOutbox(t, f, "threshold_reached/member/100/"+m.ID)
	if rows[0].Mails != 2 {
		t.Errorf("member limit: %d mails, want the admin's and the member's", rows[0].Mails)
	}
	// A limit changed in a ledger transaction: the pause ends, and that is told.
	err := f.Svc.WithLedger(ctx, f.Org, func(l *billing.LedgerTx) error {
		_, err := l.Tx().ExecContext(ctx, `UPDATE memberships SET monthly_limit_mc = 50000 WHERE org_id = $1 AND user_id = $2`, f.Org, m.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f, "threshold_reached/member/100/"+m.ID, "resumed/member/"+m.ID)
}

func TestNotices_LimitPauseEndsWithTheCycleAndThresholdsRearm(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	setOrgLimit(t, f, 100)
	f.Record(t, emails("a", 100))
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100")
	f.Clock.Advance(31 * 24 * 3600e9)
	if _, err := f.Svc.RollOverDue(ctx, 10); err != nil {
		t.Fatal(err)
	}
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100", "resumed/org")
	f.Record(t, emails("b", 60))
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100", "resumed/org",
		"threshold_reached/org/50")
}

func TestNotices_LoweringTheLimitBelowUsageNotifiesRaisingDoesNot(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	f.Record(t, emails("a", 90))
	setLimitInLedger := func(credits int64) {
		err := f.Svc.WithLedger(ctx, f.Org, func(l *billing.LedgerTx) error {
			_, err := l.Tx().ExecContext(ctx, `UPDATE orgs SET monthly_limit_mc = $2 WHERE id = $1`, f.Org, credits*1000)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setLimitInLedger(100) // 90 %
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80")
	setLimitInLedger(80) // 112 %: paused
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100")
	setLimitInLedger(1000) // 9 %: resumed, nothing reached
	wantOutbox(t, f, "threshold_reached/org/50", "threshold_reached/org/80", "threshold_reached/org/100", "resumed/org")
}
