package reports

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
)

// Member is how a member is shown: their name, else their email, else their id.
type Member struct {
	Label  string
	Detail string // the email when Label is the name
}

// Names are display names looked up by id.
type Names struct {
	Flows   map[string]string // flow id → name; a flow without a name is absent
	Members map[string]Member // user id → how they are shown; unknown ids are absent
}

// Flow returns the name of flow id, or "" when it has none.
func (n Names) Flow(id string) string { return n.Flows[id] }

// Member returns how user id is shown: name, else email, else the id itself.
func (n Names) Member(id string) string {
	if m, ok := n.Members[id]; ok && m.Label != "" {
		return m.Label
	}
	return id
}

// Names looks up the names of an organization's flows and of users, one keyed read each
// (none for an empty list).
func (s *Service) Names(ctx context.Context, orgID string, flowIDs, userIDs []string) (Names, error) {
	out := Names{Flows: map[string]string{}, Members: map[string]Member{}}
	if len(flowIDs) > 0 {
		var named []struct {
			ID   string `db:"id"`
			Name string `db:"name"`
		}
		if err := s.store.DB().SelectContext(ctx, &named, queries.SelectFlowNames, orgID, pq.Array(flowIDs)); err != nil {
			return out, fmt.Errorf("billing: flow names: %w", err)
		}
		for _, f := range named {
			if f.Name != "" {
				out.Flows[f.ID] = f.Name
			}
		}
	}
	if len(userIDs) > 0 {
		var users []struct {
			ID    string `db:"id"`
			Name  string `db:"name"`
			Email string `db:"email"`
		}
		if err := s.store.DB().SelectContext(ctx, &users, queries.SelectUserNames, pq.Array(userIDs)); err != nil {
			return out, fmt.Errorf("billing: user names: %w", err)
		}
		for _, u := range users {
			switch {
			case u.Name != "":
				out.Members[u.ID] = Member{Label: u.Name, Detail: u.Email}
			case u.Email != "":
				out.Members[u.ID] = Member{Label: u.Email}
			}
		}
	}
	return out, nil
}

// labelReport names the report's groups and top flows: type labels from the code, flow names
// (else the id) and member names (else the email) from the database.
func (s *Service) labelReport(ctx context.Context, orgID string, r *Report) error {
	var flowIDs, userIDs []string
	for _, f := range r.TopFlows {
		flowIDs = append(flowIDs, f.FlowID)
	}
	for _, g := range r.Groups {
		switch r.Query.GroupBy {
		case GroupByFlow:
			flowIDs = append(flowIDs, g.Key)
		case GroupByUser:
			userIDs = append(userIDs, g.Key)
		}
	}
	names, err := s.Names(ctx, orgID, flowIDs, userIDs)
	if err != nil {
		return err
	}
	for i := range r.TopFlows {
		if n, ok := names.Flows[r.TopFlows[i].FlowID]; ok {
			r.TopFlows[i].Name = n
		}
	}
	for i := range r.Groups {
		g := &r.Groups[i]
		switch r.Query.GroupBy {
		case GroupByType:
			g.Label = billing.TypeLabel(g.Key)
		case GroupByFlow:
			if n, ok := names.Flows[g.Key]; ok {
				g.Label, g.Detail = n, g.Key
			}
		case GroupByUser:
			if m, ok := names.Members[g.Key]; ok {
				g.Label, g.Detail = m.Label, m.Detail
			}
		}
	}
	return nil
}
