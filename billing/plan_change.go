package billing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// planQueryText holds the plan statements of queries.sql (the section "Plans").
type planQueryText struct {
	selectAllotmentLevel    string
	applyDuePlanChange      string
	setOrgPlan              string
	selectPendingPlanChange string
	cancelPendingPlanChange string
	insertPlanChange        string
	selectSubscription      string
	selectSubscriptionByRef string
	upsertSubscription      string
	insertPlanCharge        string
	selectAllotmentGrant    string
	insertPlanCheckout      string
	setPlanCheckoutSession  string
	selectPlanCheckout      string
	lockPlanCheckout        string
	markPlanCheckoutPaid    string
	expireOpenPlanCheckouts string
	selectPlanCharges       string
	selectPlanCharge        string
	selectCycleUsage        string
	setSubscriptionStatus   string
	touchSubscription       string
	selectPlanName          string
}

// planQ is read-only after package initialisation; a missing name panics there.
var planQ = func() planQueryText {
	f := ParseQueries("billing/queries.sql", queriesSQL)
	return planQueryText{
		selectAllotmentLevel:    f.Get("select-allotment-level"),
		applyDuePlanChange:      f.Get("apply-due-plan-change"),
		setOrgPlan:              f.Get("set-org-plan"),
		selectPendingPlanChange: f.Get("select-pending-plan-change"),
		cancelPendingPlanChange: f.Get("cancel-pending-plan-change"),
		insertPlanChange:        f.Get("insert-plan-change"),
		selectSubscription:      f.Get("select-subscription"),
		selectSubscriptionByRef: f.Get("select-subscription-by-ref"),
		upsertSubscription:      f.Get("upsert-subscription"),
		insertPlanCharge:        f.Get("insert-plan-charge"),
		selectAllotmentGrant:    f.Get("select-allotment-grant-entry"),
		insertPlanCheckout:      f.Get("insert-plan-checkout"),
		setPlanCheckoutSession:  f.Get("set-plan-checkout-session"),
		selectPlanCheckout:      f.Get("select-plan-checkout"),
		lockPlanCheckout:        f.Get("lock-plan-checkout"),
		markPlanCheckoutPaid:    f.Get("mark-plan-checkout-paid"),
		expireOpenPlanCheckouts: f.Get("expire-open-plan-checkouts"),
		selectPlanCharges:       f.Get("select-plan-charges"),
		selectPlanCharge:        f.Get("select-plan-charge"),
		selectCycleUsage:        f.Get("select-cycle-usage"),
		setSubscriptionStatus:   f.Get("set-subscription-status"),
		touchSubscription:       f.Get("touch-subscription"),
		selectPlanName:          f.Get("select-plan-name"),
	}
}()

// Plan codes.
const (
	PlanFree       = "free"
	PlanStarter    = "starter"
	PlanPro        = "pro"
	PlanEnterprise = "enterprise"
)

// Reasons for a plan change.
const (
	ChangeUpgrade       = "upgrade"        // paid by the admin; took effect at once
	ChangeDowngrade     = "downgrade"      // asked by an admin; waits for the next cycle
	ChangeOperator      = "operator"       // lux org set-plan
	ChangeRenewalFailed = "renewal_failed" // the plan's renewal was not paid: Free next cycle
)

// Payment providers of plan charges.
const (
	ProviderDemo   = "demo"
	ProviderStripe = "stripe"
)

// PlanChange is a change of an organization's plan: applied, cancelled, or pending until
// EffectiveAt (the start of the cycle it applies to).
type PlanChange struct {
	ID              int64         `db:"id"`
	OrgID           string        `db:"org_id"`
	FromPlan        string        `db:"from_plan"`
	ToPlan          string        `db:"to_plan"`
	CustomAllotment *Millicredits `db:"custom_allotment_mc"` // Enterprise only
	Reason          string        `db:"reason"`
	Status          string        `db:"status"`
	EffectiveAt     time.Time     `db:"effective_at"`
	RequestedBy     string        `db:"requested_by"`
	CreatedAt       time.Time     `db:"created_at"`
}

// Subscription is who collects an organization's plan price.
type Subscription struct {
	OrgID           string     `db:"org_id"`
	PlanCode        string     `db:"plan_code"`
	Provider        string     `db:"provider"` // ProviderDemo or ProviderStripe
	Status          string     `db:"status"`   // active, past_due, canceled
	CustomerRef     string     `db:"customer_ref"`
	SubscriptionRef string     `db:"subscription_ref"`
	EventAt         *time.Time `db:"event_at"`
}

// PlanCharge is money collected for a plan: an upgrade's pro-rata price or a cycle's renewal.
// GrantID is the allotment grant it paid for, EntryID that grant's ledger entry.
type PlanCharge struct {
	ID          int64     `db:"id"`
	OrgID       string    `db:"org_id"`
	PlanCode    string    `db:"plan_code"`
	Kind        string    `db:"kind"` // "upgrade" or "renewal"
	AmountCents Cents     `db:"amount_cents"`
	Currency    string    `db:"currency"`
	PeriodStart time.Time `db:"period_start"`
	PeriodEnd   time.Time `db:"period_end"`
	Provider    string    `db:"provider"`
	ProviderRef string    `db:"provider_ref"`
	GrantID     *int64    `db:"grant_id"`
	EntryID     *int64    `db:"entry_id"`
	CreatedAt   time.Time `db:"created_at"`

	// For the invoice (not stored): the plan's name and what the amount is for.
	PlanName string `db:"-"`
	Detail   string `db:"-"`
}

// PlanInvoicer issues the invoice of a plan charge inside the transaction that records it, so
// a charge and its invoice exist together or not at all. The documents capability implements
// it; the billing service calls it when one is set (WithPlanInvoicer).
type PlanInvoicer interface {
	IssuePlanInvoice(ctx context.Context, tx *sqlx.Tx, c PlanCharge) error
}

// WithPlanInvoicer sets who invoices plan charges.
func WithPlanInvoicer(i PlanInvoicer) Option { return func(s *Service) { s.planInvoicer = i } }

// WithPlanPrices sets the monthly price of plans by code (configuration), overriding the
// plans table's defaults. Prices are whole cents.
func WithPlanPrices(prices map[string]Cents) Option {
	return func(s *Service) {
		s.planPrices = map[string]Cents{}
		for code, p := range prices {
			s.planPrices[code] = p
		}
	}
}

// priced applies the configured price to p.
func (s *Service) priced(p *Plan) {
	if c, ok := s.planPrices[p.Code]; ok {
		p.PriceCents = c
	}
}

// ProRata is the part of a monthly price due for the rest of the cycle [start, end) from at:
// price × (end − at) / (end − start), counted in whole seconds and rounded to the nearest cent
// (halves up). At or after end it is 0; at or before start, the whole price.
func ProRata(price Cents, start, end, at time.Time) Cents {
	total := int64(end.Sub(start) / time.Second)
	left := int64(end.Sub(at) / time.Second)
	if total <= 0 || left <= 0 || price <= 0 {
		return 0
	}
	left = min(left, total)
	return Cents((int64(price)*left*2 + total) / (2 * total))
}

// planAllotment is the credits per cycle plan p grants, custom for Enterprise.
func planAllotment(p Plan, custom *Millicredits) Millicredits {
	if p.MonthlyCredits != nil {
		return *p.MonthlyCredits
	}
	if custom != nil {
		return *custom
	}
	return 0
}

// topUpRef is the once-only reference of a top-up that brings the cycle's allotment to level.
func topUpRef(cycleStart time.Time, level Millicredits) string {
	return cycleRef(cycleStart) + "/top-up/" + strconv.FormatInt(int64(level), 10)
}

// allotmentLevel is what this cycle's allotment grants add up to so far.
func (lt *ledgerTx) allotmentLevel(ctx context.Context) (Millicredits, error) {
	var level Millicredits
	if err := lt.tx.GetContext(ctx, &level, planQ.selectAllotmentLevel, lt.acct.OrgID, cycleRef(lt.acct.CycleStart)); err != nil {
		return 0, fmt.Errorf("billing: allotment level: %w", err)
	}
	return level, nil
}

// topUp is what an upgrade granted: the grant and its ledger entry (0 when nothing was due).
type topUp struct {
	Amount  Millicredits
	GrantID int64
	EntryID int64
}

// topUpAllotment applies the top-up rule: the running cycle's allotment grants are raised to
// target by one grant of the difference, expiring with the cycle. The cycle's allotment grants
// therefore add up to the highest allotment the org held in the cycle — never more, however
// often it goes up and down — and a top-up to the same level is once-only (its source_ref).
func (lt *ledgerTx) topUpAllotment(ctx context.Context, target Millicredits, memo string) (topUp, error) {
	level, err := lt.allotmentLevel(ctx)
	if err != nil || target <= level {
		return topUp{}, err
	}
	end := lt.acct.CycleEnd
	amount := target - level
	id, err := lt.grant(ctx, GrantPlanAllotment, amount, &end, topUpRef(lt.acct.CycleStart, target), memo, lt.now)
	if err != nil || id == 0 {
		return topUp{}, err
	}
	var ref struct {
		GrantID int64 `db:"grant_id"`
		EntryID int64 `db:"entry_id"`
	}
	if err := lt.tx.GetContext(ctx, &ref, planQ.selectAllotmentGrant, lt.acct.OrgID, topUpRef(lt.acct.CycleStart, target)); err != nil {
		return topUp{}, fmt.Errorf("billing: top-up entry: %w", err)
	}
	return topUp{Amount: amount, GrantID: ref.GrantID, EntryID: ref.EntryID}, nil
}

// setPlan moves the org to plan at once (under the account lock), cancelling any pending
// change and recording the change as applied, then tops the running cycle's allotment up to
// the new plan's (the top-up rule). A lower allotment takes nothing away this cycle.
func (lt *ledgerTx) setPlan(ctx context.Context, p Plan, custom *Millicredits, reason, by string) (topUp, error) {
	if p.MonthlyCredits != nil {
		custom = nil
	}
	from := lt.acct.PlanCode
	if _, err := lt.tx.ExecContext(ctx, planQ.setOrgPlan, lt.acct.OrgID, p.Code, custom); err != nil {
		return topUp{}, fmt.Errorf("billing: set plan: %w", err)
	}
	if _, err := lt.tx.ExecContext(ctx, planQ.cancelPendingPlanChange, lt.acct.OrgID, lt.now, by); err != nil {
		return topUp{}, fmt.Errorf("billing: cancel pending plan change: %w", err)
	}
	if _, err := lt.tx.ExecContext(ctx, planQ.insertPlanChange, lt.acct.OrgID, from, p.Code, custom, reason, "applied", lt.now, by, lt.now); err != nil {
		return topUp{}, fmt.Errorf("billing: record plan change: %w", err)
	}
	lt.acct.PlanCode, lt.acct.PlanCredits, lt.acct.CustomAllotment = p.Code, p.MonthlyCredits, custom
	memo := fmt.Sprintf("%s plan: allotment topped up to %s credits", p.Name, lt.acct.allotment())
	return lt.topUpAllotment(ctx, lt.acct.allotment(), memo)
}

// schedulePlan records a change to plan p from the next cycle, replacing any pending one.
func (lt *ledgerTx) schedulePlan(ctx context.Context, p Plan, custom *Millicredits, reason, by string) (*PlanChange, error) {
	if p.MonthlyCredits != nil {
		custom = nil
	}
	if _, err := lt.tx.ExecContext(ctx, planQ.cancelPendingPlanChange, lt.acct.OrgID, lt.now, by); err != nil {
		return nil, fmt.Errorf("billing: cancel pending plan change: %w", err)
	}
	c := &PlanChange{OrgID: lt.acct.OrgID, FromPlan: lt.acct.PlanCode, ToPlan: p.Code, CustomAllotment: custom,
		Reason: reason, Status: "pending", EffectiveAt: lt.acct.CycleEnd, RequestedBy: by, CreatedAt: lt.now}
	err := lt.tx.GetContext(ctx, &c.ID, planQ.insertPlanChange, c.OrgID, c.FromPlan, c.ToPlan, custom, reason, c.Status, c.EffectiveAt, by, lt.now)
	if err != nil {
		return nil, fmt.Errorf("billing: schedule plan change: %w", err)
	}
	return c, nil
}

// startCycle begins the cycle the account has just moved into: the change pending for it is
// applied (under the account lock, so several servers apply it once), the cycle's allotment is
// granted, and a demo subscription's renewal is charged.
func (lt *ledgerTx) startCycle(ctx context.Context) error {
	var applied struct {
		PlanCode    string        `db:"plan_code"`
		Custom      *Millicredits `db:"custom_allotment_mc"`
		PlanCredits *Millicredits `db:"plan_credits_mc"`
	}
	err := lt.tx.GetContext(ctx, &applied, planQ.applyDuePlanChange, lt.acct.OrgID, lt.acct.CycleStart, lt.now)
	switch {
	case err == nil:
		lt.acct.PlanCode, lt.acct.CustomAllotment, lt.acct.PlanCredits = applied.PlanCode, applied.Custom, applied.PlanCredits
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("billing: apply plan change: %w", err)
	}
	if err := lt.grantAllotment(ctx); err != nil {
		return err
	}
	return lt.chargeRenewal(ctx)
}

// chargeRenewal records the demo provider's renewal of a paid plan for the cycle just started.
// Stripe's renewals arrive as invoice.paid instead (RecordRenewal). A plan without price ends
// the subscription.
func (lt *ledgerTx) chargeRenewal(ctx context.Context) error {
	var sub Subscription
	if err := lt.tx.GetContext(ctx, &sub, planQ.selectSubscription, lt.acct.OrgID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return fmt.Errorf("billing: subscription: %w", err)
	}
	if sub.Status == "canceled" {
		return nil
	}
	price := lt.prices.price(lt.acct.PlanCode)
	if price <= 0 {
		_, err := lt.tx.ExecContext(ctx, planQ.upsertSubscription, lt.acct.OrgID, lt.acct.PlanCode, sub.Provider, "canceled", "", "", lt.now, lt.now)
		return err
	}
	if _, err := lt.tx.ExecContext(ctx, planQ.upsertSubscription, lt.acct.OrgID, lt.acct.PlanCode, sub.Provider, sub.Status, "", "", sub.EventAt, lt.now); err != nil {
		return fmt.Errorf("billing: subscription: %w", err)
	}
	if sub.Provider != ProviderDemo {
		return nil
	}
	_, err := lt.recordCharge(ctx, PlanCharge{
		PlanCode: lt.acct.PlanCode, Kind: "renewal", AmountCents: price, Currency: "usd",
		PeriodStart: lt.acct.CycleStart, PeriodEnd: lt.acct.CycleEnd,
		Provider: ProviderDemo, ProviderRef: "renewal/" + lt.acct.OrgID + "/" + cycleRef(lt.acct.CycleStart),
	}, nil)
	return err
}

// recordCharge writes a plan charge once per provider reference, linked to the grant it paid
// for (tu; the cycle's allotment when nil), and has it invoiced. It returns 0 when the
// reference was charged already.
func (lt *ledgerTx) recordCharge(ctx context.Context, c PlanCharge, tu *topUp) (int64, error) {
	c.OrgID, c.CreatedAt = lt.acct.OrgID, lt.now
	if tu != nil && tu.GrantID != 0 {
		c.GrantID, c.EntryID = &tu.GrantID, &tu.EntryID
	} else if tu == nil {
		var ref struct {
			GrantID int64 `db:"grant_id"`
			EntryID int64 `db:"entry_id"`
		}
		err := lt.tx.GetContext(ctx, &ref, planQ.selectAllotmentGrant, lt.acct.OrgID, cycleRef(lt.acct.CycleStart))
		if err == nil {
			c.GrantID, c.EntryID = &ref.GrantID, &ref.EntryID
		} else if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("billing: allotment entry: %w", err)
		}
	}
	rows, err := lt.tx.QueryContext(ctx, planQ.insertPlanCharge, c.OrgID, c.PlanCode, c.Kind, c.AmountCents, c.Currency,
		c.PeriodStart, c.PeriodEnd, c.Provider, c.ProviderRef, c.GrantID, c.EntryID, c.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("billing: insert plan charge: %w", err)
	}
	for rows.Next() {
		if err := rows.Scan(&c.ID); err != nil {
			rows.Close()
			return 0, err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("billing: insert plan charge: %w", err)
	}
	if c.ID != 0 && lt.invoicer != nil {
		if err := lt.tx.GetContext(ctx, &c.PlanName, planQ.selectPlanName, c.PlanCode); err != nil {
			return 0, fmt.Errorf("billing: plan name: %w", err)
		}
		period := c.PeriodStart.UTC().Format(time.DateOnly) + " – " + c.PeriodEnd.UTC().Format(time.DateOnly)
		c.Detail = "Renewal for " + period
		if c.Kind == "upgrade" {
			c.Detail = "Upgrade, pro rata for " + period
		}
		if err := lt.invoicer.IssuePlanInvoice(ctx, lt.tx, c); err != nil {
			return 0, fmt.Errorf("billing: invoice plan charge: %w", err)
		}
	}
	return c.ID, nil
}

// planPrices is the configured price of each plan.
type planPrices map[string]Cents

func (p planPrices) price(code string) Cents { return p[code] }
