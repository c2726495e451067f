package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func (a *API) registerRouting(g *echo.Group) {
	g.GET("/v1/routing-rules", a.listRoutingRules)
	g.POST("/v1/routing-rules", a.createRoutingRule)
	g.GET("/v1/routing-rules/:name", a.getRoutingRule)
	g.PUT("/v1/routing-rules/:name", a.updateRoutingRule)
	g.DELETE("/v1/routing-rules/:name", a.deleteRoutingRule)
}

func (a *API) listRoutingRules(c echo.Context) error {
	rules, err := a.repos.RoutingRules(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, rules)
}

func (a *API) getRoutingRule(c echo.Context) error {
	r, err := a.repos.RoutingRule(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, r)
}

func decodeRoutingRule(c echo.Context) (repo.RoutingRule, error) {
	var r repo.RoutingRule
	body, err := readBody(c)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, errs.Wrap(errs.Invalid, err, "the body is not a routing rule in JSON")
	}
	return r, nil
}

// createRoutingRule answers 204, as Nexus does.
func (a *API) createRoutingRule(c echo.Context) error {
	r, err := decodeRoutingRule(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if err := a.repos.SaveRoutingRule(c.Request().Context(), r, true); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// updateRoutingRule replaces the rule of the path; the body's name must
// be that one (renaming is not supported).
func (a *API) updateRoutingRule(c echo.Context) error {
	r, err := decodeRoutingRule(c)
	if err != nil {
		return fail(c, a.log, err)
	}
	if r.Name == "" {
		r.Name = c.Param("name")
	}
	if r.Name != c.Param("name") {
		return fail(c, a.log, invalid("name", "does not match the routing rule in the path"))
	}
	if err := a.repos.SaveRoutingRule(c.Request().Context(), r, false); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteRoutingRule(c echo.Context) error {
	if err := a.repos.DeleteRoutingRule(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
