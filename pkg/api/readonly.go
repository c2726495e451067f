package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

func (a *API) registerReadOnly(g *echo.Group) {
	g.GET("/v1/read-only", a.readOnlyState)
	g.POST("/v1/read-only/freeze", a.setReadOnly(true))
	g.POST("/v1/read-only/release", a.setReadOnly(false))
	g.POST("/v1/read-only/force-release", a.setReadOnly(false))
}

func (a *API) readOnlyState(c echo.Context) error {
	s, err := a.repos.ReadOnly(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, s)
}

// setReadOnly answers 204, or 404 when the state does not change (as
// Nexus does).
func (a *API) setReadOnly(frozen bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := a.repos.SetReadOnly(c.Request().Context(), frozen); err != nil {
			return fail(c, a.log, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// writelessPosts are the routes posted to that write nothing: stopping a
// task (cancelling a run), a cleanup preview (a query with a body) and
// an email verification (it only sends).
var writelessPosts = map[string]bool{
	"/v1/tasks/:id/stop":           true,
	"/v1/cleanup-policies/preview": true,
	"/v1/email/verify":             true,
}

// refuseWhileFrozen is the one check of the API's writes while the server
// is read-only: every method but GET and HEAD is refused with 503, except
// the read-only endpoints themselves and writelessPosts. (The engine
// refuses content and repository writes again on its own; this covers the
// rest, security.)
func (a *API) refuseWhileFrozen(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := strings.TrimPrefix(c.Path(), a.prefix+"/service/rest")
		switch m := c.Request().Method; {
		case m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions:
		case strings.HasPrefix(route, "/v1/read-only"):
		case m == http.MethodPost && writelessPosts[route]:
		default:
			if err := a.repos.Writable(); err != nil {
				return fail(c, a.log, err)
			}
		}
		return next(c)
	}
}
