package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

type loginData struct {
	Token, Username, Next, Error string
}

// secure reports whether the request came over TLS, directly or as
// X-Forwarded-Proto says (echo's scheme): a client sending it only makes
// its own cookie HTTPS-only.
func secure(c echo.Context) bool { return c.Scheme() == "https" }

// loginPage shows the sign-in form with a fresh pre-session token, also
// set as a cookie: the sign-in POST must carry both (login CSRF).
func (u *UI) loginPage(c echo.Context) error {
	token := randomToken()
	c.SetCookie(u.cookie(secure(c), loginCookie, token, 3600))
	return u.render(c, http.StatusOK, "login", "Sign in", "", loginData{Token: token, Next: safeNext(c.QueryParam("next"))})
}

// safeNext keeps a post-sign-in destination only if it is a path of this
// server (no open redirect).
func safeNext(next string) string {
	// Browsers drop tabs and newlines from a URL, and read a backslash as
	// a slash: "/\t/host" is "//host", another site.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return ""
	}
	return next
}

// login checks the credentials with auth.Service.Authenticate, which
// throttles as it does for the REST API, and starts a session.
func (u *UI) login(c echo.Context) error {
	req := c.Request()
	ck, err := req.Cookie(loginCookie)
	if err != nil || !sameToken(req.PostFormValue("_csrf"), ck.Value) {
		return u.refuse(c, "The sign-in form expired or did not come from this server. Reload the page and try again.")
	}
	user, password := req.PostFormValue("username"), req.PostFormValue("password")
	next := safeNext(req.PostFormValue("next"))
	p, err := u.auth.Authenticate(req.Context(), user, password, clientip.Of(req))
	if err != nil {
		status := errs.Status(err)
		msg := "Sign-in failed: wrong user name or password."
		if errs.KindOf(err) != errs.Unauthorized {
			u.log.Error("ui sign-in", "err", err)
			msg = "Sign-in failed: internal error."
		}
		token := randomToken()
		c.SetCookie(u.cookie(secure(c), loginCookie, token, 3600))
		return u.render(c, status, "login", "Sign in", "", loginData{Token: token, Username: user, Next: next, Error: msg})
	}
	stamp, err := u.auth.PasswordStamp(req.Context(), p.UserID)
	if err != nil {
		return u.fail(c, err)
	}
	// A session from before sign-in is not kept: a new id each time.
	if old := stateOf(c).sess; old != nil {
		u.sessions.delete(old)
	}
	id, _ := u.sessions.create(p.UserID, stamp)
	c.SetCookie(u.cookie(secure(c), sessionCookie, id, 0))
	c.SetCookie(u.cookie(secure(c), loginCookie, "", -1))
	u.log.Info("ui sign-in", "user", p.UserID)
	if u.auth.MustChangePassword(p.UserID) {
		return u.redirect(c, "/ui/password")
	}
	if next != "" {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return u.redirect(c, "/")
}

// logout ends the session: its id is void from now on, whoever holds it.
func (u *UI) logout(c echo.Context) error {
	if sess := stateOf(c).sess; sess != nil {
		u.sessions.delete(sess)
	}
	c.SetCookie(u.cookie(secure(c), sessionCookie, "", -1))
	return u.redirect(c, "/ui/login")
}

type passwordData struct {
	Forced bool
	Error  string
	Fields map[string]string
}

func (u *UI) passwordPage(c echo.Context) error {
	st := stateOf(c)
	if st.sess == nil {
		return u.redirect(c, "/ui/login?next="+url.QueryEscape(u.prefix+"/ui/password"))
	}
	return u.render(c, http.StatusOK, "password", "Change password", "", passwordData{Forced: u.auth.MustChangePassword(st.sess.user)})
}

// changePassword changes the signed-in user's own password
// (auth.ChangeOwnPassword: the current one is checked first, except for
// the forced change of the first-start password, which the session has
// just proved).
func (u *UI) changePassword(c echo.Context) error {
	st := stateOf(c)
	if st.sess == nil {
		return u.redirect(c, "/ui/login")
	}
	req := c.Request()
	ctx := req.Context()
	data := passwordData{Forced: u.auth.MustChangePassword(st.sess.user), Fields: map[string]string{}}
	again := func(status int) error {
		return u.render(c, status, "password", "Change password", "", data)
	}
	pw := req.PostFormValue("new-password")
	if pw != req.PostFormValue("confirm-password") {
		data.Fields["confirm-password"] = "The two new passwords differ."
		return again(http.StatusBadRequest)
	}
	if err := u.auth.ChangeOwnPassword(ctx, req.PostFormValue("current-password"), pw, clientip.Of(req)); err != nil {
		if errs.KindOf(err) == errs.Unauthorized {
			data.Fields["current-password"] = "This is not your current password."
			return again(http.StatusBadRequest)
		}
		if errs.KindOf(err) == errs.Invalid {
			data.Fields["new-password"] = errs.Message(err)
			return again(http.StatusBadRequest)
		}
		return u.fail(c, err)
	}
	stamp, err := u.auth.PasswordStamp(ctx, st.sess.user)
	if err != nil {
		return u.fail(c, err)
	}
	u.sessions.restamp(st.sess, stamp)
	return u.redirect(c, "/")
}
