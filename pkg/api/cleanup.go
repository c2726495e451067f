package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/cleanup"
)

// WithCleanup serves /v1/cleanup-policies over s.
func (a *API) WithCleanup(s *cleanup.Service) *API {
	a.cleanup = s
	return a
}

func (a *API) registerCleanup(g *echo.Group) {
	if a.cleanup == nil {
		return
	}
	g.GET("/v1/cleanup-policies", a.listCleanupPolicies)
	g.POST("/v1/cleanup-policies", a.createCleanupPolicy)
	g.POST("/v1/cleanup-policies/preview", a.previewCleanupPolicy)
	g.GET("/v1/cleanup-policies/:name", a.getCleanupPolicy)
	g.PUT("/v1/cleanup-policies/:name", a.updateCleanupPolicy)
	g.DELETE("/v1/cleanup-policies/:name", a.deleteCleanupPolicy)
}

func (a *API) listCleanupPolicies(c echo.Context) error {
	ps, err := a.cleanup.List(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, ps)
}

func (a *API) getCleanupPolicy(c echo.Context) error {
	p, err := a.cleanup.Get(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, p)
}

func (a *API) createCleanupPolicy(c echo.Context) error {
	var p cleanup.Policy
	if err := decodeBody(c, &p); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.cleanup.Create(c.Request().Context(), p); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("cleanup policy created", "policy", p.Name)
	created, err := a.cleanup.Get(c.Request().Context(), p.Name)
	if err != nil {
		return fail(c, a.log, err)
	}
	return c.JSON(http.StatusCreated, created)
}

func (a *API) updateCleanupPolicy(c echo.Context) error {
	var p cleanup.Policy
	if err := decodeBody(c, &p); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.cleanup.Update(c.Request().Context(), c.Param("name"), p); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("cleanup policy updated", "policy", c.Param("name"))
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteCleanupPolicy(c echo.Context) error {
	if err := a.cleanup.Delete(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	a.log.Info("cleanup policy deleted", "policy", c.Param("name"))
	return c.NoContent(http.StatusNoContent)
}

// previewJSON is the body of a preview: a policy (stored or not) and the
// repository to try it on.
type previewJSON struct {
	cleanup.Policy
	Repository string `json:"repository"`
}

// previewCleanupPolicy lists, in /v1/components' shape, the components a
// run of the policy would delete from the repository now.
func (a *API) previewCleanupPolicy(c echo.Context) error {
	var in previewJSON
	if err := decodeBody(c, &in); err != nil {
		return fail(c, a.log, err)
	}
	if in.Name == "" {
		in.Name = "preview" // a policy being written may have no name yet
	}
	if in.Repository == "" {
		return fail(c, a.log, invalid("repository", "may not be empty"))
	}
	cands, err := a.cleanup.Preview(c.Request().Context(), in.Policy, in.Repository)
	if err != nil {
		return fail(c, a.log, err)
	}
	items := make([]componentJSON, 0, len(cands))
	for _, cand := range cands {
		cj, err := a.componentJSON(c, cand.Component)
		if err != nil {
			return fail(c, a.log, err)
		}
		items = append(items, cj)
	}
	return a.ok(c, newPage(items, ""))
}
