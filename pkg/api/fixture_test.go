package api

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
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
	// The client address, as the server's edge records it (the TCP peer).
	e.IPExtractor = clientip.Extractor(nil)
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.SetRequest(clientip.With(c.Request(), c.RealIP()))
			return next(c)
		}
	})
	e.Use(security.Middleware())
	with(New(repos, security, st.DB, "/", log), st.DB, security).Register(e.Group("/service/rest"))
	return &apiFixture{e: e, pw: pw, db: st.DB}
}

// do sends a request to /service/rest + path as user (none when
// empty), with the content type of its body (JSON, or text).
func (f *apiFixture) do(method, path, user, password, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/service/rest"+path, strings.NewReader(body))
	if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") || strings.HasPrefix(body, `"`) {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "text/plain")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

func (f *apiFixture) admin(method, path, body string) *httptest.ResponseRecorder {
	return f.do(method, path, "admin", f.pw, body)
}
