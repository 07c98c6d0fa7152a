package web

import (
	"context"
	"net/http"
	"strings"
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
	e.GET("/api/v1/limits", h.GetLimits, key)
	e.PUT("/api/v1/limits", h.PutLimits, key)
	e.PUT("/api/v1/limits/members/:userId", h.PutMemberLimit, key)

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

	// in is a page path as the /settings group registers it.
	in := func(path string) string { return strings.TrimPrefix(path, views.PathSettings) }
	settings := e.Group(views.PathSettings, s.requireSession)
	settings.GET("", p.SettingsHome)
	settings.POST(in(views.PathSwitchOrg), p.SwitchOrg)
	settings.GET(in(views.PathOverview), p.Overview)
	settings.GET(in(views.PathUsage), p.Usage)
	settings.GET(in(views.PathUsageCSV), p.UsageCSV)
	settings.GET(in(views.PathUsageFlow), p.UsageFlow)
	settings.GET(in(views.PathExecution), p.UsageExecution)
	settings.GET(in(views.PathEventsCSV), p.UsageExecutionCSV)
	settings.GET(in(views.PathCredits), p.AddCredits, requireAdmin)
	settings.POST(in(views.PathCredits), p.BuyCredits, requireAdmin)
	settings.GET(in(views.PathCreditsQuote), p.QuoteCredits, requireAdmin)
	settings.GET(in(views.PathPurchase), p.PurchaseStatus, requireAdmin)
	settings.GET(in(views.PathPurchaseCancel), p.CancelPurchase, requireAdmin)
	settings.GET(in(views.PathPurchaseRefund), p.RefundConfirm, requireAdmin)
	settings.POST(in(views.PathPurchaseRefund), p.RefundPurchase, requireAdmin)
	settings.GET(in(views.PathDemoCheckout), p.DemoCheckout, requireAdmin)
	settings.POST(in(views.PathDemoPay), p.DemoPay, requireAdmin)
	settings.GET(in(views.PathHistory), p.History)
	settings.GET(in(views.PathHistoryDraft), p.HistoryDraft)
	settings.GET(in(views.PathHistoryPDF), p.HistoryPDF)
	settings.POST(in(views.PathBillingProfile), p.SaveBillingProfile, requireAdmin)
	settings.GET(in(views.PathHistoryRefund), p.HistoryRefundConfirm, requireAdmin)
	settings.POST(in(views.PathHistoryRefund), p.HistoryRefund, requireAdmin)
	settings.GET(in(views.PathLimits), p.LimitsPage)
	settings.POST(in(views.PathLimits), p.SaveLimits, requireAdmin)
	settings.POST(in(views.PathMemberLimit), p.SaveMemberLimit, requireAdmin)
	settings.GET(in(views.PathPlans), p.Plans)
	settings.POST(in(views.PathPlans), p.ChangePlan, requireAdmin)
	settings.POST(in(views.PathPlanCancel), p.CancelPlanChange, requireAdmin)
	settings.GET(in(views.PathPlanCheckout), p.PlanCheckout, requireAdmin)
	settings.POST(in(views.PathPlanCheckout), p.PayPlanCheckout, requireAdmin)
	settings.GET(in(views.PathCalculator), p.Calculator)
	settings.GET(in(views.PathAPIKeys), p.APIKeys)
	settings.POST(in(views.PathAPIKeys), p.CreateAPIKey)
	settings.POST(in(views.PathRevokeKey), p.RevokeAPIKey)
	settings.GET(in(views.PathAccount), p.Account)
	settings.POST(in(views.PathPassword), p.ChangePassword)
	settings.GET(in(views.PathMembers), p.Members)
	settings.POST(in(views.PathRemoveMember), p.RemoveMember, requireAdmin)
	settings.GET(in(views.PathNotifications), p.Notifications)
	settings.POST(in(views.PathNotificationsRead), p.MarkAllNotificationsRead)
	settings.POST(in(views.PathNotificationRead), p.MarkNotificationRead)
	settings.POST(in(views.PathWebhook), p.SaveWebhook, requireAdmin)
	settings.POST(in(views.PathWebhookRotate), p.RotateWebhookSecret, requireAdmin)
	settings.POST(in(views.PathWebhookRemove), p.RemoveWebhook, requireAdmin)
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
