package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Reasons a flow is paused, as the API reports them.
const (
	ReasonCreditsExhausted    = "credits_exhausted"     // available credits are ≤ 0
	ReasonMonthlyLimitReached = "monthly_limit_reached" // the org's monthly limit is used up
	ReasonMemberLimitReached  = "member_limit_reached"  // the member's monthly limit is used up
)

// PauseMessage explains a pause reason to a person, with the action that resumes flows.
func PauseMessage(reason string) string {
	switch reason {
	case ReasonCreditsExhausted:
		return "Credits ran out, so flows are paused. Add credits or upgrade the plan to resume at once."
	case ReasonMonthlyLimitReached:
		return "The organization's monthly credit limit is reached, so flows are paused. An admin can raise the limit to resume at once."
	case ReasonMemberLimitReached:
		return "This member's monthly credit limit is reached, so their flows are paused. An admin can raise the member's limit to resume at once."
	}
	return ""
}

// orgPauseReason decides whether the whole organization is paused: credits first, then the
// org's monthly limit.
func orgPauseReason(a *Account) string {
	switch {
	case a.Balance <= 0:
		return ReasonCreditsExhausted
	case a.MonthlyLimit != nil && a.CycleUsed >= *a.MonthlyLimit:
		return ReasonMonthlyLimitReached
	}
	return ""
}

// Estimate is the expected cost of a step, for Authorize and the cost calculator.
type Estimate struct {
	Type     string
	Model    string
	Quantity int64
}

// AuthorizeRequest asks whether a flow may do more work now.
type AuthorizeRequest struct {
	FlowID      string
	ExecutionID string
	UserID      string    // empty: the API key's user
	Estimate    *Estimate // optional: the step about to run
}

// Authorization is the answer: allowed, or refused with a reason (Reason*).
type Authorization struct {
	Allowed         bool
	Reason          string
	Message         string
	Balance         Millicredits
	EstimateCredits *Millicredits
	MonthlyLimit    *Millicredits
	CycleUsed       Millicredits
	MemberLimit     *Millicredits
	MemberUsed      Millicredits
}

// Authorize tells the flow engine whether a flow may go on. It refuses when available credits
// are ≤ 0, the org's monthly limit is reached, or the member's monthly limit is reached; with an
// estimate, also when that step would take the balance below zero or go over either limit.
// Refusal is not an error: the Authorization says why. Adding credits or raising a limit takes
// effect on the next call.
func (s *Service) Authorize(ctx context.Context, orgID, keyUser string, req AuthorizeRequest) (*Authorization, error) {
	if req.FlowID == "" || req.ExecutionID == "" {
		return nil, Errorf(EINVALID, "\"flowId\" and \"executionId\" are required")
	}
	user := req.UserID
	if user == "" {
		user = keyUser
	}
	now := s.now()
	var est Millicredits
	out := &Authorization{}
	if req.Estimate != nil {
		c, err := s.EstimateCost(*req.Estimate, now)
		if err != nil {
			return nil, err
		}
		est = c
		out.EstimateCredits = &c
	}
	acct, m, err := s.authorizeState(ctx, orgID, user, now)
	if err != nil {
		return nil, err
	}
	out.Balance, out.MonthlyLimit, out.CycleUsed = acct.Balance, acct.MonthlyLimit, acct.CycleUsed
	out.MemberLimit, out.MemberUsed = m.Limit, m.Used
	switch {
	case acct.Balance <= 0 || (est > 0 && acct.Balance-est < 0):
		out.Reason = ReasonCreditsExhausted
	case acct.MonthlyLimit != nil && (acct.CycleUsed >= *acct.MonthlyLimit || acct.CycleUsed+est > *acct.MonthlyLimit):
		out.Reason = ReasonMonthlyLimitReached
	case m.Limit != nil && (m.Used >= *m.Limit || m.Used+est > *m.Limit):
		out.Reason = ReasonMemberLimitReached
	}
	out.Allowed = out.Reason == ""
	out.Message = PauseMessage(out.Reason)
	return out, nil
}

// authorizeState is the org's account and the member's limit and usage in its current cycle:
// one read, shared with the other authorize requests queued meanwhile (readAuthorize), unless
// the cycle has ended (then the account is rolled over first).
func (s *Service) authorizeState(ctx context.Context, orgID, user string, now time.Time) (*Account, *memberUsage, error) {
	job := &authorizeJob{org: orgID, user: user, done: make(chan outcome[*authorizeRow], 1)}
	r := s.authorize.do(job, func(jobs []*authorizeJob) { s.readAuthorize(ctx, jobs) })
	if r.err != nil {
		return nil, nil, r.err
	}
	row := r.res
	acct, m := &row.Account, &memberUsage{OrgID: orgID, UserID: user, Limit: row.MemberLimit, Used: row.MemberUsed}
	if !acct.CycleEnd.After(now) {
		var err error
		if acct, err = s.currentAccount(ctx, orgID, now); err != nil {
			return nil, nil, err
		}
		var members []memberUsage
		if err := s.Select(ctx, nil, &members, queries.SelectMemberLimits, orgID, pq.Array([]string{user}), acct.CycleStart); err != nil {
			return nil, nil, fmt.Errorf("billing: member limits: %w", err)
		}
		row.IsMember = len(members) > 0
		if row.IsMember {
			m = &members[0]
		}
	}
	if !row.IsMember {
		return nil, nil, Errorf(EINVALID, "userId %q is not a member of this organization", user)
	}
	return acct, m, nil
}

// authorizeRow is an org's account with one user's membership, limit and cycle usage.
type authorizeRow struct {
	Account
	IsMember    bool          `db:"is_member"`
	MemberLimit *Millicredits `db:"member_limit_mc"`
	MemberUsed  Millicredits  `db:"member_used_mc"`
}

// authorizeJob is one Authorize call waiting for its read.
type authorizeJob struct {
	org, user string
	done      chan outcome[*authorizeRow]
}

func (j *authorizeJob) laneKey() string                      { return j.org }
func (j *authorizeJob) weight() int                          { return 1 }
func (j *authorizeJob) results() chan outcome[*authorizeRow] { return j.done }

// readAuthorize reads the state of every queued authorize request in one statement (a lone
// request: select-authorize, one key look-up) and answers each.
func (s *Service) readAuthorize(ctx context.Context, jobs []*authorizeJob) {
	// The read serves every queued request: one client going away must not cancel it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if len(jobs) == 1 {
		var row authorizeRow
		err := s.Get(ctx, nil, &row, queries.SelectAuthorize, jobs[0].org, jobs[0].user)
		if err != nil {
			jobs[0].done <- outcome[*authorizeRow]{err: NotFound(err, "organization not found", "select account")}
			return
		}
		jobs[0].done <- outcome[*authorizeRow]{res: &row}
		return
	}
	orgs, users := make([]string, len(jobs)), make([]string, len(jobs))
	for i, j := range jobs {
		orgs[i], users[i] = j.org, j.user
	}
	var rows []struct {
		N int `db:"n"`
		authorizeRow
	}
	err := s.Select(ctx, nil, &rows, queries.SelectAuthorizeMany, pq.Array(orgs), pq.Array(users))
	if err != nil {
		for _, j := range jobs {
			j.done <- outcome[*authorizeRow]{err: fmt.Errorf("billing: select account: %w", err)}
		}
		return
	}
	answered := make([]bool, len(jobs))
	for i := range rows {
		n := rows[i].N - 1
		if n < 0 || n >= len(jobs) || answered[n] {
			continue
		}
		answered[n] = true
		jobs[n].done <- outcome[*authorizeRow]{res: &rows[i].authorizeRow}
	}
	for n, j := range jobs {
		if !answered[n] {
			j.done <- outcome[*authorizeRow]{err: Errorf(ENOTFOUND, "organization not found")}
		}
	}
}

// EstimateCost prices an estimate with the rate card in force at at.
func (s *Service) EstimateCost(e Estimate, at time.Time) (Millicredits, error) {
	if e.Quantity <= 0 || e.Quantity > MaxQuantity {
		return 0, Errorf(EINVALID, "estimate: \"quantity\" must be a positive whole number up to %d", int64(MaxQuantity))
	}
	r, err := s.rates.Find(e.Type, e.Model, at)
	if err != nil {
		return 0, Errorf(EINVALID, "estimate: %s", ErrorMessage(err))
	}
	return r.Cost(e.Quantity), nil
}

// CurrentAccount returns an organization's ledger head at now (balance, arrears, cycle, limit,
// zone), rolling its cycle over first if it ended; ENOTFOUND for an unknown organization.
func (s *Service) CurrentAccount(ctx context.Context, orgID string, now time.Time) (*Account, error) {
	return s.currentAccount(ctx, orgID, now)
}

// currentAccount reads the org's account, rolling its cycle over first if it has ended (the
// only case where a read takes the lock).
func (s *Service) currentAccount(ctx context.Context, orgID string, now time.Time) (*Account, error) {
	var a Account
	if err := s.Get(ctx, nil, &a, queries.SelectAccount, orgID); err != nil {
		return nil, NotFound(err, "organization not found", "select account")
	}
	if a.CycleEnd.After(now) {
		return &a, nil
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		lt, err := s.lockLedger(ctx, tx, orgID, now)
		if err != nil {
			return err
		}
		if err := lt.flush(ctx); err != nil {
			return err
		}
		a = lt.acct
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &a, nil
}
