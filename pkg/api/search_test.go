package api

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/search"
)

// newContentAPI serves the whole REST API over an empty raw-only server
// and returns it with the admin password.
func newContentAPI(t *testing.T) (*echo.Echo, string) {
	t.Helper()
	e, pw, _ := newAPI(t, raw.New(slog.New(slog.DiscardHandler)))
	return e, pw
}

// newAPI serves the whole REST API over an empty server of formats and
// returns it with the admin password and the repository manager.
func newAPI(t *testing.T, formats ...repo.Format) (*echo.Echo, string, *repo.Manager) {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, pw := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Blobs, security, repo.Options{Log: log}, formats...)
	e := echo.New()
	e.Use(security.Middleware())
	New(repos, security, st.DB, "/", log).Register(e.Group("/service/rest"))
	return e, pw, repos
}

// Over-long search terms are refused before any component is matched
// against them, with the validation list naming the parameter.
func TestSearchRefusesOverLongTerms(t *testing.T) {
	e, pw := newContentAPI(t)
	get := func(path, param, term string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/service/rest/v1/"+path+"?"+param+"="+url.QueryEscape(term), nil)
		req.SetBasicAuth("admin", pw)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	attack := "*a" + strings.Repeat("x", 15000) + "b"
	for _, path := range []string{"search", "search/assets"} {
		for _, param := range []string{"name", "group", "version", "q", "format"} {
			for _, term := range []string{attack, strings.Repeat("n", search.MaxTerm+1)} {
				rec := get(path, param, term)
				expectValidationList(t, rec)
				if !strings.Contains(rec.Body.String(), "PARAMETER "+param) {
					t.Errorf("%s?%s=<%d bytes>: validation list %s does not name the parameter", path, param, len(term), rec.Body)
				}
			}
			expectStatus(t, get(path, param, "*"+strings.Repeat("n", search.MaxTerm-1)), http.StatusOK)
		}
	}
}
