package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// privilegeJSON is a privilege as Nexus shows it; the fields of other
// types are left out.
type privilegeJSON struct {
	Type            string   `json:"type"`
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	ReadOnly        bool     `json:"readOnly"`
	Domain          string   `json:"domain,omitempty"`
	Actions         []string `json:"actions,omitempty"`
	Format          string   `json:"format,omitempty"`
	Repository      string   `json:"repository,omitempty"`
	ContentSelector string   `json:"contentSelector,omitempty"`
	Pattern         string   `json:"pattern,omitempty"`
	ScriptName      string   `json:"scriptName,omitempty"`
}

func toPrivilegeJSON(p auth.PrivilegeInfo) privilegeJSON {
	return privilegeJSON{Type: p.Type, Name: p.Name, Description: p.Description, ReadOnly: p.ReadOnly,
		Domain: p.Domain, Actions: p.Actions, Format: p.Format, Repository: p.Repository,
		ContentSelector: p.ContentSelector, Pattern: p.Pattern, ScriptName: p.ScriptName}
}

// privilegeTypes are the path segments of the create and update routes.
var privilegeTypes = []string{auth.TypeApplication, auth.TypeRepositoryView, auth.TypeRepositoryAdmin,
	auth.TypeContentSelector, auth.TypeWildcard, auth.TypeScript}

// registerPrivileges mounts /v1/security/privileges.
func (h *securityHandlers) registerPrivileges(g *echo.Group) {
	g.GET("/v1/security/privileges", h.listPrivileges)
	g.GET("/v1/security/privileges/:name", h.getPrivilege)
	g.DELETE("/v1/security/privileges/:name", h.deletePrivilege)
	for _, t := range privilegeTypes {
		g.POST("/v1/security/privileges/"+t, h.createPrivilege(t))
		g.PUT("/v1/security/privileges/"+t+"/:name", h.updatePrivilege(t))
	}
}

func (h *securityHandlers) listPrivileges(c echo.Context) error {
	privs, err := h.s.ListPrivileges(c.Request().Context())
	if err != nil {
		return fail(c, h.log, err)
	}
	out := make([]privilegeJSON, 0, len(privs))
	for _, p := range privs {
		out = append(out, toPrivilegeJSON(p))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *securityHandlers) getPrivilege(c echo.Context) error {
	p, err := h.s.GetPrivilege(c.Request().Context(), c.Param("name"))
	if err != nil {
		return fail(c, h.log, err)
	}
	return c.JSON(http.StatusOK, toPrivilegeJSON(p))
}

func (h *securityHandlers) deletePrivilege(c echo.Context) error {
	if err := h.s.DeletePrivilege(c.Request().Context(), c.Param("name")); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// privilegeBody reads a privilege of type typ.
func privilegeBody(c echo.Context, typ string) (*meta.Privilege, error) {
	var body privilegeJSON
	if err := decodeBody(c, &body); err != nil {
		return nil, err
	}
	return &meta.Privilege{Name: body.Name, Type: typ, Description: body.Description, Actions: body.Actions,
		Domain: body.Domain, Format: body.Format, Repository: body.Repository,
		ContentSelector: body.ContentSelector, Pattern: body.Pattern, ScriptName: body.ScriptName}, nil
}

func (h *securityHandlers) createPrivilege(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := privilegeBody(c, typ)
		if err == nil {
			err = h.s.CreatePrivilege(c.Request().Context(), p)
		}
		if err != nil {
			return fail(c, h.log, err)
		}
		return c.NoContent(http.StatusCreated)
	}
}

func (h *securityHandlers) updatePrivilege(typ string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := privilegeBody(c, typ)
		if err != nil {
			return fail(c, h.log, err)
		}
		if p.Name != "" && p.Name != c.Param("name") {
			return fail(c, h.log, invalid("name", "name in the body must match the path"))
		}
		p.Name = c.Param("name")
		if err := h.s.UpdatePrivilege(c.Request().Context(), p); err != nil {
			return fail(c, h.log, err)
		}
		return c.NoContent(http.StatusNoContent)
	}
}
