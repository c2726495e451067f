package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// userJSON is a user as the Nexus REST API shows it.
type userJSON struct {
	UserID        string   `json:"userId"`
	FirstName     string   `json:"firstName"`
	LastName      string   `json:"lastName"`
	EmailAddress  string   `json:"emailAddress"`
	Source        string   `json:"source"`
	Status        string   `json:"status"`
	ReadOnly      bool     `json:"readOnly"`
	Roles         []string `json:"roles"`
	ExternalRoles []string `json:"externalRoles"`
}

// userCreateJSON is the body of POST /v1/security/users.
type userCreateJSON struct {
	UserID       string   `json:"userId"`
	FirstName    string   `json:"firstName"`
	LastName     string   `json:"lastName"`
	EmailAddress string   `json:"emailAddress"`
	Password     string   `json:"password"`
	Status       string   `json:"status"`
	Roles        []string `json:"roles"`
}

// roleJSON is a role as the Nexus REST API shows and accepts it.
type roleJSON struct {
	ID          string   `json:"id"`
	Source      string   `json:"source,omitempty"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Privileges  []string `json:"privileges"`
	Roles       []string `json:"roles"`
}

// anonymousJSON is the anonymous access setting.
type anonymousJSON struct {
	Enabled   bool   `json:"enabled"`
	UserID    string `json:"userId"`
	RealmName string `json:"realmName"`
}

func toUserJSON(u *meta.User) userJSON {
	return userJSON{UserID: u.ID, FirstName: u.FirstName, LastName: u.LastName, EmailAddress: u.Email,
		Source: u.Source, Status: u.Status, ReadOnly: u.ReadOnly,
		Roles: nonNil(u.Roles), ExternalRoles: []string{}}
}

func toRoleJSON(r *meta.Role) roleJSON {
	return roleJSON{ID: r.ID, Source: r.Source, Name: r.Name, Description: r.Description,
		Privileges: nonNil(r.Privileges), Roles: nonNil(r.Roles)}
}

func (r roleJSON) toRole() *meta.Role {
	return &meta.Role{ID: r.ID, Source: r.Source, Name: r.Name, Description: r.Description, Privileges: r.Privileges, Roles: r.Roles}
}

// nonNil makes empty lists render as [] rather than null, as Nexus does.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// decodeBody reads a JSON request body into v; unknown fields are ignored.
func decodeBody(c echo.Context, v any) error {
	if err := json.NewDecoder(c.Request().Body).Decode(v); err != nil {
		return invalid("body", "malformed JSON: "+err.Error())
	}
	return nil
}

// securityHandlers parse and render; auth.Service decides who may do what.
type securityHandlers struct {
	s   *auth.Service
	log *slog.Logger
}

// registerSecurity mounts the Nexus REST v1 security endpoints (users, roles,
// anonymous access) on g, which is mounted at /service/rest.
func registerSecurity(g *echo.Group, s *auth.Service, log *slog.Logger) {
	h := &securityHandlers{s: s, log: log}
	g.GET("/v1/security/users", h.listUsers)
	g.POST("/v1/security/users", h.createUser)
	g.PUT("/v1/security/users/:userId", h.updateUser)
	g.DELETE("/v1/security/users/:userId", h.deleteUser)
	g.PUT("/v1/security/users/:userId/change-password", h.changePassword)
	g.GET("/v1/security/roles", h.listRoles)
	g.POST("/v1/security/roles", h.createRole)
	g.GET("/v1/security/roles/:id", h.getRole)
	g.PUT("/v1/security/roles/:id", h.updateRole)
	g.DELETE("/v1/security/roles/:id", h.deleteRole)
	g.GET("/v1/security/anonymous", h.getAnonymous)
	g.PUT("/v1/security/anonymous", h.putAnonymous)
	h.registerPrivileges(g)
	h.registerSelectors(g)
}

func (h *securityHandlers) listUsers(c echo.Context) error {
	out := []userJSON{}
	src := c.QueryParam("source")
	if src == meta.SourceLDAP {
		return h.listDirectoryUsers(c)
	}
	// Local users; other sources list nothing.
	if src == "" || src == meta.SourceDefault {
		users, err := h.s.ListUsers(c.Request().Context(), c.QueryParam("userId"))
		if err != nil {
			return fail(c, h.log, err)
		}
		for _, u := range users {
			out = append(out, toUserJSON(u))
		}
	}
	return c.JSON(http.StatusOK, out)
}

// listDirectoryUsers answers ?source=LDAP&userId=<id>: the one user of
// that exact ID in the LDAP servers, if any (directories are not listed
// whole). roles are the roles its groups map to, externalRoles the groups.
func (h *securityHandlers) listDirectoryUsers(c echo.Context) error {
	out := []userJSON{}
	id := c.QueryParam("userId")
	if id == "" {
		return c.JSON(http.StatusOK, out)
	}
	u, roles, err := h.s.DirectoryUser(c.Request().Context(), id)
	switch {
	case errs.KindOf(err) == errs.NotFound:
	case err != nil:
		return fail(c, h.log, err)
	default:
		out = append(out, userJSON{UserID: u.ID, FirstName: u.Name, EmailAddress: u.Email,
			Source: meta.SourceLDAP, Status: meta.UserActive, ReadOnly: true, Roles: nonNil(roles), ExternalRoles: nonNil(u.Groups)})
	}
	return c.JSON(http.StatusOK, out)
}

func (h *securityHandlers) createUser(c echo.Context) error {
	var body userCreateJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	u := &meta.User{ID: body.UserID, FirstName: body.FirstName, LastName: body.LastName,
		Email: body.EmailAddress, Status: body.Status, Roles: body.Roles}
	ctx := c.Request().Context()
	// u then carries what was stored (the assigned source).
	if err := h.s.CreateUser(ctx, u, body.Password); err != nil {
		return fail(c, h.log, err)
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

func (h *securityHandlers) updateUser(c echo.Context) error {
	var body userJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	if body.UserID != c.Param("userId") {
		return fail(c, h.log, invalid("userId", "userId in the body must match the path"))
	}
	u := &meta.User{ID: body.UserID, FirstName: body.FirstName, LastName: body.LastName,
		Email: body.EmailAddress, Status: body.Status, Roles: body.Roles}
	if err := h.s.UpdateUser(c.Request().Context(), u); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) deleteUser(c echo.Context) error {
	if err := h.s.DeleteUser(c.Request().Context(), c.Param("userId")); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("userId")
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return fail(c, h.log, invalid("password", "cannot read the request body"))
	}
	if len(raw) == 0 {
		return fail(c, h.log, invalid("password", "password is required"))
	}
	if err := h.s.ChangePassword(ctx, id, string(raw)); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) listRoles(c echo.Context) error {
	out := []roleJSON{}
	roles, err := h.s.ListRoles(c.Request().Context())
	if err != nil {
		return fail(c, h.log, err)
	}
	// ?source= picks one source's roles: "default" or "LDAP" (the
	// external role mappings); any other source has none.
	src := c.QueryParam("source")
	for _, r := range roles {
		if src == "" || src == r.Source {
			out = append(out, toRoleJSON(r))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (h *securityHandlers) getRole(c echo.Context) error {
	r, err := h.s.GetRole(c.Request().Context(), c.Param("id"))
	if err != nil {
		return fail(c, h.log, err)
	}
	return c.JSON(http.StatusOK, toRoleJSON(r))
}

func (h *securityHandlers) createRole(c echo.Context) error {
	var body roleJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	r := body.toRole()
	if err := h.s.CreateRole(c.Request().Context(), r); err != nil {
		return fail(c, h.log, err)
	}
	return c.JSON(http.StatusOK, toRoleJSON(r))
}

func (h *securityHandlers) updateRole(c echo.Context) error {
	var body roleJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	if body.ID != c.Param("id") {
		return fail(c, h.log, invalid("id", "id in the body must match the path"))
	}
	if err := h.s.UpdateRole(c.Request().Context(), body.toRole()); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) deleteRole(c echo.Context) error {
	if err := h.s.DeleteRole(c.Request().Context(), c.Param("id")); err != nil {
		return fail(c, h.log, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *securityHandlers) getAnonymous(c echo.Context) error {
	set, err := h.s.Anonymous(c.Request().Context())
	if err != nil {
		return fail(c, h.log, err)
	}
	return writeAnonymous(c, set)
}

func (h *securityHandlers) putAnonymous(c echo.Context) error {
	var body anonymousJSON
	if err := decodeBody(c, &body); err != nil {
		return fail(c, h.log, err)
	}
	set := meta.AnonymousSettings{Enabled: body.Enabled, UserID: body.UserID, RealmName: body.RealmName}
	stored, err := h.s.SetAnonymous(c.Request().Context(), set)
	if err != nil {
		return fail(c, h.log, err)
	}
	return writeAnonymous(c, stored)
}

func writeAnonymous(c echo.Context, set meta.AnonymousSettings) error {
	return c.JSON(http.StatusOK, anonymousJSON{Enabled: set.Enabled, UserID: set.UserID, RealmName: set.RealmName})
}
