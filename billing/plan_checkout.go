package billing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// PlanCheckout is an upgrade waiting for its payment: the plan and the price quoted when the
// admin chose it.
type PlanCheckout struct {
	ID          string     `db:"id"`
	OrgID       string     `db:"org_id"`
	PlanCode    string     `db:"plan_code"`
	AmountCents Cents      `db:"amount_cents"`
	Currency    string     `db:"currency"`
	CycleStart  time.Time  `db:"cycle_start"`
	Provider    string     `db:"provider"`
	SessionRef  string     `db:"session_ref"` // the provider's checkout session
	Status      string     `db:"status"`      // open, paid, expired
	CreatedBy   string     `db:"created_by"`
	CreatedAt   time.Time  `db:"created_at"`
	PaidAt      *time.Time `db:"paid_at"`
}

// StartPlanCheckout opens a checkout for upgrading org to plan code, priced by the quote of
// this moment. The payment provider then collects AmountCents (the demo provider's page, or
// Stripe Checkout in subscription mode) and CompletePlanCheckout fulfils it. A downgrade is
// EINVALID (ScheduleDowngrade); Enterprise and the current plan as in QuotePlanChange.
func (s *Service) StartPlanCheckout(ctx context.Context, orgID, code, by, provider string) (*PlanCheckout, *PlanChangeQuote, error) {
	var co *PlanCheckout
	var qt *PlanChangeQuote
	err := s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		p, err := s.plan(ctx, lt.tx, code)
		if err != nil {
			return err
		}
		if qt, err = s.quote(ctx, lt, p); err != nil {
			return err
		}
		if !qt.Upgrade {
			return Errorf(EINVALID, "%s is a downgrade: it starts with your next cycle and needs no payment", p.Name)
		}
		if _, err := lt.tx.ExecContext(ctx, planQ.expireOpenPlanCheckouts, orgID); err != nil {
			return fmt.Errorf("billing: expire checkouts: %w", err)
		}
		co = &PlanCheckout{ID: NewID("pco"), OrgID: orgID, PlanCode: p.Code, AmountCents: qt.Price, Currency: "usd",
			CycleStart: lt.acct.CycleStart, Provider: provider, Status: "open", CreatedBy: by, CreatedAt: lt.now}
		if _, err := lt.tx.NamedExecContext(ctx, planQ.insertPlanCheckout, co); err != nil {
			return fmt.Errorf("billing: insert plan checkout: %w", err)
		}
		return nil
	})
	return co, qt, err
}

// SetPlanCheckoutSession records the provider's session for checkout id.
func (s *Service) SetPlanCheckoutSession(ctx context.Context, id, sessionRef string) error {
	if _, err := s.db.ExecContext(ctx, planQ.setPlanCheckoutSession, id, sessionRef); err != nil {
		return fmt.Errorf("billing: plan checkout session: %w", err)
	}
	return nil
}

// FindPlanCheckout returns org's checkout id; ENOTFOUND when it is not org's.
func (s *Service) FindPlanCheckout(ctx context.Context, orgID, id string) (*PlanCheckout, error) {
	var co PlanCheckout
	if err := s.db.GetContext(ctx, &co, planQ.selectPlanCheckout, id); err != nil || co.OrgID != orgID {
		if err == nil {
			err = sql.ErrNoRows
		}
		return nil, NotFound(err, "that checkout does not exist", "select plan checkout")
	}
	return &co, nil
}

// FindPlanCheckoutByID returns checkout id whatever its org (a provider's webhook names it);
// ENOTFOUND when there is none.
func (s *Service) FindPlanCheckoutByID(ctx context.Context, id string) (*PlanCheckout, error) {
	var co PlanCheckout
	if err := s.db.GetContext(ctx, &co, planQ.selectPlanCheckout, id); err != nil {
		return nil, NotFound(err, "that checkout does not exist", "select plan checkout")
	}
	return &co, nil
}

// PlanPayment is a provider's word that a plan checkout was paid.
type PlanPayment struct {
	CheckoutID      string
	Provider        string
	AmountCents     Cents // what was collected
	CustomerRef     string
	SubscriptionRef string
	EventAt         time.Time // the provider's time of the event (zero: now)
}

// PlanUpgrade is what fulfilling a plan checkout did.
type PlanUpgrade struct {
	Checkout *PlanCheckout
	Plan     Plan
	TopUp    Millicredits // credits granted at once
	ChargeID int64
	Already  bool // the checkout had been fulfilled before: nothing changed
}

// CompletePlanCheckout fulfils a paid plan checkout exactly once, however often the provider
// says so: the org moves to the plan at once (a pending downgrade is cancelled), the running
// cycle's allotment is topped up to the plan's (the top-up rule), the charge is recorded
// against the top-up's ledger entry (and invoiced), and the subscription is remembered for
// renewals. A checkout for a plan no larger than the org's plan by then records the charge and
// leaves the plan alone (support refunds it). ENOTFOUND for an unknown checkout.
func (s *Service) CompletePlanCheckout(ctx context.Context, pay PlanPayment) (*PlanUpgrade, error) {
	res := &PlanUpgrade{}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var co PlanCheckout
		if err := tx.GetContext(ctx, &co, planQ.lockPlanCheckout, pay.CheckoutID); err != nil {
			return NotFound(err, "that checkout does not exist", "lock plan checkout")
		}
		res.Checkout = &co
		if co.Status == "paid" {
			res.Already = true
			return nil
		}
		lt, err := s.lockLedger(ctx, tx, co.OrgID, s.now())
		if err != nil {
			return err
		}
		if res.Plan, err = s.plan(ctx, tx, co.PlanCode); err != nil {
			return err
		}
		var tu topUp
		if planAllotment(res.Plan, nil) > lt.acct.allotment() {
			if tu, err = lt.setPlan(ctx, res.Plan, nil, ChangeUpgrade, co.CreatedBy); err != nil {
				return err
			}
		}
		res.TopUp = tu.Amount
		res.ChargeID, err = lt.recordCharge(ctx, PlanCharge{
			PlanCode: co.PlanCode, Kind: "upgrade", AmountCents: pay.AmountCents, Currency: co.Currency,
			PeriodStart: lt.now, PeriodEnd: lt.acct.CycleEnd, Provider: pay.Provider, ProviderRef: co.ID,
		}, &tu)
		if err != nil {
			return err
		}
		at := pay.EventAt
		if at.IsZero() {
			at = lt.now
		}
		if _, err := tx.ExecContext(ctx, planQ.upsertSubscription, co.OrgID, lt.acct.PlanCode, pay.Provider, "active",
			pay.CustomerRef, pay.SubscriptionRef, at, lt.now); err != nil {
			return fmt.Errorf("billing: subscription: %w", err)
		}
		if _, err := tx.ExecContext(ctx, planQ.markPlanCheckoutPaid, co.ID, lt.now); err != nil {
			return fmt.Errorf("billing: mark checkout paid: %w", err)
		}
		co.Status = "paid"
		return lt.flush(ctx)
	})
	return res, err
}

// RenewalFailed records that org's plan renewal was not paid (the provider gave up or the
// subscription ended): the org moves to Free at the start of its next cycle, replacing any
// pending change, and keeps this cycle's allotment and every purchased credit. An org without
// a paid plan is left alone (nil change).
func (s *Service) RenewalFailed(ctx context.Context, orgID, status string) (*PlanChange, error) {
	var c *PlanChange
	err := s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		var err error
		c, err = s.renewalFailed(ctx, lt, status)
		return err
	})
	return c, err
}

func (s *Service) renewalFailed(ctx context.Context, lt *ledgerTx, status string) (*PlanChange, error) {
	if lt.prices.price(lt.acct.PlanCode) <= 0 || lt.acct.PlanCode == PlanEnterprise {
		return nil, nil
	}
	if _, err := lt.tx.ExecContext(ctx, planQ.setSubscriptionStatus, lt.acct.OrgID, status, lt.now); err != nil {
		return nil, fmt.Errorf("billing: subscription status: %w", err)
	}
	if p, err := pendingChange(ctx, lt.tx, lt.acct.OrgID); err != nil || (p != nil && p.ToPlan == PlanFree) {
		return p, err // already on its way to Free
	}
	free, err := s.plan(ctx, lt.tx, PlanFree)
	if err != nil {
		return nil, err
	}
	c, err := lt.schedulePlan(ctx, free, nil, ChangeRenewalFailed, "payments")
	if err != nil {
		return nil, err
	}
	return c, s.notifyRenewalFailed(ctx, lt, c)
}

// SubscriptionChanged applies a provider's news that subscription ref is now in status, as of
// at (the provider's event time), exactly once and in order: news older than the last applied
// (a webhook delivered late) and news of a subscription the org no longer has are ignored
// (false). past_due, unpaid and canceled move the org to Free at its next cycle
// (RenewalFailed); active again takes that move back. ENOTFOUND for an unknown subscription.
func (s *Service) SubscriptionChanged(ctx context.Context, provider, ref, status string, at time.Time) (bool, error) {
	sub, err := s.FindSubscriptionByRef(ctx, provider, ref)
	if err != nil {
		return false, err
	}
	applied := false
	err = s.withLedger(ctx, sub.OrgID, func(lt *ledgerTx) error {
		var cur Subscription
		if err := lt.tx.GetContext(ctx, &cur, planQ.selectSubscription, sub.OrgID); err != nil {
			return fmt.Errorf("billing: subscription: %w", err)
		}
		if cur.Provider != provider || cur.SubscriptionRef != ref || (cur.EventAt != nil && at.Before(*cur.EventAt)) {
			return nil
		}
		applied = true
		if _, err := lt.tx.ExecContext(ctx, planQ.touchSubscription, sub.OrgID, at); err != nil {
			return fmt.Errorf("billing: subscription: %w", err)
		}
		switch status {
		case "past_due", "unpaid", "canceled", "incomplete_expired":
			_, err := s.renewalFailed(ctx, lt, status)
			return err
		case "active", "trialing":
			if _, err := lt.tx.ExecContext(ctx, planQ.setSubscriptionStatus, sub.OrgID, "active", lt.now); err != nil {
				return err
			}
			if p, err := pendingChange(ctx, lt.tx, sub.OrgID); err != nil || p == nil || p.Reason != ChangeRenewalFailed {
				return err
			}
			_, err := lt.tx.ExecContext(ctx, planQ.cancelPendingPlanChange, sub.OrgID, lt.now, "payments")
			return err
		}
		return nil
	})
	return applied, err
}

// RecordRenewal records a provider's renewal of org's plan (Stripe's invoice.paid for a new
// period) once per ref, against the running cycle's allotment. A move to Free waiting because
// of a failed renewal is cancelled: the plan was paid after all.
func (s *Service) RecordRenewal(ctx context.Context, orgID, provider, ref string, amount Cents) (int64, error) {
	var id int64
	err := s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		var err error
		id, err = lt.recordCharge(ctx, PlanCharge{
			PlanCode: lt.acct.PlanCode, Kind: "renewal", AmountCents: amount, Currency: "usd",
			PeriodStart: lt.acct.CycleStart, PeriodEnd: lt.acct.CycleEnd, Provider: provider, ProviderRef: ref,
		}, nil)
		if err != nil || id == 0 {
			return err
		}
		// A renewal for an earlier cycle than the running one (a late webhook) charges that
		// cycle; it does not take back a change decided since.
		if p, err := pendingChange(ctx, lt.tx, orgID); err != nil {
			return err
		} else if p != nil && p.Reason == ChangeRenewalFailed {
			if _, err := lt.tx.ExecContext(ctx, planQ.cancelPendingPlanChange, orgID, lt.now, "payments"); err != nil {
				return err
			}
		}
		_, err = lt.tx.ExecContext(ctx, planQ.setSubscriptionStatus, orgID, "active", lt.now)
		return err
	})
	return id, err
}

// FindSubscriptionByRef returns the org whose subscription at provider is ref; ENOTFOUND when
// none is.
func (s *Service) FindSubscriptionByRef(ctx context.Context, provider, ref string) (*Subscription, error) {
	var sub Subscription
	if err := s.db.GetContext(ctx, &sub, planQ.selectSubscriptionByRef, provider, ref); err != nil {
		return nil, NotFound(err, "no subscription "+ref, "select subscription")
	}
	return &sub, nil
}

// notifyRenewalFailed tells the org's admins that the renewal failed and when the org moves to
// Free (a notice in the outbox, written with the change; once per scheduled change).
func (s *Service) notifyRenewalFailed(_ context.Context, lt *ledgerTx, c *PlanChange) error {
	at := c.EffectiveAt
	lt.notices = append(lt.notices, Notice{OrgID: lt.acct.OrgID, Kind: NoticeRenewalFailed,
		Key:  fmt.Sprintf("renewal_failed/%d", c.ID),
		Data: NoticeData{Plan: c.FromPlan, EffectiveAt: &at}})
	return nil
}
