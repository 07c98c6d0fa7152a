package reports

import (
	_ "embed"

	"github.com/luxstudio/lux-billing/billing"
)

//go:embed queries.sql
var queriesSQL string

// queryText holds the statements of queries.sql, one field per query name (SelectPlan for
// "select-plan").
type queryText struct {
	SelectExecution              string
	SelectRecentActivity         string
	SelectOrgZone                string
	SelectReport                 string
	SelectReportByFlow           string
	SelectReportAndFlows         string
	SelectFlowCells              string
	SelectOrgFlowNames           string
	SelectFlowNames              string
	SelectUserNames              string
	SelectReportCells            string
	SelectFlowExecutions         string
	SelectExecutionsUsage        string
	SelectExecutionEvents        string
	DeclareExecutionEventsCursor string
	FetchExecutionEvents         string
	SelectUsageSince             string
	SelectUsageMix               string
}

// queries is read-only after package initialisation; a missing name panics there.
var queries = func() queryText {
	f := billing.ParseQueries("billing/reports/queries.sql", queriesSQL)
	return queryText{
		SelectExecution:              f.Get("select-execution"),
		SelectRecentActivity:         f.Get("select-recent-activity"),
		SelectOrgZone:                f.Get("select-org-zone"),
		SelectReport:                 f.Get("select-report"),
		SelectReportByFlow:           f.Get("select-report-by-flow"),
		SelectReportAndFlows:         f.Get("select-report-and-flows"),
		SelectFlowCells:              f.Get("select-flow-cells"),
		SelectOrgFlowNames:           f.Get("select-org-flow-names"),
		SelectFlowNames:              f.Get("select-flow-names"),
		SelectUserNames:              f.Get("select-user-names"),
		SelectReportCells:            f.Get("select-report-cells"),
		SelectFlowExecutions:         f.Get("select-flow-executions"),
		SelectExecutionsUsage:        f.Get("select-executions-usage"),
		SelectExecutionEvents:        f.Get("select-execution-events"),
		DeclareExecutionEventsCursor: f.Get("declare-execution-events-cursor"),
		FetchExecutionEvents:         f.Get("fetch-execution-events"),
		SelectUsageSince:             f.Get("select-usage-since"),
		SelectUsageMix:               f.Get("select-usage-mix"),
	}
}()
