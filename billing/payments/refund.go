package payments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// RefundQuote is what refunding a purchase would give back now, or why it cannot be refunded.
type RefundQuote struct {
	Credits  billing.Millicredits // the unused credits that would be removed
	Amount   billing.Cents        // their price, pro rata
	Eligible bool
	Reason   string // why not, for people, when not Eligible
	Deadline time.Time
}

// quote decides whether paid purchase p, with remaining credits unused, can be refunded at now.
func quote(p *Purchase, remaining billing.Millicredits, now time.Time) RefundQuote {
	q := RefundQuote{Credits: remaining, Amount: ProRata(p.Price, remaining, p.Credits)}
	if p.PaidAt != nil {
		q.Deadline = p.PaidAt.Add(RefundWindow)
	}
	switch {
	case p.Status != StatusPaid:
		q.Reason = "only a paid purchase can be refunded; this one is " + p.Status
	case p.Refund != nil:
		q.Reason = fmt.Sprintf("this purchase was refunded already (%s credits on %s)", p.Refund.Credits, p.Refund.At.UTC().Format("Jan 2, 2006"))
	case now.After(q.Deadline):
		q.Reason = fmt.Sprintf("purchases can be refunded within 30 days of payment; this one was paid on %s", p.PaidAt.UTC().Format("Jan 2, 2006"))
	case remaining <= 0:
		q.Reason = "every credit of this purchase has been used, so there is nothing left to refund"
	default:
		q.Eligible = true
	}
	return q
}

// QuoteRefund returns what refunding org's purchase id would give back now (a figure to show
// before confirming; Refund decides again under the ledger lock).
func (s *Service) QuoteRefund(ctx context.Context, orgID, id string) (*Purchase, RefundQuote, error) {
	p, err := s.FindPurchase(ctx, orgID, id)
	if err != nil {
		return nil, RefundQuote{}, err
	}
	var remaining billing.Millicredits
	if p.GrantID != nil {
		left, err := s.core.GrantRemainders(ctx, orgID, []int64{*p.GrantID})
		if err != nil {
			return nil, RefundQuote{}, err
		}
		remaining = left[*p.GrantID]
	}
	return p, quote(p, remaining, s.core.Now()), nil
}

// Refund refunds the unused credits of org's purchase id, within RefundWindow of its payment:
// under the org's ledger lock (so usage cannot spend them meanwhile) it removes what is left of
// the purchase's own grant with a refund ledger entry, records the refund, issues the credit
// note, returns the money pro rata through the provider (idempotency key per purchase) and
// commits — all or nothing. by is the user id of the admin who asked, or "support". A purchase
// that is not paid, refunded already, older than 30 days or fully used is ECONFLICT with the
// reason; another org's purchase is ENOTFOUND.
func (s *Service) Refund(ctx context.Context, orgID, id, by string) (*Refund, error) {
	var out *Refund
	err := s.core.WithLedger(ctx, orgID, func(l *billing.LedgerTx) error {
		tx, now := l.Tx(), l.Now()
		var p Purchase
		if err := tx.GetContext(ctx, &p, q.LockPurchase, id); err != nil || p.OrgID != orgID {
			if err == nil || errors.Is(err, sql.ErrNoRows) {
				return billing.Errorf(billing.ENOTFOUND, "there is no such purchase in this organization")
			}
			return fmt.Errorf("payments: lock purchase: %w", err)
		}
		var prior Refund
		switch err := tx.GetContext(ctx, &prior, q.SelectRefundOf, id); {
		case err == nil:
			p.Refund = &prior
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("payments: select refund: %w", err)
		}
		var remaining billing.Millicredits
		if p.GrantID != nil {
			var err error
			if remaining, err = l.GrantRemaining(ctx, *p.GrantID); err != nil {
				return err
			}
		}
		qt := quote(&p, remaining, now)
		if !qt.Eligible {
			return billing.Errorf(billing.ECONFLICT, "%s", qt.Reason)
		}
		memo := fmt.Sprintf("Refund of %s unused purchased credits", qt.Credits)
		entry, err := l.RemoveFromGrant(ctx, *p.GrantID, qt.Credits, memo)
		if err != nil {
			return err
		}
		r := &Refund{PurchaseID: p.ID, OrgID: orgID, Credits: qt.Credits, Amount: qt.Amount,
			Currency: p.Currency, EntryID: entry, By: by, At: now}
		if err := namedGet(ctx, l, &r.ID, q.InsertRefund, r); err != nil {
			return err
		}
		if s.cfg.Issuer != nil {
			err := s.cfg.Issuer.IssueCreditNote(ctx, tx, IssuedRefund{RefundID: r.ID, PurchaseID: p.ID,
				OrgID: orgID, Credits: r.Credits, Amount: r.Amount, Currency: r.Currency, At: now, EntryID: entry,
				Provider: p.Provider, Purchase: p.paid()})
			if err != nil {
				return fmt.Errorf("payments: credit note for purchase %s: %w", p.ID, err)
			}
		}
		// The money moves last, after every row is written: a refused refund rolls them back.
		if r.ProviderID, err = s.cfg.Provider.Refund(ctx, RefundRequest{
			PurchaseID: p.ID, SessionID: p.SessionID, PaymentID: p.PaymentID,
			Amount: r.Amount, Currency: r.Currency, IdempotencyKey: "refund-" + p.ID,
		}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q.SetRefundProvider, r.ID, r.ProviderID); err != nil {
			return fmt.Errorf("payments: note provider refund: %w", err)
		}
		credits, amount := r.Credits, r.Amount
		l.Emit(billing.Notice{Kind: billing.NoticeRefundIssued, Key: "refund/" + p.ID,
			Data: billing.NoticeData{Credits: &credits, Amount: &amount, Currency: r.Currency, PurchaseID: p.ID}})
		out = r
		return nil
	})
	return out, err
}

// namedGet runs a named statement returning one value in the ledger's transaction.
func namedGet(ctx context.Context, l *billing.LedgerTx, dest any, query string, arg any) error {
	rows, err := sqlx.NamedQueryContext(ctx, l.Tx(), query, arg)
	if err != nil {
		return fmt.Errorf("payments: insert refund: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return fmt.Errorf("payments: insert refund: no id returned")
	}
	return rows.Scan(dest)
}

// RefundForSupport is Refund for support staff (`lux refund --purchase ID`), who know the
// purchase but not its org. An unknown purchase is ENOTFOUND.
func (s *Service) RefundForSupport(ctx context.Context, purchaseID string) (*Refund, error) {
	var orgID string
	if err := s.db.GetContext(ctx, &orgID, q.SelectPurchaseOrg, purchaseID); err != nil {
		return nil, notFound(err, fmt.Sprintf("there is no purchase %q", purchaseID), "find purchase")
	}
	return s.Refund(ctx, orgID, purchaseID, "support")
}
