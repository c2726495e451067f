package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

func (a *API) registerStatus(g *echo.Group) {
	g.GET("/v1/status", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	g.GET("/v1/status/writable", a.writable)
	g.GET("/v1/status/check", a.check)
}

// writable answers 200 when the server can accept writes, 503 otherwise.
func (a *API) writable(c echo.Context) error {
	if err := a.db.Writable(); err != nil {
		a.log.Error("status: metadata not writable", "err", err)
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

func (a *API) check(c echo.Context) error {
	// Nexus guards the health checks with nx-metrics-all, not the
	// anonymous role's nx-healthcheck-read: they name repositories and
	// describe the server's state.
	if err := a.auth.Require(c.Request().Context(), auth.Application("metrics", "read")); err != nil {
		return fail(c, a.log, err)
	}
	ctx := c.Request().Context()
	run := func(fn func() (bool, string)) healthCheck {
		start := time.Now()
		ok, msg := fn()
		return healthCheck{Healthy: ok, Message: msg, Time: start.UnixMilli(),
			Duration: time.Since(start).Milliseconds(), Timestamp: start.UTC().Format(time.RFC3339)}
	}
	out := map[string]healthCheck{
		"Metadata Database": run(func() (bool, string) {
			if err := a.db.Writable(); err != nil {
				return false, "metadata database is not writable"
			}
			return true, "metadata database is writable"
		}),
		"Blob Stores Ready": run(func() (bool, string) {
			for _, s := range a.repos.BlobStores() {
				free, low, err := s.SpaceLow(ctx)
				if err != nil {
					return false, "blob store " + s.Name() + ": free space unknown"
				}
				if low {
					return false, fmt.Sprintf("blob store %s has %d bytes available, at or below blobstore.min-free-space", s.Name(), free)
				}
			}
			return true, "all blob stores have space available"
		}),
		"Proxy Repositories": run(func() (bool, string) {
			for _, r := range a.repos.List() {
				if st := r.Status(); st.Blocked {
					return false, "repository " + r.Name() + " is blocked"
				}
			}
			return true, "no proxy repository is blocked"
		}),
	}
	return a.ok(c, out)
}
