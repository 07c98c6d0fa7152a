package documents

import (
	_ "embed"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed queries.sql
var queriesSQL string

// queries holds the named statements of queries.sql.
type queries struct {
	nextNumber        string
	insertDocument    string
	selectBySource    string
	selectDocument    string
	selectOrg         string
	selectProfile     string
	upsertProfile     string
	listDocuments     string
	lockStatementOrg  string
	selectDueOrgs     string
	selectLedgerSums  string
	selectCycleUsage  string
	selectMemberNames string
	selectFlowNames   string
	selectAccount     string
}

// q is read-only after package initialisation; a missing name panics there.
var q = func() *queries {
	f := billing.ParseQueries("billing/documents/queries.sql", queriesSQL)
	get := f.Get
	return &queries{
		nextNumber:        get("next-number"),
		insertDocument:    get("insert-document"),
		selectBySource:    get("select-by-source"),
		selectDocument:    get("select-document"),
		selectOrg:         get("select-org"),
		selectProfile:     get("select-profile"),
		upsertProfile:     get("upsert-profile"),
		listDocuments:     get("list-documents"),
		lockStatementOrg:  get("lock-statement-org"),
		selectDueOrgs:     get("select-due-orgs"),
		selectLedgerSums:  get("select-ledger-sums"),
		selectCycleUsage:  get("select-cycle-usage"),
		selectMemberNames: get("select-member-names"),
		selectFlowNames:   get("select-flow-names"),
		selectAccount:     get("select-account"),
	}
}()
