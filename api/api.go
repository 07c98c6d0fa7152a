// Package api holds the shapes of the JSON API (/api/v1): the bodies the server answers and
// accepts, shared by the handlers that write them and the command-line client that reads them.
// docs/API.md describes each. Amounts are billing.Millicredits, written as numbers with up to 3
// decimals; times are RFC 3339 in UTC; days are reports.Date ("2026-03-31").
package api

import (
	"encoding/json"
	"time"

	"github.com/luxstudio/lux-billing/billing"
	"github.com/luxstudio/lux-billing/billing/reports"
)

// ErrorResponse is the body of every API error: {"error":{"code":"…","message":"…"}}.
type ErrorResponse struct {
	Error Error `json:"error"`
}

// Error is a billing error code (billing.EINVALID, …) and a message saying what to fix.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// EventResult is what recording one event did (POST /api/v1/usage).
type EventResult struct {
	ID        string               `json:"id"`
	Credits   billing.Millicredits `json:"credits"`
	Duplicate bool                 `json:"duplicate"`
}

// UsageResult is the body of POST /api/v1/usage.
type UsageResult struct {
	Results       []EventResult        `json:"results"`
	Balance       billing.Millicredits `json:"balance"`
	Paused        bool                 `json:"paused"`
	PauseReason   *string              `json:"pauseReason"` // null when not paused
	MembersPaused []string             `json:"membersPaused,omitempty"`
}

// Estimate is the optional cost estimate of the next step in an authorize request.
type Estimate struct {
	Type     string       `json:"type"`
	Model    string       `json:"model"`
	Quantity *json.Number `json:"quantity"`
}

// AuthorizeRequest is the body of POST /api/v1/authorize.
type AuthorizeRequest struct {
	FlowID      string    `json:"flowId"`
	ExecutionID string    `json:"executionId"`
	UserID      string    `json:"userId"`
	Estimate    *Estimate `json:"estimate"`
}

// Authorization is the body of POST /api/v1/authorize: 200 when allowed, 402 with Reason,
// Message and Error when not. Fields are in alphabetical order, as the API has always written
// them.
type Authorization struct {
	Allowed      bool                  `json:"allowed"`
	Balance      billing.Millicredits  `json:"balance"`
	CycleUsed    billing.Millicredits  `json:"cycleUsed"`
	Error        *Error                `json:"error,omitempty"`
	Estimate     *billing.Millicredits `json:"estimate,omitempty"` // only when the request had one
	MemberLimit  *billing.Millicredits `json:"memberLimit"`
	MemberUsed   billing.Millicredits  `json:"memberUsed"`
	Message      string                `json:"message,omitempty"`
	MonthlyLimit *billing.Millicredits `json:"monthlyLimit"`
	Reason       string                `json:"reason,omitempty"`
}

// Execution is the body of GET /api/v1/executions/:id: credits by usage type, and "total".
type Execution struct {
	FlowID      string                          `json:"flowId"`
	ExecutionID string                          `json:"executionId"`
	Credits     map[string]billing.Millicredits `json:"credits"`
}

// Credits is the body of GET /api/v1/credits.
type Credits struct {
	Org struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"org"`
	Balance   billing.Millicredits `json:"balance"`
	Plan      string               `json:"plan"`
	PlanName  string               `json:"planName"`
	Allotment struct {
		Granted   billing.Millicredits `json:"granted"`
		Remaining billing.Millicredits `json:"remaining"`
		ResetsAt  time.Time            `json:"resetsAt"`
	} `json:"allotment"`
	Purchased struct {
		Remaining billing.Millicredits `json:"remaining"`
	} `json:"purchased"`
	Other struct {
		Remaining billing.Millicredits `json:"remaining"`
	} `json:"other"`
	Arrears billing.Millicredits `json:"arrears"`
	Cycle   struct {
		Start time.Time            `json:"start"`
		End   time.Time            `json:"end"`
		Used  billing.Millicredits `json:"used"`
	} `json:"cycle"`
	MonthlyLimit *billing.Millicredits `json:"monthlyLimit"`
	Paused       bool                  `json:"paused"`
	PauseReason  *string               `json:"pauseReason"`
}

// UsageSum is an amount of usage: credits, quantity in the type's units and the number of
// events.
type UsageSum struct {
	Credits  billing.Millicredits `json:"credits"`
	Quantity int64                `json:"quantity"`
	Events   int64                `json:"events"`
}

// UsageBucket is one period of a usage report.
type UsageBucket struct {
	Start   reports.Date `json:"start"`   // first day of the period (a Monday, a 1st)
	From    reports.Date `json:"from"`    // first day of it inside the range
	To      reports.Date `json:"to"`      // last day of it inside the range
	Partial bool         `json:"partial"` // the period is cut by the range
	UsageSum
}

// UsageGroup is one group of a usage report with its series, aligned with the buckets.
type UsageGroup struct {
	Key      string                 `json:"key"`
	Label    string                 `json:"label"`
	Detail   string                 `json:"detail,omitempty"`
	Total    UsageSum               `json:"total"`
	Credits  []billing.Millicredits `json:"credits"`
	Quantity []int64                `json:"quantity"`
	Events   []int64                `json:"events"`
}

// TopFlow is a flow among the report's top flows.
type TopFlow struct {
	FlowID string `json:"flowId"`
	Name   string `json:"name"`
	UsageSum
}

// Usage is the body of GET /api/v1/usage.
type Usage struct {
	From     reports.Date  `json:"from"`
	To       reports.Date  `json:"to"`
	Timezone string        `json:"timezone"`
	Interval string        `json:"interval"`
	GroupBy  string        `json:"groupBy"`
	Filters  UsageFilters  `json:"filters"`
	Buckets  []UsageBucket `json:"buckets"`
	Groups   []UsageGroup  `json:"groups"`
	Total    UsageSum      `json:"total"`
	TopFlows []TopFlow     `json:"topFlows"`
}

// UsageFilters echoes the report's filters; an absent one means all.
type UsageFilters struct {
	FlowID string `json:"flowId,omitempty"`
	UserID string `json:"userId,omitempty"`
	Type   string `json:"type,omitempty"`
}

// Health is the body of GET /healthz.
type Health struct {
	Database string `json:"database,omitempty"` // "unreachable" when the database is
	Status   string `json:"status"`             // "ok" or "unavailable"
}
