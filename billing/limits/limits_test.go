package limits_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/limits"
)

var ctx = context.Background()

func mc(credits int64) *billing.Millicredits { v := billing.Credits(credits); return &v }

func newLimits(t *testing.T) (*billingtest.Fixture, *limits.Service, limits.Actor) {
	t.Helper()
	f := billingtest.NewFixture(t, "pro")
	return f, limits.New(f.Svc, f.Identity), limits.Actor{UserID: f.Admin, Source: limits.SourcePage}
}

func overview(t *testing.T, s *limits.Service, org string) *limits.Overview {
	t.Helper()
	o, err := s.Overview(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestUpdate_NewOrgDefaultsAndAuditedChange(t *testing.T) {
	t.Parallel()
	f, s, admin := newLimits(t)
	o := overview(t, s, f.Org)
	if o.MonthlyLimit != nil || o.LowBalance != nil || !slices.Equal(o.Thresholds, []int{50, 80, 100}) || len(o.Changes) != 0 {
		t.Fatalf("a new org: limit %v, low %v, thresholds %v, %d changes", o.MonthlyLimit, o.LowBalance, o.Thresholds, len(o.Changes))
	}
	res, err := s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(150000),
		SetThresholds: true, Thresholds: []int{90, 25}, SetLowBalance: true, LowBalance: mc(5000)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 3 || len(res.Warnings) != 0 {
		t.Errorf("result %+v, want 3 changes, no warnings", res)
	}
	o = overview(t, s, f.Org)
	if *o.MonthlyLimit != *mc(150000) || *o.LowBalance != *mc(5000) || !slices.Equal(o.Thresholds, []int{25, 90}) {
		t.Fatalf("after: limit %v low %v thresholds %v", o.MonthlyLimit, o.LowBalance, o.Thresholds)
	}
	if len(o.Changes) != 3 {
		t.Fatalf("%d audit entries, want 3", len(o.Changes))
	}
	byField := map[string]limits.Entry{}
	for _, e := range o.Changes {
		byField[e.Field] = e
		if e.ActorID != f.Admin || e.Actor != "admin-pro@example.com" || e.Source != limits.SourcePage || !e.At.Equal(f.Clock.Now()) {
			t.Errorf("entry %+v: who/where/when wrong", e)
		}
	}
	if e := byField[limits.AuditMonthlyLimit]; e.OldMC != nil || e.NewMC == nil || *e.NewMC != *mc(150000) {
		t.Errorf("monthly limit entry %+v", e)
	}
	if e := byField[limits.AuditThresholds]; !slices.Equal(e.OldPercents, []int64{50, 80, 100}) || !slices.Equal(e.NewPercents, []int64{25, 90}) {
		t.Errorf("thresholds entry %v → %v", e.OldPercents, e.NewPercents)
	}
	// The same values again change nothing and write nothing.
	res, err = s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(150000), SetThresholds: true, Thresholds: []int{25, 90}})
	if err != nil || res.Changed != 0 {
		t.Fatalf("unchanged values: %+v %v", res, err)
	}
	// null clears, and only the fields sent change.
	if _, err := s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true}); err != nil {
		t.Fatal(err)
	}
	o = overview(t, s, f.Org)
	if o.MonthlyLimit != nil || o.LowBalance == nil || len(o.Changes) != 4 || o.Changes[0].OldMC == nil || o.Changes[0].NewMC != nil {
		t.Errorf("after clearing: limit %v low %v, newest entry %+v", o.MonthlyLimit, o.LowBalance, o.Changes[0])
	}
}

func TestUpdate_InvalidValuesNameTheFieldAndChangeNothing(t *testing.T) {
	t.Parallel()
	f, s, admin := newLimits(t)
	cases := []struct {
		name  string
		c     limits.Change
		field string
		says  string
	}{
		{"negative limit", limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(-5)}, limits.FieldMonthlyLimit, "negative"},
		{"zero limit", limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(0)}, limits.FieldMonthlyLimit, "more than 0"},
		{"huge limit", limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(2_000_000_000)}, limits.FieldMonthlyLimit, "at most"},
		{"threshold over 100", limits.Change{SetThresholds: true, Thresholds: []int{50, 120}}, limits.FieldThresholds, "120% is over 100"},
		{"threshold 0", limits.Change{SetThresholds: true, Thresholds: []int{0}}, limits.FieldThresholds, "under 1"},
		{"duplicate threshold", limits.Change{SetThresholds: true, Thresholds: []int{80, 50, 80}}, limits.FieldThresholds, "80% is listed twice"},
		{"too many thresholds", limits.Change{SetThresholds: true, Thresholds: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}}, limits.FieldThresholds, "at most 10"},
		{"negative low balance", limits.Change{SetLowBalance: true, LowBalance: mc(-1)}, limits.FieldLowBalance, "negative"},
	}
	for _, c := range cases {
		// A valid field beside the wrong one is not applied either.
		c.c.SetMonthlyLimit = c.c.SetMonthlyLimit || c.field != limits.FieldMonthlyLimit
		if c.field != limits.FieldMonthlyLimit {
			c.c.MonthlyLimit = mc(1000)
		}
		_, err := s.Update(ctx, f.Org, admin, c.c)
		var bad *limits.Invalid
		if !errors.As(err, &bad) || billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("%s: %v, want *limits.Invalid (EINVALID)", c.name, err)
			continue
		}
		if msg := bad.Of(c.field); !strings.Contains(msg, c.says) {
			t.Errorf("%s: message for %s is %q, want it to say %q", c.name, c.field, msg, c.says)
		}
		if !strings.Contains(billing.ErrorMessage(err), c.field+": ") {
			t.Errorf("%s: the API message %q does not name %s", c.name, billing.ErrorMessage(err), c.field)
		}
	}
	if _, err := s.SetMemberLimit(ctx, f.Org, admin, f.Admin, mc(-3)); billing.ErrorCode(err) != billing.EINVALID {
		t.Errorf("negative member limit: %v", err)
	}
	if _, err := s.SetMemberLimit(ctx, f.Org, admin, "usr_nobody", mc(3)); billing.ErrorCode(err) != billing.ENOTFOUND {
		t.Errorf("a non-member's limit: %v, want ENOTFOUND", err)
	}
	o := overview(t, s, f.Org)
	if o.MonthlyLimit != nil || len(o.Changes) != 0 || !slices.Equal(o.Thresholds, []int{50, 80, 100}) {
		t.Errorf("refused changes left traces: limit %v thresholds %v, %d audit entries", o.MonthlyLimit, o.Thresholds, len(o.Changes))
	}
}

func TestUpdate_AuditIsInTheChangesTransaction(t *testing.T) {
	t.Parallel()
	f, s, admin := newLimits(t)
	boom := errors.New("the rest of the transaction failed")
	err := f.Svc.WithLedger(ctx, f.Org, func(l *billing.LedgerTx) error {
		res, err := s.UpdateTx(ctx, l, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(10)})
		if err != nil || res.Changed != 1 {
			t.Fatalf("UpdateTx: %+v %v", res, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("WithLedger: %v", err)
	}
	o := overview(t, s, f.Org)
	if o.MonthlyLimit != nil || len(o.Changes) != 0 {
		t.Fatalf("rolled back, yet limit %v and %d audit entries", o.MonthlyLimit, len(o.Changes))
	}
	// Committed: both.
	if err := f.Svc.WithLedger(ctx, f.Org, func(l *billing.LedgerTx) error {
		_, err := s.UpdateTx(ctx, l, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(10)})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if o := overview(t, s, f.Org); o.MonthlyLimit == nil || len(o.Changes) != 1 {
		t.Fatalf("committed, yet limit %v and %d audit entries", o.MonthlyLimit, len(o.Changes))
	}
}

func TestLimitBelowUsage_IsSetWithAWarningAndPauses(t *testing.T) {
	t.Parallel()
	f, s, admin := newLimits(t)
	dev := f.NewMember(t, "dev@example.com", "Dev")
	ev := billingtest.Event("email", "", 300)
	ev.UserID = dev.ID
	f.Record(t, ev)
	res, err := s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(200)})
	if err != nil || res.Changed != 1 || len(res.Warnings) != 1 || res.Warnings[0].Field != limits.FieldMonthlyLimit || !strings.Contains(res.Warnings[0].Message, "300 credits are already used") {
		t.Fatalf("org limit under usage: %+v %v", res, err)
	}
	if cs := f.CreditSummary(t); cs.PauseReason != billing.ReasonMonthlyLimitReached {
		t.Errorf("pause reason %q", cs.PauseReason)
	}
	res, err = s.SetMemberLimit(ctx, f.Org, admin, dev.ID, mc(100))
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "This member already used 300 credits") {
		t.Fatalf("member limit under usage: %+v %v", res, err)
	}
	m, err := f.Svc.MemberStanding(ctx, f.Org, dev.ID)
	if err != nil || !m.Paused() {
		t.Fatalf("member standing %+v %v: want paused", m, err)
	}
	// Raising both resumes at once.
	if _, err := s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(1000)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetMemberLimit(ctx, f.Org, admin, dev.ID, mc(1000)); err != nil {
		t.Fatal(err)
	}
	if cs := f.CreditSummary(t); cs.Paused {
		t.Errorf("still paused: %q", cs.PauseReason)
	}
	if m, _ := f.Svc.MemberStanding(ctx, f.Org, dev.ID); m.Paused() {
		t.Error("member still paused")
	}
	// The change went through the ledger transaction, which tells of the pauses it ended.
	var resumed []struct {
		UserID *string `db:"user_id"`
	}
	if err := f.DB.SelectContext(ctx, &resumed, `SELECT user_id FROM notifications WHERE org_id = $1 AND kind = 'resumed' ORDER BY id`, f.Org); err != nil {
		t.Fatal(err)
	}
	if len(resumed) != 2 || resumed[0].UserID != nil || resumed[1].UserID == nil || *resumed[1].UserID != dev.ID {
		t.Errorf("resumed notices: %d, want the org's then the member's", len(resumed))
	}
	o := overview(t, s, f.Org)
	if mem := o.Member(dev.ID); mem == nil || mem.Email != "dev@example.com" || mem.Used != billing.Credits(300) || *mem.Limit != billing.Credits(1000) {
		t.Errorf("member row %+v", mem)
	}
	if got := o.For(dev.ID); len(got.Members) != 1 || got.Members[0].UserID != dev.ID {
		t.Errorf("a member sees %d rows", len(got.Members))
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

// Racing changes of the same settings: every change is logged, and the log is a chain — each
// entry's old value is the previous entry's new value and the last one's new value is the
// value in force. Usage races alongside and is never lost.
func TestUpdate_RacingChangesKeepTheAuditChain(t *testing.T) {
	t.Parallel()
	f, s, admin := newLimits(t)
	dev := f.NewMember(t, "dev@example.com", "Dev")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, f.Org, admin, limits.Change{SetMonthlyLimit: true, MonthlyLimit: mc(int64(1000 + i)),
				SetThresholds: true, Thresholds: []int{10 + i, 100}})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.SetMemberLimit(ctx, f.Org, admin, dev.ID, mc(int64(500+i)))
			errs <- err
		}()
		go func() {
			defer wg.Done()
			ev := billingtest.Event("email", "", 1)
			ev.UserID = dev.ID
			_, err := f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{ev})
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
	var entries []limits.Entry
	if err := f.DB.SelectContext(ctx, &entries, `SELECT id, actor_id, source, field, COALESCE(member_id, '') AS member_id,
		old_mc, new_mc, old_percents, new_percents, created_at FROM limit_changes WHERE org_id = $1 ORDER BY id`, f.Org); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	last := map[string]string{limits.AuditMonthlyLimit: "none", limits.AuditThresholds: "[50 80 100]", limits.AuditMemberLimit: "none"}
	for _, e := range entries {
		count[e.Field]++
		old, nu := show(e.OldMC, e.OldPercents, e.Field), show(e.NewMC, e.NewPercents, e.Field)
		if old != last[e.Field] {
			t.Errorf("entry %d (%s): old %s, but the previous entry left %s", e.ID, e.Field, old, last[e.Field])
		}
		last[e.Field] = nu
	}
	if count[limits.AuditMonthlyLimit] != n || count[limits.AuditThresholds] != n || count[limits.AuditMemberLimit] != n {
		t.Errorf("entries per field %v, want %d each", count, n)
	}
	o := overview(t, s, f.Org)
	m := o.Member(dev.ID)
	if last[limits.AuditMonthlyLimit] != show(o.MonthlyLimit, nil, limits.AuditMonthlyLimit) ||
		last[limits.AuditThresholds] != show(nil, toInt64(o.Thresholds), limits.AuditThresholds) ||
		last[limits.AuditMemberLimit] != show(m.Limit, nil, limits.AuditMemberLimit) {
		t.Errorf("the log ends at %v, but in force: %v %v %v", last, o.MonthlyLimit, o.Thresholds, m.Limit)
	}
	if m.Used != billing.Credits(n) || o.CycleUsed != billing.Credits(n) {
		t.Errorf("usage recorded alongside: member %s, org %s, want %d", m.Used, o.CycleUsed, n)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func show(v *billing.Millicredits, ps []int64, field string) string {
	if field == limits.AuditThresholds {
		return fmt.Sprint(ps)
	}
	if v == nil {
		return "none"
	}
	return v.String()
}

func toInt64(ps []int) []int64 {
	out := make([]int64, len(ps))
	for i, p := range ps {
		out[i] = int64(p)
	}
	return out
}
