package ui

import (
	"context"
	"crypto/tls"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/docker"
	"github.com/nexus-go/nexus-go/formats/maven"
	"github.com/nexus-go/nexus-go/formats/npm"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/search"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// env is the UI over real services (every format, a first-start security
// service) behind the server's authentication middleware, served over
// HTTP on 127.0.0.1.
type env struct {
	t       *testing.T
	ui      *UI
	repos   *repo.Manager
	auth    *auth.Service
	adminPW string
	dir     string
	srv     *httptest.Server
	clock   *testclock.Clock
	prefix  string // the context path without its trailing slash
}

func newEnv(t *testing.T) *env { return newEnvAt(t, false, "/") }

func newEnvTLS(t *testing.T, useTLS bool) *env { return newEnvAt(t, useTLS, "/") }

// newEnvAt serves the UI under contextPath ("/" or "/nexus").
func newEnvAt(t *testing.T, useTLS bool, contextPath string) *env {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, pw := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log},
		raw.New(log), docker.New(security, log, docker.Options{}), maven.New(log, maven.Options{}), npm.New(security, log))
	clk := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	u, err := New(repos, security, search.New(st.DB, repos, security), Options{ContextPath: contextPath, SessionTimeout: 30 * time.Minute, Version: "test", Now: clk.Now, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetRequest(clientip.With(c.Request(), c.RealIP()))
			return next(c)
		}
	})
	// As pkg/server does: the UI's routes resolve no credentials.
	u.Register(e.Group(strings.TrimSuffix(contextPath, "/")))
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(e)
	} else {
		srv = httptest.NewServer(e)
	}
	t.Cleanup(srv.Close)
	return &env{t: t, ui: u, repos: repos, auth: security, adminPW: pw, dir: st.Dir, srv: srv, clock: clk,
		prefix: strings.TrimSuffix(contextPath, "/")}
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	e      *env
	c      *http.Client
	jar    *cookiejar.Jar
	header http.Header
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return &browser{e: e, c: c, jar: jar, header: http.Header{}}
}

// answer is one response.
type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) answer {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+b.e.prefix+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}

func (b *browser) get(path string) answer { return b.do(http.MethodGet, path, nil) }

// post sends form with the page's CSRF token (read from the meta tag of
// the page at from).
func (b *browser) post(from, path string, form url.Values) answer {
	b.e.t.Helper()
	form.Set("_csrf", metaToken(b.get(from).body))
	return b.do(http.MethodPost, path, form)
}

var metaRE = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)

func metaToken(body string) string {
	if m := metaRE.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

var hiddenCSRF = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// signIn signs in through the form and returns the answer to the POST.
func (b *browser) signIn(user, password string) answer {
	b.e.t.Helper()
	login := b.get("/ui/login")
	m := hiddenCSRF.FindStringSubmatch(login.body)
	if m == nil {
		b.e.t.Fatalf("login page has no token: %s", login.body)
	}
	return b.do(http.MethodPost, "/ui/login", url.Values{"_csrf": {m[1]}, "username": {user}, "password": {password}})
}

// admin is a browser signed in as admin with the forced change done.
func (e *env) admin() *browser {
	e.t.Helper()
	b := e.browser()
	if p := b.signIn(auth.AdminUser, e.adminPW); p.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in: %d %s", p.status, p.body)
	}
	if e.auth.MustChangePassword(auth.AdminUser) {
		p := b.post("/ui/password", "/ui/password", url.Values{"new-password": {"admin-pw-2"}, "confirm-password": {"admin-pw-2"}})
		if p.status != http.StatusSeeOther {
			e.t.Fatalf("password change: %d %s", p.status, p.body)
		}
		e.adminPW = "admin-pw-2"
	}
	return b
}

func (p answer) location() string { return p.header.Get("Location") }

func (p answer) has(t *testing.T, what string) {
	t.Helper()
	if !strings.Contains(p.body, what) {
		t.Errorf("page lacks %q:\n%s", what, p.body)
	}
}

func (p answer) lacks(t *testing.T, what string) {
	t.Helper()
	if strings.Contains(p.body, what) {
		t.Errorf("page has %q:\n%s", what, p.body)
	}
}

// createUser makes a user with a role of privileges.
func (e *env) createUser(id, password string, privileges ...string) {
	e.t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	if err := e.auth.CreateRole(ctx, &meta.Role{ID: id + "-role", Privileges: privileges}); err != nil {
		e.t.Fatal(err)
	}
	if err := e.auth.CreateUser(ctx, &meta.User{ID: id, Status: "active", Roles: []string{id + "-role"}}, password); err != nil {
		e.t.Fatal(err)
	}
}

// createRepo creates a repository from its JSON as the system.
func (e *env) createRepo(js string) {
	e.t.Helper()
	var cfg repo.Config
	if err := cfg.UnmarshalJSON([]byte(js)); err != nil {
		e.t.Fatal(err)
	}
	if err := e.repos.Create(auth.WithPrincipal(context.Background(), auth.System()), cfg); err != nil {
		e.t.Fatal(err)
	}
}

// system is a context of the server itself, for the tests' own checks.
func (e *env) system() context.Context {
	return auth.WithPrincipal(context.Background(), auth.System())
}
