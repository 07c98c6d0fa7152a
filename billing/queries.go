package billing

import (
	_ "embed"
)

//go:embed queries.sql
var queriesSQL string

// queryText holds the statements of queries.sql, one field per query name (SelectPlan for
// "select-plan").
type queryText struct {
	SelectRateCard         string
	LockAccount            string
	SelectAccount          string
	SelectLiveGrants       string
	SelectAuthorizeMany    string
	InsertLedgerEntry      string
	InsertAllocations      string
	UpdateGrantRemainders  string
	UpdateAccount          string
	SelectMemberLimits     string
	InsertGrant            string
	SelectUnfundedEntries  string
	InsertOrg              string
	InsertAccount          string
	SelectCreditSummary    string
	SelectDueAccounts      string
	SelectOrgPlan          string
	SelectPlans            string
	SelectPlan             string
	UpsertFlow             string
	CountOrgs              string
	LockAccounts           string
	SelectMembers          string
	InsertEvents           string
	SelectRecorded         string
	SelectLiveGrantsOfOrgs string
	WriteUsage             string
	SetMemberLimit         string
	SelectMemberStanding   string
	SelectLimitSettings    string
	UpdateLimitSettings    string
	SelectMemberUsage      string
	SelectRollupGen        string
	LockRollupChange       string
	UnlockRollupChange     string
	LockAccountRow         string
	CheckTimezone          string
	UpdateOrgTimezone      string
	SetRebuildMemory       string
	SetCatchUpPlan         string
	AddRollupGeneration    string
	CatchUpRollupGen       string
	CopyKeptRollup         string
	SelectUsageEntryTop    string
	SummarizeEntryIndex    string
	DeleteOtherDailyGens   string
	DeleteOtherFlowGens    string
	DeleteOtherWeeklyGens  string
	RebuildUsageDaily      string
	SelectGrantRemainders  string
	IngestUsage            string
	SelectAuthorize        string
}

// queries is read-only after package initialisation; a missing name panics there.
var queries = func() queryText {
	f := ParseQueries("billing/queries.sql", queriesSQL)
	return queryText{
		SelectRateCard:         f.Get("select-rate-card"),
		LockAccount:            f.Get("lock-account"),
		SelectAccount:          f.Get("select-account"),
		SelectLiveGrants:       f.Get("select-live-grants"),
		SelectAuthorizeMany:    f.Get("select-authorize-many"),
		InsertLedgerEntry:      f.Get("insert-ledger-entry"),
		InsertAllocations:      f.Get("insert-allocations"),
		UpdateGrantRemainders:  f.Get("update-grant-remainders"),
		UpdateAccount:          f.Get("update-account"),
		SelectMemberLimits:     f.Get("select-member-limits"),
		InsertGrant:            f.Get("insert-grant"),
		SelectUnfundedEntries:  f.Get("select-unfunded-entries"),
		InsertOrg:              f.Get("insert-org"),
		InsertAccount:          f.Get("insert-account"),
		SelectCreditSummary:    f.Get("select-credit-summary"),
		SelectDueAccounts:      f.Get("select-due-accounts"),
		SelectOrgPlan:          f.Get("select-org-plan"),
		SelectPlans:            f.Get("select-plans"),
		SelectPlan:             f.Get("select-plan"),
		UpsertFlow:             f.Get("upsert-flow"),
		CountOrgs:              f.Get("count-orgs"),
		LockAccounts:           f.Get("lock-accounts"),
		SelectMembers:          f.Get("select-members"),
		InsertEvents:           f.Get("insert-events"),
		SelectRecorded:         f.Get("select-recorded"),
		SelectLiveGrantsOfOrgs: f.Get("select-live-grants-of-orgs"),
		WriteUsage:             f.Get("write-usage"),
		SetMemberLimit:         f.Get("set-member-limit"),
		SelectMemberStanding:   f.Get("select-member-standing"),
		SelectLimitSettings:    f.Get("select-limit-settings"),
		UpdateLimitSettings:    f.Get("update-limit-settings"),
		SelectMemberUsage:      f.Get("select-member-usage"),
		SelectRollupGen:        f.Get("select-rollup-gen"),
		LockRollupChange:       f.Get("lock-rollup-change"),
		UnlockRollupChange:     f.Get("unlock-rollup-change"),
		LockAccountRow:         f.Get("lock-account-row"),
		CheckTimezone:          f.Get("check-timezone"),
		UpdateOrgTimezone:      f.Get("update-org-timezone"),
		SetRebuildMemory:       f.Get("set-rebuild-memory"),
		SetCatchUpPlan:         f.Get("set-catch-up-plan"),
		AddRollupGeneration:    f.Get("add-rollup-generation"),
		CatchUpRollupGen:       f.Get("catch-up-rollup-generation"),
		CopyKeptRollup:         f.Get("copy-kept-rollup"),
		SelectUsageEntryTop:    f.Get("select-usage-entry-top"),
		SummarizeEntryIndex:    f.Get("summarize-entry-index"),
		DeleteOtherDailyGens:   f.Get("delete-other-daily-gens"),
		DeleteOtherFlowGens:    f.Get("delete-other-flow-daily-gens"),
		DeleteOtherWeeklyGens:  f.Get("delete-other-flow-weekly-gens"),
		RebuildUsageDaily:      f.Get("rebuild-usage-daily"),
		SelectGrantRemainders:  f.Get("select-grant-remainders"),
		IngestUsage:            f.Get("ingest-usage"),
		SelectAuthorize:        f.Get("select-authorize"),
	}
}()
