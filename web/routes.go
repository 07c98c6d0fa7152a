package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/luxstudio/lux-billing/api"
	"github.com/luxstudio/lux-billing/static"
	"github.com/luxstudio/lux-billing/views"
)

// routes lists every route of the server in one place.
func (s *Server) routes() {
	e := s.echo
	h := s.api

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", metrics(s.cfg.MetricsToken))

	// The key is checked per route, not with Group.Use: a group middleware makes Echo add
	// catch-all routes that turn a wrong method (405) into "not found".
	key := s.requireAPIKey
	e.POST("/api/v1/usage", h.PostUsage, key)
	e.POST("/api/v1/authorize", h.PostAuthorize, key)
	e.GET("/api/v1/executions/:id", h.GetExecution, key)
	e.GET("/api/v1/credits", h.GetCredits, key)
	e.GET("/api/v1/usage", h.GetUsage, key)
	e.POST("/api/v1/estimate", h.PostEstimate, key)
	e.GET("/api/v1/documents", h.ListDocuments, key)
	e.GET("/api/v1/documents/:file", h.GetDocumentPDF, key)

	// Payment providers: the signature authenticates, so no session or CSRF token.
	e.POST("/webhooks/stripe", s.hooks.Stripe)

	// Pages. Everything under /settings needs a session; the org always comes from it.
	p := s.pages
	assets := echo.WrapHandler(static.Handler())
	e.GET(static.Prefix+"*", assets)
	e.HEAD(static.Prefix+"*", assets)
	e.GET("/", p.Root)
	e.GET(views.PathLogin, p.LoginPage)
	e.POST(views.PathLogin, p.Login)
	e.GET(views.PathSignup, p.SignupPage)
	e.POST(views.PathSignup, p.Signup)
	e.GET(views.PathLogout, p.LogoutPage)
	e.POST(views.PathLogout, p.Logout)

	settings := e.Group(views.PathSettings, s.requireSession)
	settings.GET("", p.SettingsHome)
	settings.POST("/org", p.SwitchOrg)
	settings.GET("/billing", p.Overview)
	settings.GET("/billing/usage", p.Usage)
	settings.GET("/billing/usage.csv", p.UsageCSV)
	settings.GET("/billing/usage/flows/:flowID", p.UsageFlow)
	settings.GET("/billing/usage/executions/:executionID", p.UsageExecution)
	settings.GET("/billing/usage/executions/:executionID/events.csv", p.UsageExecutionCSV)
	settings.GET("/billing/credits", p.AddCredits, requireAdmin)
	settings.POST("/billing/credits", p.BuyCredits, requireAdmin)
	settings.GET("/billing/credits/quote", p.QuoteCredits, requireAdmin)
	settings.GET("/billing/credits/purchases/:id", p.PurchaseStatus, requireAdmin)
	settings.GET("/billing/credits/purchases/:id/cancel", p.CancelPurchase, requireAdmin)
	settings.GET("/billing/credits/purchases/:id/refund", p.RefundConfirm, requireAdmin)
	settings.POST("/billing/credits/purchases/:id/refund", p.RefundPurchase, requireAdmin)
	settings.GET("/billing/credits/demo/:id", p.DemoCheckout, requireAdmin)
	settings.POST("/billing/credits/demo/:id/pay", p.DemoPay, requireAdmin)
	settings.GET("/billing/history", p.History)
	settings.GET("/billing/history/draft.pdf", p.HistoryDraft)
	settings.GET("/billing/history/:file", p.HistoryPDF)
	settings.POST("/billing/history/profile", p.SaveBillingProfile, requireAdmin)
	settings.GET("/billing/limits", p.Limits, requireAdmin)
	settings.GET("/billing/plans", p.Plans)
	settings.POST("/billing/plans", p.ChangePlan, requireAdmin)
	settings.POST("/billing/plans/cancel", p.CancelPlanChange, requireAdmin)
	settings.GET("/billing/plans/checkout/:id", p.PlanCheckout, requireAdmin)
	settings.POST("/billing/plans/checkout/:id", p.PayPlanCheckout, requireAdmin)
	settings.GET("/billing/calculator", p.Calculator)
	settings.GET("/api-keys", p.APIKeys)
	settings.POST("/api-keys", p.CreateAPIKey)
	settings.POST("/api-keys/:id/revoke", p.RevokeAPIKey)
}

// healthz answers 200 when the server can reach its database, 503 otherwise.
func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.domain.Billing.DB().PingContext(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, api.Health{Status: "unavailable", Database: "unreachable"})
	}
	return c.JSON(http.StatusOK, api.Health{Status: "ok"})
}
