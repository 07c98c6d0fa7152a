package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/luxstudio/lux-billing/billing"
)

// ParseAmount reads an amount of credits to buy as typed in the Add Credits form: a whole
// number from MinCredits to MaxCredits (thousands separators allowed). Anything else is
// EINVALID with a message that says what to type.
func ParseAmount(s string) (int64, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	if s == "" {
		return 0, billing.Errorf(billing.EINVALID, "choose a pack or enter how many credits to buy (%s to %s)", billing.Thousands(MinCredits), billing.Thousands(MaxCredits))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < MinCredits || n > MaxCredits {
		return 0, billing.Errorf(billing.EINVALID, "enter a whole number of credits from %s to %s", billing.Thousands(MinCredits), billing.Thousands(MaxCredits))
	}
	return n, nil
}

// StartPurchase creates a pending purchase of credits (whole credits, MinCredits–MaxCredits)
// for org, bought by user (who must be an admin of org: EFORBIDDEN otherwise), and starts its
// checkout with the provider. The buyer is then sent to the purchase's CheckoutURL. The row
// exists before the checkout does, so a confirmation can never arrive for an unknown purchase;
// when the provider cannot start the checkout, the row is removed and nothing is charged.
func (s *Service) StartPurchase(ctx context.Context, orgID, userID string, credits int64) (*Purchase, error) {
	if credits < MinCredits || credits > MaxCredits {
		return nil, billing.Errorf(billing.EINVALID, "enter a whole number of credits from %s to %s", billing.Thousands(MinCredits), billing.Thousands(MaxCredits))
	}
	m, err := s.ids.FindMembership(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	if !m.IsAdmin() {
		return nil, billing.Errorf(billing.EFORBIDDEN, "only admins of %s can buy credits", m.OrgName)
	}
	now := s.core.Now()
	p := &Purchase{
		ID: billing.NewID("pur"), OrgID: orgID, UserID: userID,
		Credits: billing.Credits(credits), UnitPrice: s.cfg.UnitPrice, Price: s.Price(credits),
		Currency: s.cfg.Currency, Status: StatusPending, Provider: s.cfg.Provider.Name(), CreatedAt: now,
	}
	if _, err := s.db.NamedExecContext(ctx, q.InsertPurchase, p); err != nil {
		return nil, fmt.Errorf("payments: insert purchase: %w", err)
	}
	co, err := s.cfg.Provider.CreateCheckout(ctx, CheckoutRequest{
		PurchaseID: p.ID, OrgID: orgID,
		Description: billing.Thousands(credits) + " Lux credits",
		Amount:      p.Price, Currency: p.Currency,
		SuccessURL:     s.cfg.BaseURL + StatusPath(p.ID),
		CancelURL:      s.cfg.BaseURL + CancelPath(p.ID),
		IdempotencyKey: "checkout-" + p.ID,
	})
	if err != nil {
		if _, derr := s.db.ExecContext(context.WithoutCancel(ctx), q.DeleteFailedCreate, p.ID); derr != nil {
			s.cfg.Log.Error("remove a purchase whose checkout failed", "purchase", p.ID, "err", derr)
		}
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, q.SetCheckout, p.ID, co.SessionID, co.URL, now); err != nil {
		return nil, fmt.Errorf("payments: note checkout: %w", err)
	}
	p.SessionID, p.CheckoutURL = co.SessionID, co.URL
	return p, nil
}

// StatusPath is the page that shows a purchase's state (Stripe's success URL); web registers
// it as views.PathPurchase, and views tests that the two agree.
func StatusPath(purchaseID string) string { return "/settings/billing/credits/purchases/" + purchaseID }

// CancelPath is where a buyer lands after cancelling a checkout (Stripe's cancel URL).
func CancelPath(purchaseID string) string { return StatusPath(purchaseID) + "/cancel" }

// FindPurchase returns org's purchase id with its refund; another org's purchase is ENOTFOUND.
func (s *Service) FindPurchase(ctx context.Context, orgID, id string) (*Purchase, error) {
	var p Purchase
	if err := s.db.GetContext(ctx, &p, q.SelectPurchase, orgID, id); err != nil {
		return nil, notFound(err, "there is no such purchase in this organization", "select purchase")
	}
	var r Refund
	switch err := s.db.GetContext(ctx, &r, q.SelectRefundOf, id); {
	case err == nil:
		p.Refund = &r
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("payments: select refund: %w", err)
	}
	return &p, nil
}

// Cancel records that the buyer left the checkout of org's purchase id without paying: a
// pending purchase becomes cancelled and its checkout is closed at the provider. A payment that
// completes anyway is still fulfilled (money taken is never kept without credits).
func (s *Service) Cancel(ctx context.Context, orgID, id string) (*Purchase, error) {
	p, err := s.FindPurchase(ctx, orgID, id)
	if err != nil || p.Status != StatusPending {
		return p, err
	}
	if err := s.cfg.Provider.CancelCheckout(ctx, p.SessionID); err != nil {
		// The checkout may have been paid meanwhile; its webhook decides.
		s.cfg.Log.Warn("close a cancelled checkout", "purchase", p.ID, "err", err)
	}
	err = s.core.WithLedger(ctx, orgID, func(l *billing.LedgerTx) error {
		_, err := l.Tx().ExecContext(ctx, q.SetStatus, id, StatusCancelled, l.Now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("payments: cancel purchase: %w", err)
	}
	return s.FindPurchase(ctx, orgID, id)
}

// PurchaseLine is a purchase as the purchases list shows it: what is left of its credits and
// what a refund would give back now.
type PurchaseLine struct {
	Purchase
	Remaining billing.Millicredits // unused credits of the purchase's grant
	Quote     RefundQuote
}

// MaxPurchases is the most purchases Purchases returns.
const MaxPurchases = 50

// Purchases returns org's latest purchases (up to MaxPurchases), newest first, with their
// unused credits and refund quotes.
func (s *Service) Purchases(ctx context.Context, orgID string) ([]PurchaseLine, error) {
	type row struct {
		Purchase
		R struct {
			ID         *int64                `db:"id"`
			Credits    *billing.Millicredits `db:"credits_mc"`
			Amount     *billing.Cents        `db:"amount_cents"`
			ProviderID *string               `db:"provider_refund_id"`
			By         *string               `db:"requested_by"`
			At         *time.Time            `db:"created_at"`
			EntryID    *int64                `db:"entry_id"`
		} `db:"r"`
	}
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, q.SelectPurchases, orgID, MaxPurchases); err != nil {
		return nil, fmt.Errorf("payments: purchases: %w", err)
	}
	var grants []int64
	for _, r := range rows {
		if r.GrantID != nil {
			grants = append(grants, *r.GrantID)
		}
	}
	left, err := s.core.GrantRemainders(ctx, orgID, grants)
	if err != nil {
		return nil, err
	}
	now := s.core.Now()
	out := make([]PurchaseLine, 0, len(rows))
	for _, r := range rows {
		line := PurchaseLine{Purchase: r.Purchase}
		if r.R.ID != nil {
			line.Refund = &Refund{ID: *r.R.ID, PurchaseID: r.ID, OrgID: r.OrgID, Credits: *r.R.Credits,
				Amount: *r.R.Amount, Currency: r.Currency, ProviderID: *r.R.ProviderID, By: *r.R.By, At: *r.R.At, EntryID: *r.R.EntryID}
		}
		if r.GrantID != nil {
			line.Remaining = left[*r.GrantID]
		}
		line.Quote = quote(&line.Purchase, line.Remaining, now)
		out = append(out, line)
	}
	return out, nil
}
