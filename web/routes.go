package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/luxstudio/lux-billing/handlers"
)

// routes lists every route of the server in one place.
func (s *Server) routes() {
	e := s.echo
	api := handlers.NewAPI(s.billing)

	e.GET("/healthz", s.healthz)
	e.GET("/metrics", echo.WrapHandler(promhttp.Handler()))

	v1 := e.Group("/api/v1", api.RequireAPIKey)
	v1.POST("/usage", api.PostUsage)
	v1.POST("/authorize", api.PostAuthorize)
	v1.GET("/executions/:id", api.GetExecution)
	v1.GET("/credits", api.GetCredits)
	v1.GET("/usage", api.GetUsage)
}

// healthz answers 200 when the server can reach its database, 503 otherwise.
func (s *Server) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.billing.DB().PingContext(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
