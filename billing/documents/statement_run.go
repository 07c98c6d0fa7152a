package documents

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/luxstudio/lux-billing/billing"
)

// StatusDraft marks the preview of the running cycle's statement; drafts are never stored.
const StatusDraft = "draft"

// WithStatementHook calls fn inside the transaction that issues each statement, after it is
// stored (e.g. to queue a statement_ready notification); an error rolls the issue back.
func WithStatementHook(fn func(ctx context.Context, tx *sqlx.Tx, d *Document) error) Option {
	return func(s *Service) { s.onStatement = fn }
}

// IssueStatement issues org's statement for the closed cycle [start, end), or returns the one
// already issued (created false). Runs for one org are serialised across servers, so two
// servers, or a late run after downtime, issue it once.
func (s *Service) IssueStatement(ctx context.Context, orgID string, start, end time.Time) (d *Document, created bool, err error) {
	start, end = start.UTC(), end.UTC()
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, q.lockStatementOrg, orgID); err != nil {
			return fmt.Errorf("documents: lock statements of %s: %w", orgID, err)
		}
		ref := cycleRef(start)
		if d, err = s.bySource(ctx, tx, orgID, SourceCycle, ref); err != nil || d != nil {
			return err
		}
		var acct struct {
			CycleStart time.Time `db:"cycle_start"`
			CycleEnd   time.Time `db:"cycle_end"`
		}
		if err := tx.GetContext(ctx, &acct, q.selectAccount, orgID); err != nil {
			return fmt.Errorf("documents: account of %s: %w", orgID, err)
		}
		if acct.CycleStart.Before(end) {
			return billing.Errorf(billing.ECONFLICT, "the cycle ending %s has not closed yet", end.Format(time.RFC3339))
		}
		st, err := s.ComputeStatement(ctx, tx, orgID, start, end)
		if err != nil {
			return err
		}
		d = &Document{
			OrgID: orgID, Kind: KindStatement, Source: SourceCycle, SourceRef: ref,
			Status: StatusIssued, Currency: CurrencyCredits, Credits: st.Used,
			PeriodStart: &start, PeriodEnd: &end, Body: Body{Statement: st},
		}
		org, err := s.org(ctx, tx, orgID)
		if err != nil {
			return err
		}
		d.Title = "Statement " + periodLabel(start, end, location(org.Timezone))
		if d, err = s.issue(ctx, tx, d); err != nil {
			return err
		}
		created = true
		used := st.Used
		err = billing.EmitNotices(ctx, tx, d.IssuedAt, billing.Notice{OrgID: orgID, Kind: billing.NoticeStatementReady,
			Key: "statement/" + ref, Data: billing.NoticeData{DocumentID: strconv.FormatInt(d.ID, 10), DocumentNo: d.Number,
				PeriodLabel: d.Title, Used: &used, CycleStart: &start, CycleEnd: &end}})
		if err != nil {
			return err
		}
		if s.onStatement != nil {
			return s.onStatement(ctx, tx, d)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return d, created, nil
}

func cycleRef(start time.Time) string { return start.UTC().Format(time.RFC3339) }

// IssueDueStatements issues the statements of closed cycles that have none, for up to limit
// orgs, oldest cycle first. Cycles close when the core rolls an account over (the rollover
// sweep of `lux serve` does it for idle orgs); after downtime every missed cycle is issued.
// It returns the statements issued.
func (s *Service) IssueDueStatements(ctx context.Context, limit int) ([]*Document, error) {
	var due []struct {
		OrgID      string    `db:"org_id"`
		Anchor     time.Time `db:"cycle_anchor"`
		CycleStart time.Time `db:"cycle_start"`
		CoveredTo  time.Time `db:"covered_to"`
	}
	if err := s.db.SelectContext(ctx, &due, q.selectDueOrgs, limit); err != nil {
		return nil, fmt.Errorf("documents: orgs due a statement: %w", err)
	}
	var out []*Document
	for _, o := range due {
		for start := o.CoveredTo; start.Before(o.CycleStart); {
			_, end := billing.CycleAt(o.Anchor, start)
			d, created, err := s.IssueStatement(ctx, o.OrgID, start, end)
			if err != nil {
				return out, err
			}
			if created {
				out = append(out, d)
			}
			start = end
		}
	}
	return out, nil
}

// DraftStatement is the running cycle's statement so far, as an unnumbered draft that is never
// stored: figures up to now, marked DRAFT wherever it is shown.
func (s *Service) DraftStatement(ctx context.Context, orgID string) (*Document, error) {
	org, err := s.org(ctx, s.db, orgID)
	if err != nil {
		return nil, err
	}
	var acct struct {
		CycleStart time.Time `db:"cycle_start"`
		CycleEnd   time.Time `db:"cycle_end"`
	}
	if err := s.db.GetContext(ctx, &acct, q.selectAccount, orgID); err != nil {
		return nil, fmt.Errorf("documents: account of %s: %w", orgID, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	start, end := acct.CycleStart.UTC(), acct.CycleEnd.UTC()
	upTo := now
	if upTo.After(end) {
		upTo = end
	}
	st, err := s.ComputeStatement(ctx, s.db, orgID, start, upTo)
	if err != nil {
		return nil, err
	}
	st.AsOf = now
	p, err := s.profile(ctx, s.db, org)
	if err != nil {
		return nil, err
	}
	return &Document{
		OrgID: orgID, Kind: KindStatement, Source: SourceCycle, Number: "DRAFT",
		Title:  "Draft statement " + periodLabel(start, end, location(org.Timezone)),
		Status: StatusDraft, Currency: CurrencyCredits, Credits: st.Used, IssuedAt: now,
		PeriodStart: &start, PeriodEnd: &end,
		Body: Body{Seller: s.cfg.Seller, BillTo: p.Party(), Timezone: org.Timezone, Statement: st},
	}, nil
}

func location(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// periodLabel is a cycle for people: "14 Oct – 14 Nov 2026" (the end is the next cycle's
// first day, as cycles run from one anchor day to the next).
func periodLabel(start, end time.Time, loc *time.Location) string {
	a, b := start.In(loc), end.In(loc)
	if a.Year() == b.Year() {
		return a.Format("2 Jan") + " – " + b.Format("2 Jan 2006")
	}
	return a.Format("2 Jan 2006") + " – " + b.Format("2 Jan 2006")
}
