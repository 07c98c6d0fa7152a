package billing_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/billingtest"
)

// The one-statement path (ingest_usage) and the Go path must leave the same ledger: the same
// scenario — grants of every kind and expiry, batches over several days, flows, executions and
// members, a member limit reached, arrears and their settlement, a retry, an id reused with
// another body, a grant expiring mid-way — is played on two organizations, one through each
// path, and every table ingestion writes is compared row by row, with every answer.
func TestRecordUsage_FastPathLeavesTheLedgerOfTheGoPath(t *testing.T) {
	t.Parallel()
	fast := newPathFixture(t)
	billing.FastPathForAnySize(fast.f.Svc) // the scenario's 60-event batch too
	slow := newPathFixture(t)
	billing.SlowPathOnly(slow.f.Svc)

	for i, step := range pathScenario() {
		a, errA := step(fast)
		b, errB := step(slow)
		if billing.ErrorCode(errA) != billing.ErrorCode(errB) || (errA == nil) != (errB == nil) {
			t.Fatalf("step %d: fast path: %v; Go path: %v", i, errA, errB)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("step %d: answers differ:\nfast %+v\nGo   %+v", i, a, b)
		}
	}
	for _, q := range ledgerDump {
		got, want := dump(t, fast, q), dump(t, slow, q)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s differ (%d rows through the fast path, %d through the Go path); rows only in the first:\n  %s\nonly in the second:\n  %s",
				q.name, len(got), len(want), strings.Join(missing(got, want), "\n  "), strings.Join(missing(want, got), "\n  "))
		}
		if len(want) == 0 {
			t.Errorf("%s: no rows; the scenario should write some", q.name)
		}
	}
	billingtest.AssertLedger(t, fast.f.DB, fast.f.Org)
	billingtest.AssertLedger(t, slow.f.DB, slow.f.Org)
	// Seven batches cross nothing and are new: those take the one statement; the others (a
	// threshold, the low-balance alert or a member's limit crossed, a retry, a conflict, a
	// stranger, an expired promo, zero reached) are declined and recorded by the Go path.
	if n := billing.FastGroups(fast.f.Svc); n != 7 {
		t.Errorf("the fast path recorded %d groups; the scenario's 7 plain batches should take it, and only they", n)
	}
	if n := billing.FastGroups(slow.f.Svc); n != 0 {
		t.Errorf("the Go-path service recorded %d groups in one round trip", n)
	}
}

type pathFixture struct {
	f      *billingtest.Fixture
	member string
}

func newPathFixture(t *testing.T) *pathFixture {
	f := billingtest.NewFixture(t, "free")
	if err := f.Svc.SetTimezone(ctx, f.Org, "America/New_York"); err != nil {
		t.Fatal(err)
	}
	m := f.NewMember(t, "member@example.com", "Member")
	limit := billing.Credits(300)
	if err := f.Svc.SetMemberLimit(ctx, f.Org, m.ID, &limit); err != nil {
		t.Fatal(err)
	}
	// Thresholds and alerts, so that batches cross them (notices written in the same
	// transaction).
	err := f.Svc.WithLedger(ctx, f.Org, func(l *billing.LedgerTx) error {
		orgLimit, low := billing.Credits(1200), billing.Credits(400)
		return l.SetLimitSettings(ctx, billing.LimitSettings{MonthlyLimit: &orgLimit, Thresholds: []int{25, 50, 80}, LowBalance: &low})
	})
	if err != nil {
		t.Fatal(err)
	}
	soon, later := billingtest.T0.Add(48*time.Hour), billingtest.T0.Add(20*24*time.Hour)
	for _, g := range []struct {
		kind    string
		credits int64
		expires *time.Time
	}{{billing.GrantPurchase, 200, nil}, {billing.GrantPromo, 150, &soon}, {billing.GrantAdjustment, 100, &later}, {billing.GrantPurchase, 50, nil}} {
		if _, err := f.Svc.GrantCredits(ctx, f.Org, g.kind, billing.Credits(g.credits), g.expires, fmt.Sprintf("ref-%s-%d", g.kind, g.credits), "Test credits"); err != nil {
			t.Fatal(err)
		}
	}
	return &pathFixture{f: f, member: m.ID}
}

// pathScenario is the scenario's steps; each returns its answer.
func pathScenario() []func(p *pathFixture) (any, error) {
	record := func(user string, events ...billing.UsageEvent) func(p *pathFixture) (any, error) {
		return func(p *pathFixture) (any, error) {
			evs := append([]billing.UsageEvent(nil), events...)
			for i := range evs {
				if evs[i].UserID == "member" {
					evs[i].UserID = p.member
				}
			}
			res, err := p.f.Svc.RecordUsage(ctx, p.f.Org, p.f.Admin, evs)
			if res != nil {
				for i, m := range res.MembersPaused {
					if m == p.member {
						res.MembersPaused[i] = "member"
					} else if m == p.f.Admin {
						res.MembersPaused[i] = "admin"
					}
				}
			}
			return res, err
		}
	}
	at := func(d time.Duration) time.Time { return billingtest.T0.Add(d) }
	ev := func(id, flow, exec, user, typ, model string, qty int64, occurred time.Time) billing.UsageEvent {
		return billing.UsageEvent{ID: id, FlowID: flow, ExecutionID: exec, UserID: user, Type: typ, Model: model, Quantity: qty, OccurredAt: occurred}
	}
	var big []billing.UsageEvent
	for i := range 60 {
		typ, model, qty := "ai", "claude-sonnet", int64(100+i*37)
		switch i % 4 {
		case 1:
			typ, model, qty = "email", "", 1
		case 2:
			typ, model, qty = "sms", "", 1
		}
		user := ""
		if i%3 == 0 {
			user = "member"
		}
		big = append(big, ev(fmt.Sprintf("b%02d", i), fmt.Sprintf("flow_%d", i%5), fmt.Sprintf("exec_%d", i%7), user, typ, model, qty,
			at(-time.Duration(i)*90*time.Minute)))
	}
	return []func(p *pathFixture) (any, error){
		record("", ev("e1", "flow_a", "x1", "", "ai", "claude-sonnet", 1532, at(-time.Hour))),
		record("", big...),
		// Within one batch, the same id twice with the same body is one event.
		record("", ev("d1", "flow_a", "x2", "", "email", "", 1, time.Time{}), ev("d1", "flow_a", "x2", "", "email", "", 1, time.Time{})),
		// A retry: the same id and body again is a duplicate, not charged.
		record("", ev("e1", "flow_a", "x1", "", "ai", "claude-sonnet", 1532, at(-time.Hour))),
		// An id reused with another body is refused.
		record("", ev("e1", "flow_a", "x1", "", "ai", "claude-sonnet", 1533, at(-time.Hour))),
		// The member reaches their limit.
		record("", ev("m1", "flow_m", "x3", "member", "ai", "claude-opus", 20000, at(-2*time.Hour))),
		// A user who is not a member is refused.
		record("", ev("n1", "flow_a", "x1", "usr_nobody", "sms", "", 1, time.Time{})),
		// Past the promo's expiry: the Go path expires it, then charges.
		func(p *pathFixture) (any, error) { p.f.Clock.Advance(72 * time.Hour); return nil, nil },
		record("", ev("p1", "flow_b", "x4", "", "ai", "claude-opus", 9000, time.Time{})),
		record("", ev("p2", "flow_b", "x4", "", "sms", "", 3, time.Time{}), ev("p3", "flow_c", "x5", "member", "email", "", 2, time.Time{})),
		// More than every grant holds: arrears.
		record("", ev("a1", "flow_b", "x6", "", "ai", "claude-opus", 200000, time.Time{})),
		record("", ev("a2", "flow_b", "x6", "", "ai", "claude-sonnet", 1000, time.Time{})),
		// A purchase settles the arrears; usage goes on.
		func(p *pathFixture) (any, error) {
			_, err := p.f.Svc.GrantCredits(ctx, p.f.Org, billing.GrantPurchase, billing.Credits(5000), nil, "ref-late", "Late purchase")
			return nil, err
		},
		record("", ev("s1", "flow_b", "x7", "", "ai", "gpt-4o", 3000, time.Time{}), ev("s2", "flow_d", "x7", "member", "email", "", 1, time.Time{})),
		record("", ev("s3", "flow_d", "x8", "", "voice_call", "", 95, time.Time{})),
	}
}

// ledgerDump lists, per table ingestion writes, the org's rows without ids that differ between
// databases (org ids, user ids, grant and entry ids are replaced by stable names).
var ledgerDump = []struct{ name, sql string }{
	{"ledger entries", `SELECT e.kind, e.amount_mc, e.unfunded_mc, e.memo, COALESCE(g.kind || '/' || g.source_ref, '') AS grant
		FROM ledger_entries e LEFT JOIN grants g ON g.id = e.grant_id WHERE e.org_id = $1 ORDER BY e.id`},
	{"allocations", `SELECT x.amount_mc, x.settled, g.kind || '/' || g.source_ref,
		(SELECT count(*) FROM ledger_entries e2 WHERE e2.org_id = x.org_id AND e2.id <= x.entry_id) AS entry_no
		FROM allocations x JOIN grants g ON g.id = x.grant_id WHERE x.org_id = $1 ORDER BY entry_no, g.source_ref, x.amount_mc`},
	{"grants", `SELECT kind, source_ref, amount_mc, remaining_mc, expires_at FROM grants WHERE org_id = $1 ORDER BY id`},
	{"account", `SELECT balance_mc, arrears_mc, cycle_start, cycle_end, cycle_used_mc FROM accounts WHERE org_id = $1`},
	{"usage events", `SELECT u.id, flow_id, execution_id, us.email, type, model, quantity, u.cost_mc, u.occurred_at,
		-- the hash covers the userId as sent: the member's id differs between the databases
		CASE WHEN us.email = 'member@example.com' THEN length(k.body_hash)::text ELSE encode(k.body_hash, 'hex') END,
		k.cost_mc, k.occurred_at, k.entry_id = u.entry_id,
		(SELECT memo FROM ledger_entries e WHERE e.id = u.entry_id)
		FROM usage_events u JOIN users us ON us.id = u.user_id
		LEFT JOIN usage_event_keys k ON k.org_id = u.org_id AND k.id = u.id
		WHERE u.org_id = $1 ORDER BY u.id`},
	{"event keys", `SELECT k.id, k.cost_mc, k.occurred_at, (SELECT memo FROM ledger_entries e WHERE e.id = k.entry_id)
		FROM usage_event_keys k WHERE k.org_id = $1 ORDER BY k.id`},
	{"daily rollup", `SELECT gen, day, flow_id, us.email, type, model, credits_mc, quantity, events
		FROM usage_daily d JOIN users us ON us.id = d.user_id WHERE org_id = $1 ORDER BY 1, 2, 3, 4, 5, 6`},
	{"flow rollup", `SELECT gen, day, flow_id, credits_mc, quantity, events
		FROM usage_flow_daily WHERE org_id = $1 ORDER BY 1, 2, 3`},
	{"weekly flow rollup", `SELECT gen, week, flow_id, credits_mc, quantity, events
		FROM usage_flow_weekly WHERE org_id = $1 ORDER BY 1, 2, 3`},
	{"execution totals", `SELECT execution_id, type, flow_id, us.email, credits_mc, events, first_at, last_at
		FROM execution_usage x JOIN users us ON us.id = x.user_id WHERE org_id = $1 ORDER BY 1, 2`},
	{"flows", `SELECT id, name FROM flows WHERE org_id = $1 ORDER BY id`},
	{"notifications", `SELECT n.kind, COALESCE(us.email, ''), n.audience,
		regexp_replace(COALESCE(n.dedupe_key, ''), 'usr_[A-Za-z0-9_]+', 'user'), n.data::text, n.created_at
		FROM notifications n LEFT JOIN users us ON us.id = n.user_id WHERE n.org_id = $1 ORDER BY n.id`},
	{"member counters", `SELECT us.email, cycle_start, used_mc FROM member_cycle_usage m JOIN users us ON us.id = m.user_id
		WHERE org_id = $1 ORDER BY 1, 2`},
}

func dump(t *testing.T, p *pathFixture, q struct{ name, sql string }) []string {
	t.Helper()
	rows, err := p.f.DB.QueryxContext(ctx, q.sql, p.f.Org)
	if err != nil {
		t.Fatalf("%s: %v", q.name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if ts, ok := v.(time.Time); ok {
				vals[i] = ts.UTC().Format(time.RFC3339Nano)
			}
			if b, ok := v.([]byte); ok {
				vals[i] = fmt.Sprintf("%x", b)
			}
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cells, " | "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// missing lists the rows of a that b lacks.
func missing(a, b []string) []string {
	in := map[string]int{}
	for _, r := range b {
		in[r]++
	}
	var out []string
	for _, r := range a {
		if in[r] > 0 {
			in[r]--
			continue
		}
		out = append(out, r)
	}
	return out
}
