package billing

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Notifications are decided here, in the transaction that changes what they are about, and
// written to the outbox (notifications and their deliveries, notice.sql) before it commits:
// a notice exists exactly when its cause committed. billing/notify delivers them.

// Kinds of notification (SPEC §7), plus a failed plan renewal.
const (
	NoticeThresholdReached  = "threshold_reached"  // the org's usage reached N % of its monthly limit, or a member's limit
	NoticeLowBalance        = "low_balance"        // the balance fell to the low-balance alert
	NoticeCreditsExhausted  = "credits_exhausted"  // credits ran out: flows paused
	NoticeResumed           = "resumed"            // a pause ended (credits, a raised limit, a new cycle)
	NoticePurchaseSucceeded = "purchase_succeeded" // purchased credits were granted
	NoticeRefundIssued      = "refund_issued"      // unused purchased credits were refunded
	NoticeStatementReady    = "statement_ready"    // a cycle's statement was issued
	NoticeRenewalFailed     = "renewal_failed"     // the paid plan's renewal failed: Free from the next cycle
)

// Scopes of a limit notice.
const (
	ScopeOrg    = "org"
	ScopeMember = "member"
)

// Notice is one notification, as the core writes it to the outbox. Its mail goes to the org's
// admins, and to UserID when set; in-app the admins see it, UserID sees it, and with Everyone
// every member of the org does (flows paused or resumed concern everyone).
type Notice struct {
	OrgID    string
	Kind     string // Notice*
	UserID   string // the member concerned (a member limit), else ""
	Everyone bool
	// Key makes the notice once-only within the org (a threshold per cycle and limit); ""
	// means every occurrence is a notice.
	Key  string
	Data NoticeData
}

// NoticeData are the figures a notice shows; each kind fills the fields it needs. Amounts of
// credits are millicredits (written to JSON as credits with up to 3 decimals).
type NoticeData struct {
	Scope       string        `json:"scope,omitempty"`   // ScopeOrg or ScopeMember
	Percent     int64         `json:"percent,omitempty"` // the threshold reached, in % of Limit
	Limit       *Millicredits `json:"limit,omitempty"`   // the monthly limit concerned
	Used        *Millicredits `json:"used,omitempty"`    // usage this cycle (the org's or the member's)
	Balance     *Millicredits `json:"balance,omitempty"` // the org's available balance
	LowBalance  *Millicredits `json:"lowBalance,omitempty"`
	Credits     *Millicredits `json:"credits,omitempty"` // bought or refunded
	Amount      *Cents        `json:"amountCents,omitempty"`
	Currency    string        `json:"currency,omitempty"`
	Reason      string        `json:"reason,omitempty"` // the pause reason (credits_exhausted, resumed)
	Paused      bool          `json:"paused,omitempty"` // the notice paused flows
	PurchaseID  string        `json:"purchaseId,omitempty"`
	DocumentID  string        `json:"documentId,omitempty"`
	DocumentNo  string        `json:"documentNumber,omitempty"`
	Plan        string        `json:"plan,omitempty"`
	CycleStart  *time.Time    `json:"cycleStart,omitempty"`
	CycleEnd    *time.Time    `json:"cycleEnd,omitempty"`
	PeriodLabel string        `json:"period,omitempty"`
	MemberEmail string        `json:"memberEmail,omitempty"`
	Thresholds  []int64       `json:"thresholds,omitempty"`
	EffectiveAt *time.Time    `json:"effectiveAt,omitempty"`
}

//go:embed notice.sql
var noticeSQL string

var noticeQ = func() struct{ insertNotices, selectNoticeState, selectPausedMembers string } {
	f := ParseQueries("billing/notice.sql", noticeSQL)
	return struct{ insertNotices, selectNoticeState, selectPausedMembers string }{
		f.Get("insert-notices"), f.Get("select-notice-state"), f.Get("select-paused-members"),
	}
}()

// Emit queues a notice of the locked org; it is written to the outbox with the transaction's
// other changes and delivered after the commit (never when the transaction rolls back).
func (l *LedgerTx) Emit(n Notice) {
	n.OrgID = l.lt.acct.OrgID
	l.lt.notices = append(l.lt.notices, n)
}

// EmitNotices writes notices to the outbox in tx, dated at, for a capability's transaction
// that does not hold the ledger (a statement issued). Each notice's OrgID must be set.
func EmitNotices(ctx context.Context, tx *sqlx.Tx, at time.Time, notices ...Notice) error {
	return writeNotices(ctx, tx, at, notices)
}

// noticeRow is a notice as insert-notices reads it: a row of notifications.
type noticeRow struct {
	OrgID    string          `json:"org_id"`
	Kind     string          `json:"kind"`
	UserID   *string         `json:"user_id"`
	Audience string          `json:"audience"`
	Key      *string         `json:"dedupe_key"`
	Data     json.RawMessage `json:"data"`
}

// writeNotices writes notices and one delivery per recipient and channel in one statement; a
// notice whose key the org already has is skipped with its deliveries.
func writeNotices(ctx context.Context, tx *sqlx.Tx, now time.Time, notices []Notice) error {
	if len(notices) == 0 {
		return nil
	}
	rows := make([]noticeRow, len(notices))
	for i, n := range notices {
		data, err := json.Marshal(n.Data)
		if err != nil {
			return fmt.Errorf("billing: encode notice: %w", err)
		}
		r := noticeRow{OrgID: n.OrgID, Kind: n.Kind, Audience: "admins", Data: data}
		if n.Everyone {
			r.Audience = "org"
		}
		if n.UserID != "" {
			r.UserID = &n.UserID
		}
		if n.Key != "" {
			r.Key = &n.Key
		}
		rows[i] = r
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("billing: encode notices: %w", err)
	}
	if _, err := tx.ExecContext(ctx, noticeQ.insertNotices, now, string(b)); err != nil {
		return fmt.Errorf("billing: write notices: %w", err)
	}
	return nil
}

// orgState is what decides an org's notices at one moment: its counters and its settings.
type orgState struct {
	CycleStart time.Time
	CycleEnd   time.Time
	Balance    Millicredits
	Used       Millicredits
	Limit      *Millicredits
	Thresholds []int64
	LowBalance *Millicredits
}

// orgStateOf reads the state from an account row (as locked, or as changed in memory).
func orgStateOf(a *Account) orgState {
	return orgState{CycleStart: a.CycleStart, CycleEnd: a.CycleEnd, Balance: a.Balance, Used: a.CycleUsed,
		Limit: a.MonthlyLimit, Thresholds: a.Thresholds, LowBalance: a.LowBalance}
}

func (s orgState) pauseReason() string {
	return orgPauseReason(&Account{Balance: s.Balance, CycleUsed: s.Used, MonthlyLimit: s.Limit})
}

// reached reports whether usage is at pct % of the limit or more.
func (s orgState) reached(pct int64) bool {
	return s.Limit != nil && int64(s.Used)*100 >= pct*int64(*s.Limit)
}

// levels are the thresholds that notify, ascending: the org's, and 100 % always (reaching the
// limit pauses flows, which always notifies).
func (s orgState) levels() []int64 {
	out := make([]int64, 0, len(s.Thresholds)+1)
	for _, p := range s.Thresholds {
		if p > 0 && p <= 100 {
			out = append(out, p)
		}
	}
	if !slices.Contains(out, 100) {
		out = append(out, 100)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// orgNotices decides what an org's move from before to after tells people:
//
//   - threshold_reached for each threshold reached in after and not in before (within the same
//     cycle). One notice per threshold: a batch that jumps from 40 % to 110 % gives 50, 80 and
//     100. Its key (cycle, limit, percent) makes it once-only, even across servers; a new limit
//     arms the thresholds again, a new cycle too.
//   - low_balance when the balance falls to the alert or below (and not to zero: that is
//     credits_exhausted); it is armed again once the balance is back above the alert.
//   - credits_exhausted when the balance falls to zero or below: flows pause.
//   - resumed when the org was paused and no longer is.
func orgNotices(org string, before, after orgState) []Notice {
	var out []Notice
	sameCycle := before.CycleStart.Equal(after.CycleStart)
	used, bal := after.Used, after.Balance
	if after.Limit != nil {
		for _, p := range after.levels() {
			if !after.reached(p) || (sameCycle && before.reached(p)) {
				continue
			}
			limit := *after.Limit
			start, end := after.CycleStart, after.CycleEnd
			out = append(out, Notice{OrgID: org, Kind: NoticeThresholdReached, Everyone: p >= 100,
				Key: fmt.Sprintf("threshold/%s/%d/%d", cycleRef(after.CycleStart), int64(limit), p),
				Data: NoticeData{Scope: ScopeOrg, Percent: p, Limit: &limit, Used: &used, Balance: &bal,
					Paused: p >= 100, CycleStart: &start, CycleEnd: &end}})
		}
	}
	if after.LowBalance != nil && bal > 0 && bal <= *after.LowBalance &&
		!(before.LowBalance != nil && before.Balance <= *before.LowBalance) {
		low := *after.LowBalance
		out = append(out, Notice{OrgID: org, Kind: NoticeLowBalance,
			Data: NoticeData{Balance: &bal, LowBalance: &low}})
	}
	if before.Balance > 0 && bal <= 0 {
		out = append(out, Notice{OrgID: org, Kind: NoticeCreditsExhausted, Everyone: true,
			Data: NoticeData{Balance: &bal, Reason: ReasonCreditsExhausted, Paused: true}})
	}
	if r := before.pauseReason(); r != "" && after.pauseReason() == "" {
		out = append(out, Notice{OrgID: org, Kind: NoticeResumed, Everyone: true,
			Data: NoticeData{Scope: ScopeOrg, Reason: r, Balance: &bal, Used: &used, Limit: after.Limit}})
	}
	return out
}

// memberMark is a member's limit and usage in a cycle, for member notices.
type memberMark struct {
	UserID string
	Used   Millicredits
	Limit  *Millicredits
}

func (m memberMark) paused() bool { return m.Limit != nil && m.Used >= *m.Limit }

// memberNotices decides a member's notices: threshold_reached (scope member, 100 %) when their
// limit is reached — once per cycle and limit — and resumed when their pause ends.
func memberNotices(org string, cycleStart time.Time, before, after memberMark, sameCycle bool) []Notice {
	switch {
	case after.paused() && !(sameCycle && before.paused()):
		limit, used := *after.Limit, after.Used
		return []Notice{{OrgID: org, Kind: NoticeThresholdReached, UserID: after.UserID,
			Key:  fmt.Sprintf("member/%s/%s/%d", after.UserID, cycleRef(cycleStart), int64(limit)),
			Data: NoticeData{Scope: ScopeMember, Percent: 100, Limit: &limit, Used: &used, Paused: true}}}
	case before.paused() && !after.paused():
		used := after.Used
		return []Notice{{OrgID: org, Kind: NoticeResumed, UserID: after.UserID,
			Data: NoticeData{Scope: ScopeMember, Reason: ReasonMemberLimitReached, Used: &used, Limit: after.Limit}}}
	}
	return nil
}

// pauseWatch is an org's state when a ledger transaction starts, to tell at its end which
// pauses began or ended and which thresholds were reached (a limit changed, credits bought).
type pauseWatch struct {
	org     orgState
	members map[string]memberMark // the members paused by their own limit
}

// noticeState reads the org's settings and its paused members in the current cycle; balance
// and usage come from the transaction's account row (which may be ahead of the table).
func (lt *ledgerTx) noticeState(ctx context.Context) (orgState, map[string]memberMark, error) {
	var row struct {
		Limit      *Millicredits `db:"monthly_limit_mc"`
		Thresholds pq.Int64Array `db:"threshold_percents"`
		LowBalance *Millicredits `db:"low_balance_mc"`
		Paused     []byte        `db:"paused_members"`
	}
	st := orgStateOf(&lt.acct)
	if err := lt.tx.GetContext(ctx, &row, noticeQ.selectNoticeState, lt.acct.OrgID, lt.acct.CycleStart); err != nil {
		return st, nil, fmt.Errorf("billing: notice state: %w", err)
	}
	st.Limit, st.LowBalance, st.Thresholds = row.Limit, row.LowBalance, row.Thresholds
	members, err := decodeMarks(row.Paused)
	return st, members, err
}

func decodeMarks(b []byte) (map[string]memberMark, error) {
	var ms []struct {
		UserID string `json:"user_id"`
		Used   int64  `json:"used_mc"` // millicredits as integers, not decimal credits
		Limit  *int64 `json:"limit_mc"`
	}
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("billing: paused members: %w", err)
	}
	out := make(map[string]memberMark, len(ms))
	for _, m := range ms {
		mk := memberMark{UserID: m.UserID, Used: Millicredits(m.Used)}
		if m.Limit != nil {
			l := Millicredits(*m.Limit)
			mk.Limit = &l
		}
		out[m.UserID] = mk
	}
	return out, nil
}

// watchPauses records the state at the start of a ledger transaction.
func (lt *ledgerTx) watchPauses(ctx context.Context) (*pauseWatch, error) {
	st, members, err := lt.noticeState(ctx)
	if err != nil {
		return nil, err
	}
	return &pauseWatch{org: st, members: members}, nil
}

// noticeChanges queues the notices of what changed since w (before the transaction flushes).
func (lt *ledgerTx) noticeChanges(ctx context.Context, w *pauseWatch) error {
	st, members, err := lt.noticeState(ctx)
	if err != nil {
		return err
	}
	org := lt.acct.OrgID
	lt.notices = append(lt.notices, orgNotices(org, w.org, st)...)
	same := w.org.CycleStart.Equal(st.CycleStart)
	for _, id := range sortedMarkKeys(members, w.members) {
		before, after := w.members[id], members[id]
		if after.UserID == "" {
			// Not paused any more: its figures now, for the notice.
			after, err = lt.memberMark(ctx, id)
			if err != nil {
				return err
			}
		}
		before.UserID = id
		lt.notices = append(lt.notices, memberNotices(org, st.CycleStart, before, after, same)...)
	}
	return nil
}

// memberMark reads one member's limit and usage in the current cycle.
func (lt *ledgerTx) memberMark(ctx context.Context, userID string) (memberMark, error) {
	m := memberMark{UserID: userID}
	var rows []memberUsage
	if err := lt.tx.SelectContext(ctx, &rows, queries.SelectMemberLimits, lt.acct.OrgID, pq.Array([]string{userID}), lt.acct.CycleStart); err != nil {
		return m, fmt.Errorf("billing: member limit: %w", err)
	}
	if len(rows) == 1 {
		m.Used, m.Limit = rows[0].Used, rows[0].Limit
	}
	return m, nil
}

func sortedMarkKeys(a, b map[string]memberMark) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// rolloverNotices queues what a new cycle tells: thresholds are armed again, a pause by the
// monthly limit ends (resumed), and so does every member's pause by their own limit.
func (lt *ledgerTx) rolloverNotices(ctx context.Context, before orgState) error {
	var raw []byte
	if err := lt.tx.GetContext(ctx, &raw, noticeQ.selectPausedMembers, lt.acct.OrgID, before.CycleStart); err != nil {
		return fmt.Errorf("billing: paused members: %w", err)
	}
	paused, err := decodeMarks(raw)
	if err != nil {
		return err
	}
	org := lt.acct.OrgID
	after := orgStateOf(&lt.acct)
	lt.notices = append(lt.notices, orgNotices(org, before, after)...)
	for _, id := range sortedMarkKeys(paused, nil) {
		after := memberMark{UserID: id, Limit: paused[id].Limit}
		lt.notices = append(lt.notices, memberNotices(org, lt.acct.CycleStart, paused[id], after, false)...)
	}
	return nil
}

// flushNotices writes the queued notices.
func (lt *ledgerTx) flushNotices(ctx context.Context) error {
	ns := lt.notices
	lt.notices = nil
	return writeNotices(ctx, lt.tx, lt.now, ns)
}

// Usage batches: the hook of the hot path. usageMarks takes the counters before the charge
// (in memory, already read under the lock), and emitCrossed compares them with the counters
// after it; only when something was crossed does it cost a statement.

// usageMark is an org batch's counters before its charge.
type usageMark struct {
	org     orgState
	members map[string]memberMark // members with a limit
}

// usageMarks records each batch's counters before the charge.
func usageMarks(batches []*orgBatch) []usageMark {
	out := make([]usageMark, len(batches))
	for i, b := range batches {
		out[i].org = orgStateOf(&b.lt.acct)
		for id, m := range b.members {
			if m.Limit != nil {
				if out[i].members == nil {
					out[i].members = map[string]memberMark{}
				}
				out[i].members[id] = memberMark{UserID: id, Used: m.Used, Limit: m.Limit}
			}
		}
	}
	return out
}

// emitCrossed writes the notices of what the charge crossed: thresholds, the low-balance
// alert, credits running out, member limits. Nothing crossed: no statement.
func (s *Service) emitCrossed(ctx context.Context, tx *sqlx.Tx, batches []*orgBatch, marks []usageMark) error {
	var ns []Notice
	for i, b := range batches {
		before, after := marks[i], orgStateOf(&b.lt.acct)
		if after.Used == before.org.Used && after.Balance == before.org.Balance {
			continue
		}
		ns = append(ns, orgNotices(b.org, before.org, after)...)
		for _, id := range sortedMarkKeys(before.members, nil) {
			now := b.members[id]
			ns = append(ns, memberNotices(b.org, after.CycleStart, before.members[id], memberMark{UserID: id, Used: now.Used, Limit: now.Limit}, true)...)
		}
	}
	if len(ns) == 0 {
		return nil
	}
	return writeNotices(ctx, tx, batches[0].lt.now, ns)
}
