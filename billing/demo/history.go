package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/documents"
	"github.com/luxstudio/lux-billing/billing/identity"
	"github.com/luxstudio/lux-billing/billing/payments"
)

// AccountAge is how long the demo organization has been a customer: its History holds a
// year of purchases, plan charges and monthly statements.
const AccountAge = 365 * 24 * time.Hour

// purchase is one of the demo's purchases of credits, paid through the demo checkout at
// daysAgo before now (09:30 UTC); refundAfter > 0 refunds its unused credits that long after
// paying.
type purchase struct {
	daysAgo     int
	credits     int64
	refundAfter time.Duration
}

// demoPurchases are the demo organization's purchases over its year: packs every month or
// two, one refunded a few days after it was bought (its credit note corrects its invoice), and
// the newest still refundable, so History offers its Refund.
var demoPurchases = []purchase{
	{340, 10000, 0}, {296, 5000, 0}, {251, 10000, 0}, {203, 50000, 0}, {152, 10000, 0},
	{108, 5000, 0}, {72, 10000, 0}, {44, 5000, 3 * 24 * time.Hour}, {27, 5000, 0}, {6, 10000, 0},
}

// history issues the demo organization's documents as they would have been issued over its
// year: an invoice in each purchase's fulfilment and each plan charge's transaction, a credit
// note in the refund's, and each cycle's statement shortly after it closed (as `lux serve`'s
// sweep does). The clock only moves forward: steps run when the seed's walk reaches them.
type history struct {
	svc   *billing.Service
	docs  *documents.Service
	pay   *payments.Service
	set   func(time.Time)
	org   string
	admin string
	steps []step
	next  int
}

type step struct {
	at  time.Time
	run func(ctx context.Context) error
}

// newHistory returns the demo's history over svc with the documents service docs (both on the
// seed's clock), its billing details saved first so every document bills them.
func newHistory(ctx context.Context, svc *billing.Service, ids *identity.Service, docs *documents.Service, set func(time.Time), org, admin string, now time.Time) (*history, error) {
	if _, err := docs.SaveProfile(ctx, org, admin, documents.Profile{
		Name: "Acme Robotics, Inc.", Address: "500 Howard Street, Floor 3\nSan Francisco, CA 94105",
		Country: "US", TaxID: "US 94-3127745", Email: "finance@acme-robotics.example",
	}); err != nil {
		return nil, fmt.Errorf("demo: billing details: %w", err)
	}
	h := &history{svc: svc, docs: docs, set: set, org: org, admin: admin,
		pay: payments.New(svc, ids, payments.Config{Issuer: documents.PaymentInvoicer{Docs: docs}})}
	day := now.UTC().Truncate(24 * time.Hour)
	for _, p := range demoPurchases {
		at := day.AddDate(0, 0, -p.daysAgo).Add(9*time.Hour + 30*time.Minute)
		var id string
		h.steps = append(h.steps, step{at, func(ctx context.Context) (err error) {
			id, err = h.buy(ctx, p.credits)
			return err
		}})
		if p.refundAfter > 0 {
			h.steps = append(h.steps, step{at.Add(p.refundAfter), func(ctx context.Context) error {
				if _, err := h.pay.Refund(ctx, org, id, admin); err != nil {
					return fmt.Errorf("demo: refund: %w", err)
				}
				return nil
			}})
		}
	}
	return h, nil
}

// buy buys n credits as the admin through the demo checkout, as the Add Credits page does.
func (h *history) buy(ctx context.Context, n int64) (string, error) {
	p, err := h.pay.StartPurchase(ctx, h.org, h.admin, n)
	if err != nil {
		return "", fmt.Errorf("demo: purchase: %w", err)
	}
	if _, err := h.pay.PayDemo(ctx, h.org, p.ID); err != nil {
		return "", fmt.Errorf("demo: pay: %w", err)
	}
	return p.ID, nil
}

// until runs the steps due up to t, each at its own time (or the clock's, when that is later:
// the clock never goes back), then issues the statements of the cycles that have closed.
func (h *history) until(ctx context.Context, t time.Time) error {
	for ; h.next < len(h.steps) && !h.steps[h.next].at.After(t); h.next++ {
		s := h.steps[h.next]
		if s.at.After(h.svc.Now()) {
			h.set(s.at)
		}
		if err := s.run(ctx); err != nil {
			return err
		}
	}
	if _, err := h.docs.IssueDueStatements(ctx, 10); err != nil {
		return fmt.Errorf("demo: statements: %w", err)
	}
	return nil
}

// earlierMonths records the organization's usage from its sign-up to from, when the seed's
// detailed usage begins: one batch a day, each flow's executions of the day summed into a few
// events, growing towards the detailed period's level; the purchases, refunds, plan renewals
// and statements of those months happen as the walk passes them. It returns the events
// recorded.
func (h *history) earlierMonths(ctx context.Context, signup, from time.Time, users []string) (int, error) {
	r := rand.New(rand.NewPCG(7, 365))
	events := 0
	total := from.Sub(signup).Hours() / 24
	for day, i := signup.Truncate(24*time.Hour), 0; day.Add(24 * time.Hour).Before(from); day, i = day.Add(24*time.Hour), i+1 {
		at := day.Add(18 * time.Hour)
		if at.Before(signup) {
			continue
		}
		if err := h.until(ctx, at); err != nil {
			return events, err
		}
		growth := 0.3 + 0.45*float64(i)/total
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			growth *= 0.3
		}
		var batch []billing.UsageEvent
		for fi, f := range flows {
			n := int(f.perDay*growth + r.Float64())
			if f.id == "flow_weekly_digest" {
				n = 0
				if day.Weekday() == time.Monday {
					n = 1
				}
			}
			if n == 0 {
				continue
			}
			// Up to three executions stand for the day's n, each carrying its share.
			parts := min(n, 3)
			for p := range parts {
				exec := fmt.Sprintf("exec_%s_d%03d_%d", f.id[5:], i, p)
				user := users[(fi+p+i)%len(users)]
				if fi == 0 || fi == 3 {
					user = users[1]
				}
				share := int64(n / parts)
				if p == 0 {
					share += int64(n % parts)
				}
				occurred := day.Add(time.Duration(9+2*p)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
				for si, e := range f.steps(r) {
					e.ID = fmt.Sprintf("evt_%s_%d", exec[5:], si)
					e.FlowID, e.ExecutionID, e.UserID = f.id, exec, user
					e.Quantity *= share
					e.OccurredAt = occurred.Add(time.Duration(si) * time.Second)
					batch = append(batch, e)
				}
			}
		}
		if len(batch) == 0 {
			continue
		}
		h.set(at)
		if _, err := h.svc.RecordUsage(ctx, h.org, h.admin, batch); err != nil {
			return events, fmt.Errorf("demo: usage on %s: %w", at.Format(time.DateOnly), err)
		}
		events += len(batch)
	}
	return events, nil
}
