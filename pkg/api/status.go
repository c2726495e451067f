package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func (a *API) registerStatus(g *echo.Group) {
	g.GET("/v1/status", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	g.GET("/v1/status/writable", a.writable)
	g.GET("/v1/status/check", a.check)
}

// writable answers 200 when the server can accept writes, 503 otherwise:
// frozen, or the metadata database refuses them.
func (a *API) writable(c echo.Context) error {
	if err := a.repos.CheckWritable(); err != nil {
		if errs.KindOf(err) != errs.Unavailable {
			a.log.Error("status: metadata not writable", "err", err)
		}
		return c.NoContent(http.StatusServiceUnavailable)
	}
	return c.NoContent(http.StatusOK)
}

// healthCheck is one named result of /v1/status/check, in Nexus's shape.
type healthCheck struct {
	Healthy   bool   `json:"healthy"`
	Message   string `json:"message,omitempty"`
	Error     any    `json:"error"`
	Details   any    `json:"details"`
	Time      int64  `json:"time"`
	Duration  int64  `json:"duration"`
	Timestamp string `json:"timestamp"`
}

// check renders the engine's health checks by name.
func (a *API) check(c echo.Context) error {
	checks, err := a.repos.Health(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	out := map[string]healthCheck{}
	for _, h := range checks {
		out[h.Name] = healthCheck{Healthy: h.Healthy, Message: h.Message, Details: h.Details, Time: h.Start.UnixMilli(),
			Duration: h.Duration.Milliseconds(), Timestamp: h.Start.UTC().Format(time.RFC3339)}
	}
	return a.ok(c, out)
}
