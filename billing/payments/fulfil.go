package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/luxstudio/lux-billing/billing"
)

// Confirmation is what a provider says about a purchase's payment: a Stripe webhook event, or
// the demo page's Pay button.
type Confirmation struct {
	EventID    string // the provider's event id: an event is acted on once
	EventType  string
	Provider   string
	PurchaseID string // our purchase id (client_reference_id), never the provider's ids
	SessionID  string // the provider's checkout session, if known
	PaymentID  string // the provider's payment (Stripe: pi_…), needed to refund
	Outcome    Outcome
}

// Outcome is what a confirmation says happened to the payment.
type Outcome int

// Outcomes.
const (
	Paid      Outcome = iota + 1 // the money is ours: grant the credits
	InProcess                    // checkout completed, an asynchronous payment is on its way
	Failed                       // the payment failed
	Expired                      // the checkout expired unpaid
)

// Fulfil acts on a payment confirmation: for Paid, it grants the purchase's credits — the
// amount of the purchase row, never a figure from the confirmation — exactly once however
// often, concurrently or out of order confirmations arrive:
//
//   - everything happens in one transaction under the org's ledger lock (billing.WithLedger),
//     so confirmations of one org are serialised;
//   - the event id is recorded in that transaction (payment_events primary key); a replay
//     finds it and changes nothing;
//   - the purchase row is locked and granted only when not yet paid; the grant and the
//     purchase's "paid" status commit together;
//   - the grant carries the purchase id as its once-only reference (grants_purchase_once) and
//     purchases.grant_id is unique: a second grant is impossible even if the code above erred.
//
// The grant settles arrears first, so a paused org resumes at once. It returns whether this
// call granted. An unknown purchase is EINVALID (nothing is recorded).
func (s *Service) Fulfil(ctx context.Context, c Confirmation) (granted bool, err error) {
	var orgID string
	if err := s.db.GetContext(ctx, &orgID, q.SelectPurchaseOrg, c.PurchaseID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, billing.Errorf(billing.EINVALID, "no purchase %q: the payment is not one of ours", c.PurchaseID)
		}
		return false, fmt.Errorf("payments: find purchase: %w", err)
	}
	err = s.core.WithLedger(ctx, orgID, func(l *billing.LedgerTx) error {
		tx, now := l.Tx(), l.Now()
		if c.EventID != "" {
			var id string
			err := tx.GetContext(ctx, &id, q.InsertEvent, c.EventID, c.Provider, c.EventType, c.PurchaseID, now)
			if errors.Is(err, sql.ErrNoRows) {
				return nil // processed before
			}
			if err != nil {
				return fmt.Errorf("payments: record event: %w", err)
			}
		}
		var p Purchase
		if err := tx.GetContext(ctx, &p, q.LockPurchase, c.PurchaseID); err != nil {
			return fmt.Errorf("payments: lock purchase: %w", err)
		}
		if p.Provider != c.Provider {
			return billing.Errorf(billing.EINVALID, "purchase %s is not paid through %s", p.ID, c.Provider)
		}
		switch {
		case p.Status == StatusPaid:
			return nil // granted before
		case c.Outcome == Paid:
			// Whatever the status (pending, cancelled, expired or failed), money received is
			// granted.
			granted, err = s.grant(ctx, l, &p, c)
			return err
		case c.Outcome == Failed && p.Status == StatusPending:
			return exec(ctx, l, q.SetStatus, p.ID, StatusFailed, now)
		case c.Outcome == Expired && p.Status == StatusPending:
			return exec(ctx, l, q.SetStatus, p.ID, StatusCancelled, now)
		}
		return exec(ctx, l, q.NotePayment, p.ID, c.SessionID, c.PaymentID)
	})
	return granted, err
}

// grant grants paid purchase p and marks it paid, in l's transaction.
func (s *Service) grant(ctx context.Context, l *billing.LedgerTx, p *Purchase, c Confirmation) (bool, error) {
	memo := fmt.Sprintf("Purchased %s credits", p.Credits)
	id, err := l.Grant(ctx, billing.GrantPurchase, p.Credits, nil, p.ID, memo)
	if err != nil {
		return false, err
	}
	if id == 0 {
		// A grant for this purchase exists although the purchase is not paid: never grant twice.
		return false, fmt.Errorf("payments: purchase %s has a grant but is %s", p.ID, p.Status)
	}
	now := l.Now()
	if err := exec(ctx, l, q.MarkPaid, p.ID, id, now, c.SessionID, c.PaymentID); err != nil {
		return false, err
	}
	credits, price, bal := p.Credits, p.Price, l.Balance()
	l.Emit(billing.Notice{Kind: billing.NoticePurchaseSucceeded, Key: "purchase/" + p.ID,
		Data: billing.NoticeData{Credits: &credits, Amount: &price, Currency: p.Currency, PurchaseID: p.ID, Balance: &bal}})
	if s.cfg.Issuer != nil {
		payment := p.PaymentID
		if c.PaymentID != "" {
			payment = c.PaymentID
		}
		p.PaidAt, p.GrantID, p.PaymentID = &now, &id, payment
		err := s.cfg.Issuer.IssuePurchaseInvoice(ctx, l.Tx(), p.paid())
		if err != nil {
			return false, fmt.Errorf("payments: invoice purchase %s: %w", p.ID, err)
		}
	}
	return true, nil
}

// exec runs one statement of payments in the ledger's transaction.
func exec(ctx context.Context, l *billing.LedgerTx, query string, args ...any) error {
	if _, err := l.Tx().ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("payments: update purchase: %w", err)
	}
	return nil
}

// paid is what an invoice states of paid purchase p.
func (p *Purchase) paid() PaidPurchase {
	pp := PaidPurchase{PurchaseID: p.ID, OrgID: p.OrgID, UserID: p.UserID, Credits: p.Credits,
		UnitPrice: p.UnitPrice, Amount: p.Price, Currency: p.Currency, Provider: p.Provider,
		PaymentID: p.PaymentID}
	if p.PaidAt != nil {
		pp.PaidAt = *p.PaidAt
	}
	if p.GrantID != nil {
		pp.GrantID = *p.GrantID
	}
	return pp
}
