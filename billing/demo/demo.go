// Package demo creates the demo organization: "Acme Robotics" on Pro with an admin and members,
// a customer for a year (purchases, a refund, plan renewals and monthly statements, each
// invoiced as it happened) with about 90 days of detailed usage, recorded through the real
// billing service with a clock that walks through those days, so cycles, allotments,
// purchases, documents and rollups are all genuine.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
)

// Demo logins.
const (
	AdminEmail  = "admin@lux.local"
	MemberEmail = "dev@lux.local"
	OpsEmail    = "ops@lux.local"
	Password    = "lux-demo"
	OrgName     = "Acme Robotics"
)

// Result says what was created.
type Result struct {
	OrgID   string
	AdminID string
	APIKey  string // the admin's demo API key, shown once
	Events  int
}

type flowSpec struct {
	id, name string
	perDay   float64 // executions a weekday
	steps    func(r *rand.Rand) []billing.UsageEvent
}

var flows = []flowSpec{
	{"flow_support_triage", "Customer support triage", 70, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{
			{Type: billing.TypeAI, Model: "claude-sonnet", Quantity: int64(1200 + r.IntN(3500))},
			{Type: billing.TypeEmail, Quantity: 1},
		}
	}},
	{"flow_lead_enrichment", "Lead enrichment", 120, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{
			{Type: billing.TypeAI, Model: "gpt-4o-mini", Quantity: int64(800 + r.IntN(2500))},
			{Type: billing.TypeAI, Model: "claude-haiku", Quantity: int64(500 + r.IntN(1500))},
		}
	}},
	{"flow_appointment_sms", "Appointment reminders", 90, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{{Type: billing.TypeSMS, Quantity: int64(1 + r.IntN(2))}}
	}},
	{"flow_sales_calls", "Outbound sales calls", 25, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{
			{Type: billing.TypeVoiceCall, Quantity: int64(40 + r.IntN(420))},
			{Type: billing.TypeVoiceSynthesis, Quantity: int64(600 + r.IntN(2400))},
			{Type: billing.TypeAI, Model: "gpt-4o", Quantity: int64(1500 + r.IntN(3000))},
		}
	}},
	{"flow_weekly_digest", "Weekly report digest", 4, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{
			{Type: billing.TypeAI, Model: "claude-opus", Quantity: int64(9000 + r.IntN(12000))},
			{Type: billing.TypeEmail, Quantity: int64(20 + r.IntN(30))},
		}
	}},
	{"flow_onboarding_emails", "Onboarding emails", 40, func(r *rand.Rand) []billing.UsageEvent {
		return []billing.UsageEvent{{Type: billing.TypeEmail, Quantity: int64(1 + r.IntN(3))}}
	}},
}

// Seed creates the demo organization ending at now, with days of history. It records usage
// through a billing service whose clock walks from the sign-up day to now.
func Seed(ctx context.Context, db *sqlx.DB, now time.Time, days int) (*Result, error) {
	var clock atomic.Int64
	start := now.Add(-time.Duration(days)*24*time.Hour - 2*time.Hour).UTC().Truncate(time.Hour)
	// The organization signed up a year ago (History); the detailed usage covers the last days.
	signup := now.Add(-AccountAge - 2*time.Hour).UTC().Truncate(time.Hour)
	if start.Before(signup) {
		signup = start
	}
	clock.Store(signup.UnixNano())
	demoNow := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	docs := documents.New(db, documents.Config{}, documents.WithClock(demoNow))
	svc, err := billing.New(ctx, db, billing.WithClock(demoNow), billing.WithPlanInvoicer(documents.PlanInvoicer{Docs: docs}))
	if err != nil {
		return nil, err
	}
	ids := identity.New(svc)
	set := func(t time.Time) { clock.Store(t.UnixNano()) }

	admin, err := ids.CreateUser(ctx, identity.NewUser{Email: AdminEmail, Name: "Alex Admin", Password: Password})
	if err != nil {
		return nil, fmt.Errorf("demo: admin: %w", err)
	}
	var hist *history
	org, err := signUpOnPro(ctx, svc, ids, admin.ID, func(org string) (err error) {
		hist, err = newHistory(ctx, svc, ids, docs, set, org, admin.ID, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	users := []string{admin.ID}
	for _, m := range []struct{ email, name string }{{MemberEmail, "Dana Developer"}, {OpsEmail, "Omar Operations"}} {
		u, err := ids.CreateUser(ctx, identity.NewUser{Email: m.email, Name: m.name, Password: Password})
		if err != nil {
			return nil, fmt.Errorf("demo: member: %w", err)
		}
		if err := ids.AddMember(ctx, org, u.ID, identity.RoleMember); err != nil {
			return nil, err
		}
		users = append(users, u.ID)
	}
	for _, f := range flows {
		if err := svc.NameFlow(ctx, org, f.id, f.name); err != nil {
			return nil, err
		}
	}

	res := &Result{OrgID: org, AdminID: admin.ID}
	if res.Events, err = hist.earlierMonths(ctx, signup, start, users); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(42, uint64(days)))
	seq := 0
	for d := 0; d <= days; d++ {
		day := start.Truncate(24 * time.Hour).Add(time.Duration(d) * 24 * time.Hour)
		weekend := day.Weekday() == time.Saturday || day.Weekday() == time.Sunday
		growth := 0.75 + 0.5*float64(d)/float64(days) // usage grows over the quarter
		// One batch per working hour, as a flow engine flushing its buffer would send.
		for hour := 7; hour < 21; hour++ {
			at := day.Add(time.Duration(hour) * time.Hour)
			if at.Before(start) || at.After(now) {
				continue
			}
			var batch []billing.UsageEvent
			for fi, f := range flows {
				rate := f.perDay * growth / 14
				if weekend {
					rate *= 0.3
				}
				if f.id == "flow_weekly_digest" && (day.Weekday() != time.Monday || hour != 8) {
					continue
				}
				if f.id == "flow_weekly_digest" {
					rate = f.perDay
				}
				n := int(rate)
				if r.Float64() < rate-float64(n) {
					n++
				}
				for range n {
					seq++
					exec := fmt.Sprintf("exec_%s_%06d", f.id[5:], seq)
					user := users[(fi+seq)%len(users)]
					if fi == 0 || fi == 3 {
						user = users[1] // support and sales flows belong to the developer
					}
					occurred := at.Add(time.Duration(r.IntN(3600)) * time.Second)
					for si, e := range f.steps(r) {
						e.ID = fmt.Sprintf("evt_%s_%d", exec[5:], si)
						e.FlowID, e.ExecutionID, e.UserID = f.id, exec, user
						e.OccurredAt = occurred.Add(time.Duration(si) * time.Second)
						batch = append(batch, e)
					}
				}
			}
			if len(batch) == 0 {
				continue
			}
			if err := hist.until(ctx, at); err != nil {
				return nil, err
			}
			set(at.Add(time.Hour))
			if _, err := svc.RecordUsage(ctx, org, admin.ID, batch); err != nil {
				return nil, fmt.Errorf("demo: usage on %s: %w", at.Format(time.DateOnly), err)
			}
			res.Events += len(batch)
		}
	}
	if err := hist.until(ctx, now); err != nil {
		return nil, err
	}
	set(now)
	if err := seedLimits(ctx, svc, ids, org, admin.ID, users[1], users[2]); err != nil {
		return nil, err
	}
	if err := seedNotifications(ctx, db, org, admin.ID, now); err != nil {
		return nil, err
	}
	key, _, err := ids.CreateAPIKey(ctx, org, admin.ID, "Demo key")
	if err != nil {
		return nil, err
	}
	res.APIKey = key
	return res, nil
}
