package identity

import (
	_ "embed"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed queries.sql
var queriesSQL string

// queryText holds the statements of queries.sql, one field per query name (SelectPlan for
// "select-plan").
type queryText struct {
	InsertUser              string
	InsertMembership        string
	SelectUserByEmail       string
	SelectUser              string
	SelectMembershipsOfUser string
	SelectMembership        string
	InsertAPIKey            string
	SelectAPIKey            string
	RevokeAPIKey            string
	SelectOrgAdmins         string
	SelectOrgMembers        string
	SelectAPIKeys           string
	SelectAPIKeyOwner       string
}

// queries is read-only after package initialisation; a missing name panics there.
var queries = func() queryText {
	f := billing.ParseQueries("billing/identity/queries.sql", queriesSQL)
	return queryText{
		InsertUser:              f.Get("insert-user"),
		InsertMembership:        f.Get("insert-membership"),
		SelectUserByEmail:       f.Get("select-user-by-email"),
		SelectUser:              f.Get("select-user"),
		SelectMembershipsOfUser: f.Get("select-memberships-of-user"),
		SelectMembership:        f.Get("select-membership"),
		InsertAPIKey:            f.Get("insert-api-key"),
		SelectAPIKey:            f.Get("select-api-key"),
		RevokeAPIKey:            f.Get("revoke-api-key"),
		SelectOrgAdmins:         f.Get("select-org-admins"),
		SelectOrgMembers:        f.Get("select-org-members"),
		SelectAPIKeys:           f.Get("select-api-keys"),
		SelectAPIKeyOwner:       f.Get("select-api-key-owner"),
	}
}()
