package api

import "github.com/luxstudio/lux-billing/billing"

// Limits is the body of GET /api/v1/limits and of the answers to PUT /api/v1/limits and PUT
// /api/v1/limits/members/{userId} (which add Warnings). A member's key sees the organization's
// settings and only its own row of Members.
type Limits struct {
	MonthlyLimit *billing.Millicredits `json:"monthlyLimit"` // null: no limit
	Thresholds   []int                 `json:"thresholds"`   // percents of monthlyLimit, ascending
	LowBalance   *billing.Millicredits `json:"lowBalance"`   // null: no low-balance alert
	CycleUsed    billing.Millicredits  `json:"cycleUsed"`    // the organization's usage this cycle
	Members      []LimitMember         `json:"members"`
	Warnings     []LimitWarning        `json:"warnings,omitempty"`
}

// LimitMember is a member's own monthly limit and usage this cycle.
type LimitMember struct {
	UserID       string                `json:"userId"`
	Email        string                `json:"email"`
	Role         string                `json:"role"`
	MonthlyLimit *billing.Millicredits `json:"monthlyLimit"` // null: no member limit
	Used         billing.Millicredits  `json:"used"`
}

// LimitWarning is a change that was made but deserves a look, named by its field (a limit
// below what is already used this cycle, so flows pause at once).
type LimitWarning struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}
