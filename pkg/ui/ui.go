// Package ui is the admin web UI: server-rendered pages over the same
// services as the REST API (auth.Service, repo.Manager, search), with
// sessions, CSRF protection and the forced change of the first-start
// admin password. It holds no rules of its own: what a caller may see or
// do is what the services answer.
package ui

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/search"
	"github.com/nexus-go/nexus-go/web"
)

// Options configure the UI.
type Options struct {
	// ContextPath is the server's context path ("/" or "/nexus").
	ContextPath string
	// SessionTimeout ends sessions unused this long (ui.session-timeout).
	SessionTimeout time.Duration
	// Version is shown on the dashboard.
	Version string
	// Now is the clock of session timeouts; nil is time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// UI serves the pages. Register mounts it.
type UI struct {
	repos    *repo.Manager
	auth     *auth.Service
	finder   *search.Service
	opts     Options
	log      *slog.Logger
	prefix   string // the context path without its trailing slash
	sessions *sessions
	pages    map[string]*template.Template
	static   http.Handler
	// assets tags the static files' URLs, so that browsers fetch them
	// anew after an upgrade despite their caching.
	assets string
	cop    *http.CrossOriginProtection
}

// maxFormBytes bounds what a page's form may post.
const maxFormBytes = 1 << 20

// New returns the UI over the services.
func New(repos *repo.Manager, authn *auth.Service, srch *search.Service, opts Options) (*UI, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTimeout <= 0 {
		opts.SessionTimeout = 30 * time.Minute
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	u := &UI{repos: repos, auth: authn, finder: srch, opts: opts, log: opts.Log, prefix: strings.TrimSuffix(opts.ContextPath, "/"),
		sessions: newSessions(opts.SessionTimeout, opts.Now), cop: http.NewCrossOriginProtection()}
	pages, err := parsePages(u.funcs())
	if err != nil {
		return nil, err
	}
	u.pages = pages
	static, err := fs.Sub(web.UI, "static")
	if err != nil {
		return nil, err
	}
	if u.assets, err = assetsTag(static); err != nil {
		return nil, err
	}
	u.static = http.StripPrefix(u.prefix+"/ui/static/", http.FileServerFS(static))
	return u, nil
}

// assetsTag is a short hash of the static files.
func assetsTag(static fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)[:6]), err
}

// parsePages parses every page template with the layout and partials.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	names, err := fs.Glob(web.UI, "templates/ui/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/ui/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(web.UI, "templates/ui/layout.html", "templates/ui/partials.html", n)
		if err != nil {
			return nil, err
		}
		out[base] = t
	}
	return out, nil
}

// Register mounts the UI on g, the server's root group: the dashboard at
// "/", the rest under /ui/.
func (u *UI) Register(g *echo.Group) {
	g.GET("/ui/static/*", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		u.static.ServeHTTP(c.Response(), c.Request())
		return nil
	})
	// Route-level middleware: a group's own would add catch-all routes
	// that shadow the server's others.
	p := routes{g: g, mw: u.middleware}
	p.GET("/", u.dashboard)
	p.GET("/ui", func(c echo.Context) error { return c.Redirect(http.StatusFound, u.prefix+"/") })
	p.GET("/ui/", func(c echo.Context) error { return c.Redirect(http.StatusFound, u.prefix+"/") })
	p.GET("/ui/login", u.loginPage)
	p.POST("/ui/login", u.login)
	p.POST("/ui/logout", u.logout)
	p.GET("/ui/password", u.passwordPage)
	p.POST("/ui/password", u.changePassword)
	u.registerRepositories(p)
	u.registerBrowse(p)
	u.registerSecurity(p)
	p.Any("/ui/*", func(c echo.Context) error {
		return u.fail(c, errs.New(errs.NotFound, "there is no such page"))
	})
}

// routes registers a page's routes with the UI's middleware.
type routes struct {
	g  *echo.Group
	mw echo.MiddlewareFunc
}

func (r routes) GET(path string, h echo.HandlerFunc)  { r.g.GET(path, h, r.mw) }
func (r routes) POST(path string, h echo.HandlerFunc) { r.g.POST(path, h, r.mw) }
func (r routes) Any(path string, h echo.HandlerFunc)  { r.g.Any(path, h, r.mw) }

// state is what the middleware learnt of a request.
type state struct {
	sess *session
	p    *auth.Principal
}

func stateOf(c echo.Context) *state {
	st, _ := c.Get("ui").(*state)
	if st == nil {
		return &state{}
	}
	return st
}

// middleware resolves the session (or the anonymous caller), refuses
// cross-origin and CSRF-less state changes, and sends an admin who still
// has the first-start password to change it.
func (u *UI) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		h := c.Response().Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "same-origin")
		ctx := req.Context()
		st := &state{}
		if ck, err := req.Cookie(sessionCookie); err == nil {
			st.sess = u.sessions.get(ck.Value)
		}
		if st.sess != nil {
			st.p = u.sessionPrincipal(ctx, st.sess)
			if st.p == nil {
				u.sessions.delete(st.sess)
				st.sess = nil
			}
		}
		if st.p == nil {
			p, ok, err := u.auth.AnonymousPrincipal(ctx)
			if err != nil {
				return u.fail(c, err)
			}
			if ok {
				st.p = p
			}
		}
		// The caller is the session's (or anonymous), whatever else the
		// request carried.
		req = req.WithContext(auth.WithPrincipal(ctx, st.p))
		c.SetRequest(req)
		c.Set("ui", st)
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, maxFormBytes)
			if err := u.cop.Check(req); err != nil {
				return u.refuse(c, "A request from another site was refused.")
			}
			// The sign-in has a token of its own; a sign-out with no live
			// session (it timed out) has nothing to protect.
			signOutOfNothing := req.URL.Path == u.prefix+"/ui/logout" && st.sess == nil
			if req.URL.Path != u.prefix+"/ui/login" && !signOutOfNothing && !u.validCSRF(req, st.sess) {
				return u.refuse(c, "The form expired or did not come from this server. Reload the page and try again.")
			}
			// While read-only, every change is refused as the REST API's are;
			// signing in and out store nothing.
			if req.URL.Path != u.prefix+"/ui/login" && req.URL.Path != u.prefix+"/ui/logout" {
				if err := u.repos.Writable(); err != nil {
					return u.fail(c, err)
				}
			}
		}
		if st.sess != nil && u.auth.MustChangePassword(st.sess.user) {
			switch req.URL.Path {
			case u.prefix + "/ui/password", u.prefix + "/ui/logout":
			default:
				return c.Redirect(http.StatusSeeOther, u.prefix+"/ui/password")
			}
		}
		return next(c)
	}
}

// sessionPrincipal is the principal of a session's user now, or nil when
// the user is gone, disabled or has a new password.
func (u *UI) sessionPrincipal(ctx context.Context, sess *session) *auth.Principal {
	stamp, err := u.auth.PasswordStamp(ctx, sess.user)
	if err != nil || !sameToken(stamp, sess.stamp) {
		return nil
	}
	p, err := u.auth.PrincipalOf(ctx, sess.user)
	if err != nil {
		return nil
	}
	return p
}

// validCSRF checks the session's token, from the X-CSRF-Token header
// (htmx) or the _csrf form field.
func (u *UI) validCSRF(req *http.Request, sess *session) bool {
	if sess == nil {
		return false
	}
	token := req.Header.Get("X-CSRF-Token")
	if token == "" {
		token = req.PostFormValue("_csrf")
	}
	return sameToken(token, sess.csrf)
}

// refuse answers 403 with a page saying why; nothing has changed.
func (u *UI) refuse(c echo.Context, msg string) error {
	return u.render(c, http.StatusForbidden, "error", "Request refused", "", errorPage{Message: msg})
}

// may reports whether the caller holds perm: for showing controls only;
// the services decide what is done.
func (u *UI) may(c echo.Context, perm auth.Privilege) bool {
	return u.auth.Require(c.Request().Context(), perm) == nil
}

// signedIn reports whether the caller is a signed-in user.
func signedIn(c echo.Context) bool { return stateOf(c).sess != nil }

type errorPage struct {
	Message string
	Status  int
}

// fail renders a service's error: a login for callers who are not signed
// in and need to be, else a page with the message the service gave
// (internal errors are logged and shown as such).
func (u *UI) fail(c echo.Context, err error) error {
	status := errs.Status(err)
	var fe *errs.FieldError
	if errors.As(err, &fe) {
		status = http.StatusBadRequest
	}
	msg := errs.Message(err)
	switch errs.KindOf(err) {
	case errs.Unauthorized:
		if !signedIn(c) && c.Request().Method == http.MethodGet {
			return c.Redirect(http.StatusSeeOther, u.prefix+"/ui/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		status, msg = http.StatusForbidden, "You are not allowed to do this."
	case errs.Forbidden:
		msg = "You are not allowed to do this: " + msg
	case errs.Internal:
		u.log.Error("ui request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		msg = "internal error"
	}
	return u.render(c, status, "error", http.StatusText(status), "", errorPage{Message: msg, Status: status})
}

// page is what every template gets.
type page struct {
	Title    string
	Active   string
	User     string
	SignedIn bool
	CSRF     string
	Prefix   string
	Assets   string
	CanUsers bool
	Data     any
}

// render writes the page template name with data, at status.
func (u *UI) render(c echo.Context, status int, name, title, active string, data any) error {
	st := stateOf(c)
	pg := page{Title: title, Active: active, Prefix: u.prefix, Assets: u.assets, Data: data, SignedIn: st.sess != nil}
	if st.sess != nil {
		pg.User, pg.CSRF = st.sess.user, st.sess.csrf
		pg.CanUsers = u.may(c, auth.Application("users", "read"))
	}
	t := u.pages[name]
	if t == nil {
		return errs.New(errs.Internal, "no page template %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		u.log.Error("ui template", "page", name, "err", err)
		return c.String(http.StatusInternalServerError, "internal error")
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// redirect answers a successful POST with a 303 to path (under the
// context path).
func (u *UI) redirect(c echo.Context, path string) error {
	return c.Redirect(http.StatusSeeOther, u.prefix+path)
}
