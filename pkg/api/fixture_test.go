package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// apiFixture serves the REST API over fresh storage, mounted as the
// server mounts it, with the optional services with plugs in.
type apiFixture struct {
	e  *echo.Echo
	pw string // the admin's
	db *meta.DB
}

func newAPIFixture(t *testing.T, with func(a *API, db *meta.DB, security *auth.Service) *API) *apiFixture {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, pw := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log})
	e := echo.New()
	e.Use(security.Middleware())
	with(New(repos, security, st.DB, "/", log), st.DB, security).Register(e.Group("/service/rest"))
	return &apiFixture{e: e, pw: pw, db: st.DB}
}

// do sends a request to /service/rest/v1 + path as user (anonymous when
// empty).
func (f *apiFixture) do(user, pw, method, path, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "/service/rest/v1"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func (f *apiFixture) admin(method, path, body string) *httptest.ResponseRecorder {
	return f.do("admin", f.pw, method, path, body)
}
