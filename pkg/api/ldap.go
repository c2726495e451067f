package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/ldap"
)

// WithLDAP serves /v1/security/ldap from d.
func (a *API) WithLDAP(d *ldap.Directory) *API {
	a.ldap = d
	return a
}

// registerLDAP mounts /v1/security/ldap when an LDAP realm is plugged in.
func (a *API) registerLDAP(g *echo.Group) {
	if a.ldap == nil {
		return
	}
	g.GET("/v1/security/ldap", a.listLDAP)
	g.POST("/v1/security/ldap", a.createLDAP)
	g.POST("/v1/security/ldap/change-order", a.orderLDAP)
	g.GET("/v1/security/ldap/:name", a.getLDAP)
	g.PUT("/v1/security/ldap/:name", a.updateLDAP)
	g.DELETE("/v1/security/ldap/:name", a.deleteLDAP)
}

func (a *API) listLDAP(c echo.Context) error {
	servers, err := a.ldap.List(c.Request().Context())
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, servers)
}

func (a *API) getLDAP(c echo.Context) error {
	s, err := a.ldap.Get(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, a.log, err)
	}
	return a.ok(c, s)
}

func (a *API) createLDAP(c echo.Context) error {
	var s ldap.Server
	if err := decodeBody(c, &s); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.ldap.Create(c.Request().Context(), s); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusCreated)
}

func (a *API) updateLDAP(c echo.Context) error {
	var s ldap.Server
	if err := decodeBody(c, &s); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.ldap.Update(c.Request().Context(), c.Param("name"), s); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) deleteLDAP(c echo.Context) error {
	if err := a.ldap.Delete(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) orderLDAP(c echo.Context) error {
	var names []string
	if err := decodeBody(c, &names); err != nil {
		return fail(c, a.log, err)
	}
	if err := a.ldap.ChangeOrder(c.Request().Context(), names); err != nil {
		return fail(c, a.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}
