package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// loadPlanPrices fills in the plans table's price of every plan whose price is not configured.
func (s *Service) loadPlanPrices(ctx context.Context) error {
	var ps []Plan
	if err := s.db.SelectContext(ctx, &ps, queries.SelectPlans); err != nil {
		return fmt.Errorf("billing: plans: %w", err)
	}
	prices := planPrices{}
	for _, p := range ps {
		prices[p.Code] = p.PriceCents
	}
	for code, c := range s.planPrices {
		prices[code] = c
	}
	s.planPrices = prices
	return nil
}

// plan returns the plan with code, priced; ENOTFOUND when there is none.
func (s *Service) plan(ctx context.Context, db sqlx.QueryerContext, code string) (Plan, error) {
	var p Plan
	if err := sqlx.GetContext(ctx, db, &p, queries.SelectPlan, code); err != nil {
		return p, NotFound(err, fmt.Sprintf("there is no plan %q: choose free, starter, pro or enterprise", code), "select plan")
	}
	s.priced(&p)
	return p, nil
}

// PlanChangeQuote is what changing to a plan would do now.
type PlanChangeQuote struct {
	From, To Plan
	// Upgrade: the new plan has a larger allotment and starts at once; otherwise it starts at
	// EffectiveAt, the next cycle.
	Upgrade bool
	// TopUp is the credits granted at once by an upgrade (the top-up rule), expiring at CycleEnd.
	TopUp Millicredits
	// Price is due now for an upgrade: the difference of the monthly prices, pro rata for the
	// rest of the cycle (ProRata).
	Price                Cents
	EffectiveAt          time.Time
	CycleStart, CycleEnd time.Time
}

// quote decides what changing lt's org to p means now.
func (s *Service) quote(ctx context.Context, lt *ledgerTx, p Plan) (*PlanChangeQuote, error) {
	from, err := s.plan(ctx, lt.tx, lt.acct.PlanCode)
	if err != nil {
		return nil, err
	}
	switch {
	case from.Code == PlanEnterprise:
		return nil, Errorf(EINVALID, "your Enterprise plan is managed by your account manager: contact sales to change it")
	case p.Code == PlanEnterprise:
		return nil, Errorf(EINVALID, "Enterprise allotments are set by our sales team: contact sales")
	case p.Code == from.Code:
		return nil, Errorf(ECONFLICT, "you are on the %s plan already", from.Name)
	}
	qt := &PlanChangeQuote{From: from, To: p, CycleStart: lt.acct.CycleStart, CycleEnd: lt.acct.CycleEnd, EffectiveAt: lt.acct.CycleEnd}
	if planAllotment(p, nil) <= lt.acct.allotment() {
		return qt, nil
	}
	level, err := lt.allotmentLevel(ctx)
	if err != nil {
		return nil, err
	}
	qt.Upgrade, qt.EffectiveAt = true, lt.now
	qt.TopUp = max(0, planAllotment(p, nil)-level)
	qt.Price = ProRata(max(0, p.PriceCents-from.PriceCents), lt.acct.CycleStart, lt.acct.CycleEnd, lt.now)
	return qt, nil
}

// withLedger runs fn with org's ledger locked (its cycle rolled over) and flushes it, with the
// notices of the pauses fn began or ended and the thresholds it made reached.
func (s *Service) withLedger(ctx context.Context, orgID string, fn func(lt *ledgerTx) error) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		lt, err := s.lockLedger(ctx, tx, orgID, s.now())
		if err != nil {
			return err
		}
		w, err := lt.watchPauses(ctx)
		if err != nil {
			return err
		}
		if err := fn(lt); err != nil {
			return err
		}
		if err := lt.noticeChanges(ctx, w); err != nil {
			return err
		}
		return lt.flush(ctx)
	})
}

// readLedger runs fn on org's ledger as it stands (its cycle rolled over first if it ended),
// in a read-only transaction without the account lock: for figures to show, not to act on.
func (s *Service) readLedger(ctx context.Context, orgID string, fn func(lt *ledgerTx) error) error {
	now := s.now()
	a, err := s.currentAccount(ctx, orgID, now)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("billing: begin: %w", err)
	}
	defer tx.Rollback()
	lt := s.newLedgerTx(tx, now)
	lt.acct = *a
	return fn(lt)
}

// QuotePlanChange says what moving org to plan code would do now: an upgrade (at once, with
// its top-up and pro-rata price) or a downgrade (from the next cycle). Enterprise, either way,
// and the current plan are EINVALID / ECONFLICT with a message that says what to do instead.
// It changes nothing and takes no lock.
func (s *Service) QuotePlanChange(ctx context.Context, orgID, code string) (*PlanChangeQuote, error) {
	var qt *PlanChangeQuote
	err := s.readLedger(ctx, orgID, func(lt *ledgerTx) error {
		p, err := s.plan(ctx, lt.tx, code)
		if err != nil {
			return err
		}
		qt, err = s.quote(ctx, lt, p)
		return err
	})
	return qt, err
}

// ScheduleDowngrade moves org to the smaller plan code at the start of the next cycle,
// replacing a downgrade already waiting. It changes nothing this cycle. An upgrade is EINVALID
// (it is paid for: StartPlanCheckout).
func (s *Service) ScheduleDowngrade(ctx context.Context, orgID, code, by string) (*PlanChange, error) {
	var c *PlanChange
	err := s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		p, err := s.plan(ctx, lt.tx, code)
		if err != nil {
			return err
		}
		qt, err := s.quote(ctx, lt, p)
		if err != nil {
			return err
		}
		if qt.Upgrade {
			return Errorf(EINVALID, "%s is an upgrade: it is paid for at checkout", p.Name)
		}
		c, err = lt.schedulePlan(ctx, p, nil, ChangeDowngrade, by)
		return err
	})
	return c, err
}

// CancelPlanChange cancels the downgrade waiting for org's next cycle. ENOTFOUND when none is
// waiting; a move to Free after a failed renewal is cancelled only by paying (EINVALID).
func (s *Service) CancelPlanChange(ctx context.Context, orgID, by string) error {
	return s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		c, err := pendingChange(ctx, lt.tx, orgID)
		if err != nil {
			return err
		}
		switch {
		case c == nil:
			return Errorf(ENOTFOUND, "no plan change is waiting for the next cycle")
		case c.Reason == ChangeRenewalFailed:
			return Errorf(EINVALID, "the plan's renewal was not paid: upgrade again to keep a paid plan")
		}
		_, err = lt.tx.ExecContext(ctx, planQ.cancelPendingPlanChange, orgID, lt.now, by)
		return err
	})
}

func pendingChange(ctx context.Context, db sqlx.QueryerContext, orgID string) (*PlanChange, error) {
	var c PlanChange
	if err := sqlx.GetContext(ctx, db, &c, planQ.selectPendingPlanChange, orgID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("billing: pending plan change: %w", err)
	}
	return &c, nil
}

// SetPlanResult is what an operator's plan change did.
type SetPlanResult struct {
	Change *PlanChange  // the pending change (nil when applied at once)
	TopUp  Millicredits // credits granted at once (applied at once only)
}

// SetPlan is the operator's plan change (lux org set-plan): org moves to plan code from the
// next cycle, or at once when now is set (same top-up rule as an upgrade; nothing is charged).
// Enterprise needs its monthly allotment in credits (more than 0); the other plans take none.
func (s *Service) SetPlan(ctx context.Context, orgID, code string, credits *Millicredits, now bool) (*SetPlanResult, error) {
	res := &SetPlanResult{}
	err := s.withLedger(ctx, orgID, func(lt *ledgerTx) error {
		p, err := s.plan(ctx, lt.tx, code)
		if err != nil {
			return err
		}
		switch {
		case p.MonthlyCredits == nil && (credits == nil || *credits <= 0):
			return Errorf(EINVALID, "the %s plan needs its monthly allotment: add --credits N (more than 0)", p.Name)
		case p.MonthlyCredits != nil && credits != nil:
			return Errorf(EINVALID, "the %s plan grants %s credits a month; --credits is only for Enterprise", p.Name, *p.MonthlyCredits)
		case credits != nil && *credits > MaxLimit:
			return Errorf(EINVALID, "an allotment may be at most %s credits", MaxLimit)
		}
		if !now {
			res.Change, err = lt.schedulePlan(ctx, p, credits, ChangeOperator, "operator")
			return err
		}
		tu, err := lt.setPlan(ctx, p, credits, ChangeOperator, "operator")
		res.TopUp = tu.Amount
		return err
	})
	return res, err
}

// PlanStatus is an organization's plan now: the plan, its allotment, this cycle's allotment
// grants, the change waiting for the next cycle and the subscription.
type PlanStatus struct {
	Plan         Plan
	Allotment    Millicredits // per cycle, on the current plan
	Granted      Millicredits // this cycle's allotment grants so far (the top-up rule's level)
	CycleStart   time.Time
	CycleEnd     time.Time
	Pending      *PlanChange
	PendingPlan  *Plan
	Subscription *Subscription
}

// PlanStatus returns org's plan, rolling its cycle over first if it ended.
func (s *Service) PlanStatus(ctx context.Context, orgID string) (*PlanStatus, error) {
	st := &PlanStatus{}
	err := s.readLedger(ctx, orgID, func(lt *ledgerTx) error {
		var err error
		if st.Plan, err = s.plan(ctx, lt.tx, lt.acct.PlanCode); err != nil {
			return err
		}
		st.Allotment, st.CycleStart, st.CycleEnd = lt.acct.allotment(), lt.acct.CycleStart, lt.acct.CycleEnd
		if st.Granted, err = lt.allotmentLevel(ctx); err != nil {
			return err
		}
		if st.Pending, err = pendingChange(ctx, lt.tx, orgID); err != nil || st.Pending == nil {
			return err
		}
		p, err := s.plan(ctx, lt.tx, st.Pending.ToPlan)
		st.PendingPlan = &p
		return err
	})
	if err != nil {
		return nil, err
	}
	var sub Subscription
	switch err := s.db.GetContext(ctx, &sub, planQ.selectSubscription, orgID); {
	case err == nil:
		st.Subscription = &sub
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("billing: subscription: %w", err)
	}
	return st, nil
}

// CycleUsage is the credits used in one billing cycle.
type CycleUsage struct {
	Start, End time.Time
	Used       Millicredits
	Current    bool // the running cycle (usage so far)
}

// RecentCycles returns the usage of org's last n complete cycles, oldest first; an org with no
// complete cycle yet gets its running cycle so far.
func (s *Service) RecentCycles(ctx context.Context, orgID string, n int) ([]CycleUsage, error) {
	a, err := s.currentAccount(ctx, orgID, s.now())
	if err != nil {
		return nil, err
	}
	var cycles []CycleUsage
	start := a.CycleStart
	for len(cycles) < n && start.After(a.CycleAnchor) {
		prev, _ := CycleAt(a.CycleAnchor, start.Add(-time.Nanosecond))
		cycles = append([]CycleUsage{{Start: prev, End: start}}, cycles...)
		start = prev
	}
	if len(cycles) == 0 {
		cycles = []CycleUsage{{Start: a.CycleStart, End: a.CycleEnd, Current: true}}
	}
	starts := make([]string, len(cycles))
	for i, c := range cycles {
		starts[i] = c.Start.UTC().Format(time.RFC3339Nano)
	}
	var rows []struct {
		Start time.Time    `db:"cycle_start"`
		Used  Millicredits `db:"used_mc"`
	}
	if err := s.db.SelectContext(ctx, &rows, planQ.selectCycleUsage, orgID, pq.Array(starts)); err != nil {
		return nil, fmt.Errorf("billing: cycle usage: %w", err)
	}
	for _, r := range rows {
		for i := range cycles {
			if cycles[i].Start.Equal(r.Start) {
				cycles[i].Used = r.Used
			}
		}
	}
	return cycles, nil
}

// PlanCharges returns org's latest plan charges, newest first.
func (s *Service) PlanCharges(ctx context.Context, orgID string, limit int) ([]PlanCharge, error) {
	var cs []PlanCharge
	if err := s.db.SelectContext(ctx, &cs, planQ.selectPlanCharges, orgID, limit); err != nil {
		return nil, fmt.Errorf("billing: plan charges: %w", err)
	}
	return cs, nil
}
