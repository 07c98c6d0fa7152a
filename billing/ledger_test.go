package billing_test

import (
	"sync"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// paidBy returns, for the usage entry of an event, how much each grant kind paid.
func paidBy(t *testing.T, f *billingtest.Fixture, eventID string) map[string]billing.Millicredits {
	t.Helper()
	var rows []struct {
		Kind   string               `db:"kind"`
		Amount billing.Millicredits `db:"amount"`
	}
	err := f.DB.Select(&rows, `
		SELECT g.kind, sum(a.amount_mc) AS amount
		FROM usage_events u JOIN allocations a ON a.entry_id = u.entry_id JOIN grants g ON g.id = a.grant_id
		WHERE u.org_id = $1 AND u.id = $2 GROUP BY g.kind`, f.Org, eventID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]billing.Millicredits{}
	for _, r := range rows {
		out[r.Kind] = r.Amount
	}
	return out
}

func TestConsumption_AllotmentBeforePurchaseAndTraceable(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free") // 1,000 credit allotment
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(500), nil, "pay_1", ""); err != nil {
		t.Fatal(err)
	}
	// 600 credits (300 emails ×2 SMS): all from the allotment.
	a := billingtest.Event("sms", "", 300)
	f.Record(t, a)
	if got := paidBy(t, f, a.ID); got[billing.GrantPlanAllotment] != billing.Credits(600) || len(got) != 1 {
		t.Errorf("first usage paid by %v, want 600 from the allotment only", got)
	}
	// 600 more: 400 left in the allotment, then 200 from the purchase.
	b := billingtest.Event("sms", "", 300)
	f.Record(t, b)
	got := paidBy(t, f, b.ID)
	if got[billing.GrantPlanAllotment] != billing.Credits(400) || got[billing.GrantPurchase] != billing.Credits(200) {
		t.Errorf("second usage paid by %v, want 400 allotment + 200 purchase", got)
	}
	cs := f.CreditSummary(t)
	if cs.AllotmentRemaining != 0 || cs.Purchased != billing.Credits(300) || cs.Balance != billing.Credits(300) {
		t.Errorf("after usage: allotment %s, purchased %s, balance %s; want 0, 300, 300", cs.AllotmentRemaining, cs.Purchased, cs.Balance)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestArrears_SettledFirstFromNextPurchase(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	over := billingtest.Event("voice_call", "", 60*210) // 210 minutes = 1,050 credits: 50 more than the grants hold
	res := f.Record(t, over)
	if res.Balance != billing.Credits(-50) || !res.Paused || res.PauseReason != billing.ReasonCreditsExhausted {
		t.Fatalf("after overspending: balance %s paused %v %q; want -50, paused, credits_exhausted", res.Balance, res.Paused, res.PauseReason)
	}
	cs := f.CreditSummary(t)
	if cs.Arrears != billing.Credits(50) {
		t.Fatalf("arrears %s, want 50", cs.Arrears)
	}
	// Usage keeps being recorded while paused: it happened.
	f.Record(t, billingtest.Event("email", "", 10))
	if cs = f.CreditSummary(t); cs.Arrears != billing.Credits(60) || cs.Balance != billing.Credits(-60) {
		t.Fatalf("arrears %s balance %s, want 60 and -60", cs.Arrears, cs.Balance)
	}
	// A purchase pays the arrears first; the rest is available at once.
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(100), nil, "pay_2", ""); err != nil {
		t.Fatal(err)
	}
	cs = f.CreditSummary(t)
	if cs.Arrears != 0 || cs.Balance != billing.Credits(40) || cs.Purchased != billing.Credits(40) || cs.Paused {
		t.Errorf("after purchase: arrears %s balance %s purchased %s paused %v; want 0, 40, 40, false", cs.Arrears, cs.Balance, cs.Purchased, cs.Paused)
	}
	// The settled usage knows which purchase paid for it.
	var settled billing.Millicredits
	if err := f.DB.Get(&settled, `
		SELECT COALESCE(sum(a.amount_mc), 0) FROM allocations a JOIN grants g ON g.id = a.grant_id
		WHERE a.org_id = $1 AND a.settled AND g.source_ref = 'pay_2'`, f.Org); err != nil {
		t.Fatal(err)
	}
	if settled != billing.Credits(60) {
		t.Errorf("purchase pay_2 settled %s of earlier usage, want 60", settled)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestPurchase_GrantedOncePerReference(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	for range 3 {
		if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(5000), nil, "cs_same", ""); err != nil {
			t.Fatal(err)
		}
	}
	if cs := f.CreditSummary(t); cs.Purchased != billing.Credits(5000) {
		t.Errorf("purchased %s after granting one purchase three times, want 5,000", cs.Purchased)
	}
}

func TestRollover_ExpiresAllotmentAndGrantsNextOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "starter") // 10,000 a month; anchored 2026-03-31 09:30 UTC
	f.Record(t, billingtest.Event("email", "", 4000))
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(2000), nil, "p", ""); err != nil {
		t.Fatal(err)
	}
	// The server was down for two and a half cycles; the next call catches up.
	f.Clock.Set(time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC))
	cs := f.CreditSummary(t)
	wantStart := time.Date(2026, 5, 31, 9, 30, 0, 0, time.UTC)
	if !cs.CycleStart.Equal(wantStart) || !cs.CycleEnd.Equal(time.Date(2026, 6, 30, 9, 30, 0, 0, time.UTC)) {
		t.Errorf("cycle [%s, %s), want to start %s", cs.CycleStart, cs.CycleEnd, wantStart)
	}
	if cs.Allotment != billing.Credits(10000) || cs.AllotmentRemaining != billing.Credits(10000) || cs.CycleUsed != 0 {
		t.Errorf("allotment %s remaining %s used %s; want a fresh 10,000 and 0 used", cs.Allotment, cs.AllotmentRemaining, cs.CycleUsed)
	}
	if cs.Purchased != billing.Credits(2000) || cs.Balance != billing.Credits(12000) {
		t.Errorf("purchased %s balance %s; purchases never expire: want 2,000 and 12,000", cs.Purchased, cs.Balance)
	}
	// Three allotments in all (March, April–May, May–June), each expired but the last, and the
	// forfeited remainders are ledger entries.
	var allotments, expiries int
	var forfeited billing.Millicredits
	_ = f.DB.Get(&allotments, `SELECT count(*) FROM grants WHERE org_id = $1 AND kind = 'plan_allotment'`, f.Org)
	_ = f.DB.Get(&expiries, `SELECT count(*) FROM ledger_entries WHERE org_id = $1 AND kind = 'expiry'`, f.Org)
	_ = f.DB.Get(&forfeited, `SELECT -sum(amount_mc) FROM ledger_entries WHERE org_id = $1 AND kind = 'expiry'`, f.Org)
	if allotments != 3 || expiries != 2 || forfeited != billing.Credits(6000+10000) {
		t.Errorf("allotments %d, expiries %d, forfeited %s; want 3, 2, 16,000", allotments, expiries, forfeited)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRollover_ConcurrentCallersGrantOnce(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "pro")
	f.Clock.Set(billingtest.T0.AddDate(0, 1, 1))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			switch i % 3 {
			case 0:
				_, err = f.Svc.CreditSummary(ctx, f.Org)
			case 1:
				_, err = f.Svc.RecordUsage(ctx, f.Org, f.Admin, []billing.UsageEvent{billingtest.Event("email", "", 1)})
			default:
				_, err = f.Svc.RollOverDue(ctx, 10)
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	_ = f.DB.Get(&n, `SELECT count(*) FROM grants WHERE org_id = $1 AND kind = 'plan_allotment'`, f.Org)
	if n != 2 {
		t.Errorf("%d allotments after concurrent rollovers, want 2", n)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestRollover_ArrearsSettledFromNextAllotment(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	f.Record(t, billingtest.Event("sms", "", 600)) // 1,200 credits: 200 in arrears
	f.Clock.Set(billingtest.T0.AddDate(0, 1, 0).Add(time.Hour))
	cs := f.CreditSummary(t)
	if cs.Arrears != 0 || cs.AllotmentRemaining != billing.Credits(800) || cs.Balance != billing.Credits(800) || cs.Paused {
		t.Errorf("after rollover: arrears %s allotment left %s balance %s paused %v; want 0, 800, 800, false", cs.Arrears, cs.AllotmentRemaining, cs.Balance, cs.Paused)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestAuthorize_PauseReasonsAndResume(t *testing.T) {
	t.Parallel()
	f := billingtest.NewFixture(t, "free")
	member, err := f.Identity.CreateUser(ctx, identity.NewUser{Email: "member@example.com", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Identity.AddMember(ctx, f.Org, member.ID, identity.RoleMember); err != nil {
		t.Fatal(err)
	}
	authorize := func(user string, est *billing.Estimate) *billing.Authorization {
		t.Helper()
		a, err := f.Svc.Authorize(ctx, f.Org, f.Admin, billing.AuthorizeRequest{FlowID: "flow_1", ExecutionID: "exec_1", UserID: user, Estimate: est})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := authorize("", nil); !a.Allowed || a.Balance != billing.Credits(1000) {
		t.Fatalf("fresh org: allowed %v balance %s", a.Allowed, a.Balance)
	}
	// A step that would cost more than what is left is refused up front.
	if a := authorize("", &billing.Estimate{Type: "ai", Model: "claude-opus", Quantity: 100_000}); a.Allowed || a.Reason != billing.ReasonCreditsExhausted {
		t.Errorf("1,500-credit estimate on 1,000: allowed %v reason %q", a.Allowed, a.Reason)
	}

	// The member's own limit pauses only the member.
	setMemberLimit := func(credits int64) {
		t.Helper()
		limit := billing.Credits(credits)
		if err := f.Svc.SetMemberLimit(ctx, f.Org, member.ID, &limit); err != nil {
			t.Fatal(err)
		}
	}
	setMemberLimit(100)
	e := billingtest.Event("email", "", 100)
	e.UserID = member.ID
	res := f.Record(t, e)
	if len(res.MembersPaused) != 1 || res.MembersPaused[0] != member.ID {
		t.Errorf("members paused %v, want the member", res.MembersPaused)
	}
	if a := authorize(member.ID, nil); a.Allowed || a.Reason != billing.ReasonMemberLimitReached {
		t.Errorf("member at limit: allowed %v reason %q", a.Allowed, a.Reason)
	}
	if a := authorize("", nil); !a.Allowed {
		t.Errorf("the admin is paused by the member's limit: %q", a.Reason)
	}
	setMemberLimit(200)
	if a := authorize(member.ID, nil); !a.Allowed {
		t.Errorf("raising the member limit did not resume: %q", a.Reason)
	}

	// The org's monthly limit pauses everyone.
	limit := billing.Credits(100)
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, &limit); err != nil {
		t.Fatal(err)
	}
	if a := authorize("", nil); a.Allowed || a.Reason != billing.ReasonMonthlyLimitReached {
		t.Errorf("org at its limit: allowed %v reason %q", a.Allowed, a.Reason)
	}
	if err := f.Svc.SetMonthlyLimit(ctx, f.Org, nil); err != nil {
		t.Fatal(err)
	}

	// Credits exhausted pauses everyone; a purchase resumes at once.
	f.Record(t, billingtest.Event("email", "", 900))
	if a := authorize("", nil); a.Allowed || a.Reason != billing.ReasonCreditsExhausted {
		t.Errorf("no credits: allowed %v reason %q", a.Allowed, a.Reason)
	}
	if _, err := f.Svc.GrantCredits(ctx, f.Org, billing.GrantPurchase, billing.Credits(10), nil, "p1", ""); err != nil {
		t.Fatal(err)
	}
	if a := authorize("", nil); !a.Allowed || a.Balance != billing.Credits(10) {
		t.Errorf("after a purchase: allowed %v balance %s reason %q", a.Allowed, a.Balance, a.Reason)
	}
	billingtest.AssertLedger(t, f.DB, f.Org)
}

func TestSignUp_FreePlanWithThousandCredits(t *testing.T) {
	t.Parallel()
	svc, _ := billingtest.NewService(t)
	u, org, err := identity.New(svc).SignUp(ctx, identity.NewUser{Email: "new@example.com", Name: "New", Password: "long enough"}, "New Co")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := svc.CreditSummary(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Plan.Code != "free" || cs.Balance != billing.Credits(1000) || cs.OrgName != "New Co" {
		t.Errorf("new org: plan %s balance %s name %q", cs.Plan.Code, cs.Balance, cs.OrgName)
	}
	m, err := identity.New(svc).FindMembership(ctx, org, u.ID)
	if err != nil || m.Role != identity.RoleAdmin {
		t.Errorf("sign-up user's membership %v, %v; want admin", m, err)
	}
	if _, _, err := identity.New(svc).SignUp(ctx, identity.NewUser{Email: "NEW@example.com", Password: "long enough"}, "Other"); billing.ErrorCode(err) != billing.ECONFLICT {
		t.Errorf("second sign-up with the same email: %v, want ECONFLICT", err)
	}
	for _, bad := range []identity.NewUser{{Email: "nope", Password: "long enough"}, {Email: "a@b.co", Password: "short"}} {
		if _, _, err := identity.New(svc).SignUp(ctx, bad, "X"); billing.ErrorCode(err) != billing.EINVALID {
			t.Errorf("sign-up %+v: %v, want EINVALID", bad, err)
		}
	}
	if n, _ := svc.CountOrgs(ctx); n != 1 {
		t.Errorf("%d orgs after one good and three refused sign-ups", n)
	}
}
