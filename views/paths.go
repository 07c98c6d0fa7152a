package views

import (
	"net/url"
	"strconv"
)

// Paths of the pages, typed once: views link with them and web/routes.go registers them (the
// :name segments are the routes' parameters, filled by the functions below).
const (
	PathLogin          = "/login"
	PathSignup         = "/signup"
	PathLogout         = "/logout"
	PathSettings       = "/settings"
	PathSwitchOrg      = "/settings/org"
	PathOverview       = "/settings/billing"
	PathUsage          = "/settings/billing/usage"
	PathUsageCSV       = "/settings/billing/usage.csv"
	PathUsageFlow      = "/settings/billing/usage/flows/:flowID"
	PathExecution      = "/settings/billing/usage/executions/:executionID"
	PathEventsCSV      = "/settings/billing/usage/executions/:executionID/events.csv"
	PathCredits        = "/settings/billing/credits"
	PathCreditsQuote   = "/settings/billing/credits/quote"
	PathPurchase       = "/settings/billing/credits/purchases/:id"
	PathPurchaseCancel = "/settings/billing/credits/purchases/:id/cancel"
	PathPurchaseRefund = "/settings/billing/credits/purchases/:id/refund"
	PathDemoCheckout   = "/settings/billing/credits/demo/:id"
	PathDemoPay        = "/settings/billing/credits/demo/:id/pay"
	PathHistory        = "/settings/billing/history"
	PathHistoryDraft   = "/settings/billing/history/draft.pdf"
	PathHistoryPDF     = "/settings/billing/history/:file"
	PathBillingProfile = "/settings/billing/history/profile"
	PathHistoryRefund  = "/settings/billing/history/refund/:id"
	PathLimits         = "/settings/billing/limits"
	PathMemberLimit    = "/settings/billing/limits/members/:userID"
	PathPlans          = "/settings/billing/plans"
	PathPlanCancel     = "/settings/billing/plans/cancel"
	PathPlanCheckout   = "/settings/billing/plans/checkout/:id"
	PathCalculator     = "/settings/billing/calculator"
	PathAPIKeys        = "/settings/api-keys"
	PathRevokeKey      = "/settings/api-keys/:id/revoke"
	PathAccount        = "/settings/account"
	PathPassword       = "/settings/account/password"
	PathMembers        = "/settings/members"
	PathRemoveMember   = "/settings/members/:userID/remove"

	PathNotifications     = "/settings/notifications"
	PathNotificationRead  = "/settings/notifications/:id/read"
	PathNotificationsRead = "/settings/notifications/read"
	PathWebhook           = "/settings/notifications/webhook"
	PathWebhookRotate     = "/settings/notifications/webhook/rotate"
	PathWebhookRemove     = "/settings/notifications/webhook/remove"
)

// UsageFlowPath is the drill-down page of a flow, keeping the usage view's query.
func UsageFlowPath(flowID, query string) string {
	return withQuery(PathUsage+"/flows/"+escapeSegment(flowID), query)
}

// UsageExecutionPath is the drill-down page of an execution, keeping the usage view's query.
func UsageExecutionPath(executionID, query string) string {
	return withQuery(PathUsage+"/executions/"+escapeSegment(executionID), query)
}

// UsageExecutionCSVPath is the CSV of an execution's events.
func UsageExecutionCSVPath(executionID string) string {
	return PathUsage + "/executions/" + escapeSegment(executionID) + "/events.csv"
}

// HistoryRefundPath is where the History page confirms (GET) and makes (POST) the refund of
// purchase id's unused credits.
func HistoryRefundPath(id string) string { return PathHistory + "/refund/" + escapeSegment(id) }

// PlanCheckoutPath is the demo checkout page of plan checkout id.
func PlanCheckoutPath(id string) string { return PathPlans + "/checkout/" + escapeSegment(id) }

// RevokeKeyPath is where the form revoking API key id posts.
func RevokeKeyPath(id int64) string {
	return PathAPIKeys + "/" + strconv.FormatInt(id, 10) + "/revoke"
}

// escapeSegment escapes an id for one path segment: "/" and every other reserved character
// become escapes, so any id reaches the handler whole.
func escapeSegment(id string) string { return url.PathEscape(id) }

// MemberLimitPath is where the form setting member userID's own limit posts.
func MemberLimitPath(userID string) string { return PathLimits + "/members/" + escapeSegment(userID) }

// NotificationReadPath is where the form marking notification id read posts.
func NotificationReadPath(id int64) string {
	return PathNotifications + "/" + strconv.FormatInt(id, 10) + "/read"
}
