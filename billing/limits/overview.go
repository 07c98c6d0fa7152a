package limits

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/luxstudio/lux-billing/billing"
)

// AuditRows is how many audit entries Overview returns.
const AuditRows = 50

// Member is a member of the organization with their limit, usage this cycle, email and name.
type Member struct {
	billing.MemberStanding
	Email string
	Name  string
}

// Entry is one audit entry: who changed what, when, from Old to New.
type Entry struct {
	ID          int64                 `db:"id"`
	ActorID     string                `db:"actor_id"`
	Source      string                `db:"source"`
	Field       string                `db:"field"` // Audit*
	MemberID    string                `db:"member_id"`
	OldMC       *billing.Millicredits `db:"old_mc"` // credits; nil: none
	NewMC       *billing.Millicredits `db:"new_mc"`
	OldPercents pq.Int64Array         `db:"old_percents"` // thresholds
	NewPercents pq.Int64Array         `db:"new_percents"`
	At          time.Time             `db:"created_at"`
	// Actor and Member are the people's emails, or their ids when they left the organization.
	Actor  string `db:"-"`
	Member string `db:"-"`
}

// Overview is everything the Limits page and GET /api/v1/limits show.
type Overview struct {
	billing.LimitSettings
	CycleStart, CycleEnd time.Time
	CycleUsed            billing.Millicredits
	Balance              billing.Millicredits
	Members              []Member
	Changes              []Entry // newest first, at most AuditRows
}

// Overview returns org's settings, members and latest audit entries.
func (s *Service) Overview(ctx context.Context, orgID string) (*Overview, error) {
	set, err := s.core.LimitSettings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	acct, err := s.core.CurrentAccount(ctx, orgID, s.core.Now())
	if err != nil {
		return nil, err
	}
	standings, err := s.core.MemberStandings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	people, err := s.dir.OrgMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := &Overview{LimitSettings: *set, CycleStart: acct.CycleStart, CycleEnd: acct.CycleEnd,
		CycleUsed: acct.CycleUsed, Balance: acct.Balance, Members: make([]Member, 0, len(standings))}
	for _, m := range standings {
		p := people[m.UserID]
		out.Members = append(out.Members, Member{MemberStanding: m, Email: p.Email, Name: p.Name})
	}
	if err := s.core.DB().SelectContext(ctx, &out.Changes, q.selectChanges, orgID, AuditRows); err != nil {
		return nil, fmt.Errorf("limits: audit log: %w", err)
	}
	name := func(id string) string {
		if p, ok := people[id]; ok {
			return p.Email
		}
		return id
	}
	for i := range out.Changes {
		e := &out.Changes[i]
		e.Actor = name(e.ActorID)
		if e.MemberID != "" {
			e.Member = name(e.MemberID)
		}
	}
	if out.Changes == nil {
		out.Changes = []Entry{}
	}
	return out, nil
}

// For returns what userID may see of o when they are not an admin: the organization's
// settings, their own row and the audit entries of the organization's settings and of their
// own limit. Other members' limits and usage are admins' business.
func (o *Overview) For(userID string) *Overview {
	out := *o
	out.Members = []Member{}
	for _, m := range o.Members {
		if m.UserID == userID {
			out.Members = append(out.Members, m)
		}
	}
	out.Changes = []Entry{}
	for _, e := range o.Changes {
		if e.Field != AuditMemberLimit || e.MemberID == userID {
			out.Changes = append(out.Changes, e)
		}
	}
	return &out
}

// Member returns the member userID, or nil.
func (o *Overview) Member(userID string) *Member {
	for i := range o.Members {
		if o.Members[i].UserID == userID {
			return &o.Members[i]
		}
	}
	return nil
}
