package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerRealms mounts /v1/security/realms and, with it, /v1/security/ldap.
func (a *API) registerRealms(g *echo.Group) {
	g.GET("/v1/security/realms/available", a.availableRealms)
	g.GET("/v1/security/realms/active", a.activeRealms)
	g.PUT("/v1/security/realms/active", a.setActiveRealms)
	a.registerLDAP(g)
}

type realmJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (a *API) availableRealms(c echo.Context) error {
	realms, err := a.auth.AvailableRealms(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	out := make([]realmJSON, len(realms))
	for i, r := range realms {
		out[i] = realmJSON{ID: r.ID, Name: r.Name}
	}
	return a.ok(c, out)
}

func (a *API) activeRealms(c echo.Context) error {
	ids, err := a.auth.ActiveRealms(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, nonNil(ids))
}

func (a *API) setActiveRealms(c echo.Context) error {
	var ids []string
	if err := decodeBody(c, &ids); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.auth.SetActiveRealms(c.Request().Context(), ids); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
