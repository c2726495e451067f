package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// registerSecurity mounts the users, roles, anonymous access, token and
// npm web login pages.
func (u *UI) registerSecurity(g routes) {
	g.GET("/ui/security", func(c echo.Context) error { return u.redirect(c, "/ui/security/users") })
	g.GET("/ui/security/users", u.users)
	g.GET("/ui/security/users/new", u.newUser)
	g.POST("/ui/security/users/new", u.createUser)
	g.GET("/ui/security/users/:id", u.user)
	g.POST("/ui/security/users/:id", u.updateUser)
	g.POST("/ui/security/users/:id/password", u.resetPassword)
	g.GET("/ui/security/users/:id/delete", u.confirmDeleteUser)
	g.POST("/ui/security/users/:id/delete", u.deleteUser)
	g.GET("/ui/security/roles", u.roles)
	g.GET("/ui/security/roles/new", u.newRole)
	g.POST("/ui/security/roles/new", u.createRole)
	g.GET("/ui/security/roles/:id", u.role)
	g.POST("/ui/security/roles/:id", u.updateRole)
	g.GET("/ui/security/roles/:id/delete", u.confirmDeleteRole)
	g.POST("/ui/security/roles/:id/delete", u.deleteRole)
	g.GET("/ui/security/anonymous", u.anonymous)
	g.POST("/ui/security/anonymous", u.setAnonymous)
	g.GET("/ui/security/tokens", u.tokens)
	g.POST("/ui/security/tokens/revoke", u.revokeToken)
	g.GET("/ui/npm-login/:id", u.webLogin)
	g.POST("/ui/npm-login/:id", u.approveWebLogin)
}

type securityNav struct {
	CanRoles, CanAnonymous, CanCreate, CanEdit, CanDelete bool
}

func (u *UI) securityNav(c echo.Context, kind string) securityNav {
	return securityNav{
		CanRoles:     u.may(c, auth.Application("roles", "read")),
		CanAnonymous: u.may(c, auth.Application("settings", "read")),
		CanCreate:    u.may(c, auth.Application(kind, "create")),
		CanEdit:      u.may(c, auth.Application(kind, "update")),
		CanDelete:    u.may(c, auth.Application(kind, "delete")),
	}
}

type usersData struct {
	Nav   securityNav
	Users []*meta.User
}

func (u *UI) users(c echo.Context) error {
	users, err := u.auth.ListUsers(c.Request().Context(), "")
	if err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "users", "Users", "security", usersData{Nav: u.securityNav(c, "users"), Users: users})
}

type userData struct {
	Nav     securityNav
	New     bool
	User    meta.User
	Roles   []*meta.Role
	Errors  map[string]string
	Alert   string
	Notice  string
	IsSelf  bool
	Editing bool
	Tokens  []auth.TokenInfo
}

func (u *UI) userForm(c echo.Context, status int, d userData) error {
	roles, err := u.auth.ListRoles(c.Request().Context())
	if err != nil && errs.KindOf(err) != errs.Forbidden {
		return u.fail(c, err)
	}
	d.Roles, d.Nav = roles, u.securityNav(c, "users")
	d.Editing = d.New && d.Nav.CanCreate || !d.New && d.Nav.CanEdit
	d.IsSelf = d.User.ID == stateOf(c).p.UserID
	if !d.New {
		// The user's npm tokens, for those who may see them.
		if d.Tokens, err = u.auth.Tokens(c.Request().Context(), d.User.ID, auth.NpmRealm); err != nil && !refused(err) {
			return u.fail(c, err)
		}
	}
	title := "User " + d.User.ID
	if d.New {
		title = "New user"
	}
	return u.render(c, status, "user", title, "security", d)
}

func (u *UI) newUser(c echo.Context) error {
	return u.userForm(c, http.StatusOK, userData{New: true, User: meta.User{Status: meta.UserActive}})
}

// userFromForm reads the user form.
func userFromForm(c echo.Context) meta.User {
	form, _ := c.FormParams()
	return meta.User{ID: strings.TrimSpace(form.Get("userId")), FirstName: form.Get("firstName"), LastName: form.Get("lastName"),
		Email: form.Get("emailAddress"), Status: form.Get("status"), Roles: form["roles"]}
}

// invalidOrFail renders a form again with an invalid input's message, and
// any other error as its page.
func (u *UI) invalidOrFail(c echo.Context, err error, again func(alert string) error) error {
	if k := errs.KindOf(err); k == errs.Invalid || k == errs.Conflict {
		return again(errs.Message(err))
	}
	return u.fail(c, err)
}

func (u *UI) createUser(c echo.Context) error {
	usr := userFromForm(c)
	if err := u.auth.CreateUser(c.Request().Context(), &usr, c.FormValue("password")); err != nil {
		return u.invalidOrFail(c, err, func(alert string) error {
			return u.userForm(c, errs.Status(err), userData{New: true, User: usr, Alert: alert})
		})
	}
	u.log.Info("user created", "userId", usr.ID, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/users/"+url.PathEscape(usr.ID))
}

func (u *UI) user(c echo.Context) error {
	usr, err := u.auth.GetUser(c.Request().Context(), c.Param("id"))
	if err != nil {
		return u.fail(c, err)
	}
	d := userData{User: *usr}
	if c.QueryParam("saved") != "" {
		d.Notice = "Saved."
	}
	return u.userForm(c, http.StatusOK, d)
}

func (u *UI) updateUser(c echo.Context) error {
	usr := userFromForm(c)
	usr.ID = c.Param("id")
	if err := u.auth.UpdateUser(c.Request().Context(), &usr); err != nil {
		return u.invalidOrFail(c, err, func(alert string) error {
			return u.userForm(c, errs.Status(err), userData{User: usr, Alert: alert})
		})
	}
	u.log.Info("user updated", "userId", usr.ID, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/users/"+url.PathEscape(usr.ID)+"?saved=1")
}

// resetPassword sets another user's password (an administrator's reset)
// and ends that user's sessions.
func (u *UI) resetPassword(c echo.Context) error {
	id := c.Param("id")
	// A session proves no password: one's own is changed on the password
	// page, which asks for the current one.
	if id == stateOf(c).p.UserID {
		return u.redirect(c, "/ui/password")
	}
	if err := u.auth.ChangePassword(c.Request().Context(), id, c.FormValue("password")); err != nil {
		return u.invalidOrFail(c, err, func(alert string) error {
			usr, gerr := u.auth.GetUser(c.Request().Context(), id)
			if gerr != nil {
				return u.fail(c, gerr)
			}
			return u.userForm(c, errs.Status(err), userData{User: *usr, Errors: map[string]string{"password": alert}})
		})
	}
	u.sessions.endUser(id)
	u.log.Info("password reset", "userId", id, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/users/"+url.PathEscape(id)+"?saved=1")
}

func (u *UI) confirmDeleteUser(c echo.Context) error {
	id := c.Param("id")
	if _, err := u.auth.GetUser(c.Request().Context(), id); err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "confirm", "Delete user "+id, "security", confirmData{What: "user " + id, Name: id,
		Action: u.prefix + "/ui/security/users/" + url.PathEscape(id) + "/delete", Back: u.prefix + "/ui/security/users/" + url.PathEscape(id)})
}

func (u *UI) deleteUser(c echo.Context) error {
	id := c.Param("id")
	if err := u.auth.DeleteUser(c.Request().Context(), id); err != nil {
		return u.fail(c, err)
	}
	u.sessions.endUser(id)
	u.log.Info("user deleted", "userId", id, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/users")
}

type rolesData struct {
	Nav   securityNav
	Roles []*meta.Role
}

func (u *UI) roles(c echo.Context) error {
	roles, err := u.auth.ListRoles(c.Request().Context())
	if err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "roles", "Roles", "security", rolesData{Nav: u.securityNav(c, "roles"), Roles: roles})
}

type roleData struct {
	Nav     securityNav
	New     bool
	Role    meta.Role
	All     []*meta.Role
	Alert   string
	Notice  string
	Editing bool
}

func (u *UI) roleForm(c echo.Context, status int, d roleData) error {
	all, err := u.auth.ListRoles(c.Request().Context())
	if err != nil {
		return u.fail(c, err)
	}
	d.All = slices.DeleteFunc(all, func(r *meta.Role) bool { return r.ID == d.Role.ID && !d.New })
	d.Nav = u.securityNav(c, "roles")
	d.Editing = (d.New && d.Nav.CanCreate || !d.New && d.Nav.CanEdit) && !d.Role.ReadOnly
	title := "Role " + d.Role.ID
	if d.New {
		title = "New role"
	}
	return u.render(c, status, "role", title, "security", d)
}

func roleFromForm(c echo.Context) meta.Role {
	form, _ := c.FormParams()
	var privs []string
	for _, l := range strings.Split(form.Get("privileges"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			privs = append(privs, l)
		}
	}
	return meta.Role{ID: strings.TrimSpace(form.Get("id")), Name: form.Get("name"), Description: form.Get("description"),
		Privileges: privs, Roles: form["roles"]}
}

func (u *UI) newRole(c echo.Context) error {
	return u.roleForm(c, http.StatusOK, roleData{New: true})
}

func (u *UI) createRole(c echo.Context) error {
	r := roleFromForm(c)
	if err := u.auth.CreateRole(c.Request().Context(), &r); err != nil {
		return u.invalidOrFail(c, err, func(alert string) error {
			return u.roleForm(c, errs.Status(err), roleData{New: true, Role: r, Alert: alert})
		})
	}
	u.log.Info("role created", "roleId", r.ID, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/roles/"+url.PathEscape(r.ID))
}

func (u *UI) role(c echo.Context) error {
	r, err := u.auth.GetRole(c.Request().Context(), c.Param("id"))
	if err != nil {
		return u.fail(c, err)
	}
	d := roleData{Role: *r}
	if c.QueryParam("saved") != "" {
		d.Notice = "Saved."
	}
	return u.roleForm(c, http.StatusOK, d)
}

func (u *UI) updateRole(c echo.Context) error {
	r := roleFromForm(c)
	r.ID = c.Param("id")
	if err := u.auth.UpdateRole(c.Request().Context(), &r); err != nil {
		return u.invalidOrFail(c, err, func(alert string) error {
			return u.roleForm(c, errs.Status(err), roleData{Role: r, Alert: alert})
		})
	}
	u.log.Info("role updated", "roleId", r.ID, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/roles/"+url.PathEscape(r.ID)+"?saved=1")
}

func (u *UI) confirmDeleteRole(c echo.Context) error {
	id := c.Param("id")
	return u.render(c, http.StatusOK, "confirm", "Delete role "+id, "security", confirmData{What: "role " + id, Name: id,
		Action: u.prefix + "/ui/security/roles/" + url.PathEscape(id) + "/delete", Back: u.prefix + "/ui/security/roles/" + url.PathEscape(id)})
}

func (u *UI) deleteRole(c echo.Context) error {
	id := c.Param("id")
	if err := u.auth.DeleteRole(c.Request().Context(), id); err != nil {
		return u.fail(c, err)
	}
	u.log.Info("role deleted", "roleId", id, "by", stateOf(c).p.UserID)
	return u.redirect(c, "/ui/security/roles")
}

type anonymousData struct {
	Nav      securityNav
	Settings meta.AnonymousSettings
	CanEdit  bool
	Notice   string
	Alert    string
}

func (u *UI) anonymous(c echo.Context) error {
	set, err := u.auth.Anonymous(c.Request().Context())
	if err != nil {
		return u.fail(c, err)
	}
	d := anonymousData{Nav: u.securityNav(c, "users"), Settings: set, CanEdit: u.may(c, auth.Application("settings", "update"))}
	if c.QueryParam("saved") != "" {
		d.Notice = "Saved."
	}
	return u.render(c, http.StatusOK, "anonymous", "Anonymous access", "security", d)
}

// setAnonymous stores the form's settings: the anonymous user and realm
// it was shown with, access on or off.
func (u *UI) setAnonymous(c echo.Context) error {
	set := meta.AnonymousSettings{Enabled: c.FormValue("enabled") == "true", UserID: c.FormValue("userId"), RealmName: c.FormValue("realmName")}
	if _, err := u.auth.SetAnonymous(c.Request().Context(), set); err != nil {
		return u.fail(c, err)
	}
	return u.redirect(c, "/ui/security/anonymous?saved=1")
}

type tokensData struct {
	Tokens []auth.TokenInfo
}

// tokens lists the signed-in user's npm tokens.
func (u *UI) tokens(c echo.Context) error {
	st := stateOf(c)
	if st.sess == nil {
		return u.fail(c, errs.New(errs.Unauthorized, "authentication required"))
	}
	ts, err := u.auth.Tokens(c.Request().Context(), st.sess.user, auth.NpmRealm)
	if err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "tokens", "Your npm tokens", "", tokensData{Tokens: ts})
}

// revokeToken revokes one of the signed-in user's tokens, or of the user
// the form names (an administrator on a user's page; the service decides).
func (u *UI) revokeToken(c echo.Context) error {
	user, back := c.FormValue("user"), "/ui/security/tokens"
	if user == "" {
		user = stateOf(c).sess.user
	} else {
		back = "/ui/security/users/" + url.PathEscape(user)
	}
	if err := u.auth.RevokeToken(c.Request().Context(), user, c.FormValue("key")); err != nil {
		return u.fail(c, err)
	}
	return u.redirect(c, back)
}

type webLoginData struct {
	ID    string
	Login auth.WebLogin
	Done  bool
}

// webLogin shows a pending npm web login for the signed-in user to
// approve.
func (u *UI) webLogin(c echo.Context) error {
	if !signedIn(c) {
		return u.redirect(c, "/ui/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	l, err := u.auth.PendingWebLogin(c.Param("id"))
	if err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "weblogin", "Approve npm login", "", webLoginData{ID: c.Param("id"), Login: l})
}

func (u *UI) approveWebLogin(c echo.Context) error {
	if err := u.auth.ApproveWebLogin(c.Request().Context(), c.Param("id")); err != nil {
		return u.fail(c, err)
	}
	return u.render(c, http.StatusOK, "weblogin", "Approve npm login", "", webLoginData{Done: true})
}
