package billing

import (
	_ "embed"
	"fmt"
	"reflect"

	"github.com/qustavo/dotsql"
)

//go:embed queries.sql
var queriesSQL string

// queries holds the named statements of queries.sql; each field's tag names its query.
type queries struct {
	selectRateCard        string `query:"select-rate-card"`
	lockAccount           string `query:"lock-account"`
	selectAccount         string `query:"select-account"`
	selectLiveGrants      string `query:"select-live-grants"`
	insertLedgerEntry     string `query:"insert-ledger-entry"`
	insertAllocations     string `query:"insert-allocations"`
	updateGrantRemainders string `query:"update-grant-remainders"`
	updateAccount         string `query:"update-account"`
	selectMemberLimits    string `query:"select-member-limits"`
	insertGrant           string `query:"insert-grant"`
	selectUnfundedEntries string `query:"select-unfunded-entries"`
	insertOrg             string `query:"insert-org"`
	insertAccount         string `query:"insert-account"`
	insertUser            string `query:"insert-user"`
	insertMembership      string `query:"insert-membership"`
	selectUserByEmail     string `query:"select-user-by-email"`
	selectUser            string `query:"select-user"`
	selectMembershipsOf   string `query:"select-memberships-of-user"`
	selectMembership      string `query:"select-membership"`
	insertAPIKey          string `query:"insert-api-key"`
	selectAPIKey          string `query:"select-api-key"`
	revokeAPIKey          string `query:"revoke-api-key"`
	selectExecution       string `query:"select-execution"`
	selectCreditSummary   string `query:"select-credit-summary"`
	selectDueAccounts     string `query:"select-due-accounts"`
	selectOrgPlan         string `query:"select-org-plan"`
	selectPlans           string `query:"select-plans"`
	selectPlan            string `query:"select-plan"`
	upsertFlow            string `query:"upsert-flow"`
	countOrgs             string `query:"count-orgs"`
}

// q is read-only after package initialisation.
var q = mustLoadQueries[queries](queriesSQL)

// mustLoadQueries fills a struct of string fields from a file of named queries: each field's
// `query:"name"` tag names its query. A feature with its own SQL file declares its own struct
// and loads it the same way. A missing query panics at start-up, never at run time.
func mustLoadQueries[T any](src string) *T {
	dot, err := dotsql.LoadFromString(src)
	if err != nil {
		panic(fmt.Sprintf("billing: parse queries: %v", err))
	}
	out := new(T)
	v := reflect.ValueOf(out).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Tag.Get("query")
		raw, err := dot.Raw(name)
		if err != nil {
			panic(fmt.Sprintf("billing: no query named %q", name))
		}
		// Unexported fields are set through their address: the struct is ours.
		reflect.NewAt(v.Field(i).Type(), v.Field(i).Addr().UnsafePointer()).Elem().SetString(raw)
	}
	return out
}
