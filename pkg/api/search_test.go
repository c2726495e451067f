package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
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
	e, pw, repos, _ := newAPIStorage(t, formats...)
	return e, pw, repos
}

// newAPIStorage is newAPI, also returning the storage.
func newAPIStorage(t *testing.T, formats ...repo.Format) (*echo.Echo, string, *repo.Manager, *repotest.Storage) {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, pw := st.Security(t, log)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log}, formats...)
	e := echo.New()
	e.Use(security.Middleware())
	New(repos, security, st.DB, "/", log).Register(e.Group("/service/rest"))
	return e, pw, repos, st
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

// /v1/search has no cap: 2,100 matches come in pages of 1,000, 1,000 and
// 100, each component once; /v1/search/assets likewise with its tokens.
func TestSearchPagesPastAThousand(t *testing.T) {
	e, pw, repos, st := newAPIStorage(t, raw.New(slog.New(slog.DiscardHandler)))
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	if err := repos.Create(ctx, repo.Config{Name: "raw-h", Format: "raw", Type: "hosted", Online: true,
		Storage: repo.Storage{BlobStoreName: "default"}}); err != nil {
		t.Fatal(err)
	}
	var reqs []meta.PutAssetRequest
	for i := range 2100 {
		p := fmt.Sprintf("bulk/%04d.txt", i)
		reqs = append(reqs, meta.PutAssetRequest{Asset: meta.Asset{Repository: "raw-h", Path: p, Blob: digest.FromString(p), Size: 1},
			Component: &meta.Component{Repository: "raw-h", Format: "raw", Name: p}})
	}
	reqs = append(reqs, meta.PutAssetRequest{Asset: meta.Asset{Repository: "raw-h", Path: "other.txt", Blob: digest.FromString("o"), Size: 1},
		Component: &meta.Component{Repository: "raw-h", Format: "raw", Name: "other.txt"}})
	if _, _, err := st.DB.PutAssets(reqs); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"search", "search/assets"} {
		var sizes []int
		seen := map[string]bool{}
		token := ""
		for {
			q := url.Values{"name": {"bulk/*"}, "pageSize": {"1000"}}
			if token != "" {
				q.Set("continuationToken", token)
			}
			req := httptest.NewRequest(http.MethodGet, "/service/rest/v1/"+path+"?"+q.Encode(), nil)
			req.SetBasicAuth("admin", pw)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			expectStatus(t, rec, http.StatusOK)
			var page struct {
				Items             []struct{ ID string }
				ContinuationToken *string
			}
			decodeJSON(t, rec, &page)
			sizes = append(sizes, len(page.Items))
			for _, it := range page.Items {
				seen[it.ID] = true
			}
			if page.ContinuationToken == nil {
				break
			}
			token = *page.ContinuationToken
		}
		if !slices.Equal(sizes, []int{1000, 1000, 100}) || len(seen) != 2100 {
			t.Errorf("%s: pages of %v, %d distinct items; want 1000, 1000, 100 and 2100", path, sizes, len(seen))
		}
	}
	// A token of another query is refused, naming the parameter.
	req := httptest.NewRequest(http.MethodGet, "/service/rest/v1/search?name=other*&continuationToken=bmJ1bGsv", nil)
	req.SetBasicAuth("admin", pw)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	expectValidationList(t, rec)
	if !strings.Contains(rec.Body.String(), "PARAMETER continuationToken") {
		t.Errorf("a token of another query: %s", rec.Body)
	}
}
