package documents

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
)

// Statement is the consolidated statement of an org's cycle, in millicredits. The figures add
// up: Opening + AllotmentGranted + Purchased + OtherGrants + Adjusted − Refunded − Expired −
// Used = Closing, and each breakdown (ByMember, ByFlow, ByType) sums to Used.
type Statement struct {
	Opening          billing.Millicredits `json:"opening"`
	AllotmentGranted billing.Millicredits `json:"allotmentGranted"`
	Purchased        billing.Millicredits `json:"purchased"`
	OtherGrants      billing.Millicredits `json:"otherGrants"` // promotions, free credits
	Adjusted         billing.Millicredits `json:"adjusted"`    // signed
	Refunded         billing.Millicredits `json:"refunded"`
	Expired          billing.Millicredits `json:"expired"`
	AllotmentExpired billing.Millicredits `json:"allotmentExpired"` // the part of Expired that was allotment
	Used             billing.Millicredits `json:"used"`
	Closing          billing.Millicredits `json:"closing"`
	// Arrears is the usage no credits paid for at the cycle's end (part of a negative Closing).
	Arrears  billing.Millicredits `json:"arrears"`
	ByMember []Share              `json:"byMember"`
	ByFlow   []Share              `json:"byFlow"`
	ByType   []Share              `json:"byType"`
	// AsOf is when a draft's figures were read; zero for an issued statement.
	AsOf time.Time `json:"asOf,omitzero"`
}

// Share is one row of a breakdown of the credits used; Key "" is the "Other" row that sums
// those past the top ones.
type Share struct {
	Key     string               `json:"key"`
	Label   string               `json:"label"`
	Credits billing.Millicredits `json:"credits"`
}

// Breakdown sizes: the top members and flows are listed, the rest summed as "Other".
const (
	TopMembers = 10
	TopFlows   = 10
	TopTypes   = 8
)

// Balanced reports whether st's figures add up.
func (st *Statement) Balanced() bool {
	in := st.Opening + st.AllotmentGranted + st.Purchased + st.OtherGrants + st.Adjusted
	out := st.Refunded + st.Expired + st.Used
	return in-out == st.Closing && sumShares(st.ByMember) == st.Used &&
		sumShares(st.ByFlow) == st.Used && sumShares(st.ByType) == st.Used
}

func sumShares(ss []Share) billing.Millicredits {
	var t billing.Millicredits
	for _, s := range ss {
		t += s.Credits
	}
	return t
}

type ledgerSums struct {
	Opening          billing.Millicredits `db:"opening_mc"`
	Closing          billing.Millicredits `db:"closing_mc"`
	Allotment        billing.Millicredits `db:"allotment_mc"`
	Purchased        billing.Millicredits `db:"purchased_mc"`
	OtherGrants      billing.Millicredits `db:"other_grants_mc"`
	Refunded         billing.Millicredits `db:"refunded_mc"`
	Expired          billing.Millicredits `db:"expired_mc"`
	AllotmentExpired billing.Millicredits `db:"allotment_expired_mc"`
	Adjusted         billing.Millicredits `db:"adjusted_mc"`
	Used             billing.Millicredits `db:"used_mc"`
	Arrears          billing.Millicredits `db:"arrears_mc"`
}

// ComputeStatement reads org's statement figures for the cycle [start, end) from the ledger and
// the usage events received in it. It fails (EINTERNAL) if the figures do not add up, which
// would mean the ledger is broken.
func (s *Service) ComputeStatement(ctx context.Context, db sqlx.QueryerContext, orgID string, start, end time.Time) (*Statement, error) {
	var l ledgerSums
	if err := sqlx.GetContext(ctx, db, &l, q.selectLedgerSums, orgID, start, end); err != nil {
		return nil, fmt.Errorf("documents: statement ledger: %w", err)
	}
	st := &Statement{
		Opening: l.Opening, AllotmentGranted: l.Allotment, Purchased: l.Purchased,
		OtherGrants: l.OtherGrants, Adjusted: l.Adjusted, Refunded: l.Refunded, Expired: l.Expired,
		AllotmentExpired: l.AllotmentExpired, Used: l.Used, Closing: l.Closing, Arrears: max(l.Arrears, 0),
	}
	var rows []struct {
		User    string               `db:"user_id"`
		Flow    string               `db:"flow_id"`
		Type    string               `db:"type"`
		Credits billing.Millicredits `db:"credits_mc"`
	}
	if err := sqlx.SelectContext(ctx, db, &rows, q.selectCycleUsage, orgID, start, end); err != nil {
		return nil, fmt.Errorf("documents: statement usage: %w", err)
	}
	byUser, byFlow, byType := map[string]billing.Millicredits{}, map[string]billing.Millicredits{}, map[string]billing.Millicredits{}
	for _, r := range rows {
		byUser[r.User] += r.Credits
		byFlow[r.Flow] += r.Credits
		byType[r.Type] += r.Credits
	}
	users, err := s.names(ctx, db, q.selectMemberNames, keys(byUser))
	if err != nil {
		return nil, err
	}
	flows, err := s.names(ctx, db, q.selectFlowNames, orgID, keys(byFlow))
	if err != nil {
		return nil, err
	}
	st.ByMember = top(byUser, TopMembers, func(k string) string { return orName(users[k], k) })
	st.ByFlow = top(byFlow, TopFlows, func(k string) string { return orName(flows[k], k) })
	st.ByType = top(byType, TopTypes, billing.TypeLabel)
	if !st.Balanced() {
		return nil, fmt.Errorf("documents: statement of %s for %s does not add up: %+v", orgID, start.Format(time.RFC3339), *st)
	}
	return st, nil
}

func orName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func keys(m map[string]billing.Millicredits) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// names runs a query of (id, name) rows; the last argument is the ids.
func (s *Service) names(ctx context.Context, db sqlx.QueryerContext, query string, args ...any) (map[string]string, error) {
	args[len(args)-1] = pq.Array(args[len(args)-1])
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := sqlx.SelectContext(ctx, db, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("documents: names: %w", err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

// top lists the n largest shares (ties by key) and sums the rest as "Other".
func top(m map[string]billing.Millicredits, n int, label func(string) string) []Share {
	out := make([]Share, 0, len(m))
	for k, v := range m {
		if v != 0 {
			out = append(out, Share{Key: k, Label: label(k), Credits: v})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Credits != out[j].Credits {
			return out[i].Credits > out[j].Credits
		}
		return out[i].Key < out[j].Key
	})
	if len(out) > n {
		other := Share{Label: fmt.Sprintf("Other (%d)", len(out)-n+1)}
		for _, s := range out[n-1:] {
			other.Credits += s.Credits
		}
		out = append(out[:n-1], other)
	}
	return out
}
