package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

func TestListingsNeedARepository(t *testing.T) {
	c := newRESTClient(t)
	for _, path := range []string{"/v1/components", "/v1/assets"} {
		rec := c.do(http.MethodGet, path, "")
		expectStatus(t, rec, http.StatusUnprocessableEntity)
		if rec.Body.String() != "repositoryId is required." {
			t.Errorf("%s: body %q", path, rec.Body)
		}
	}
}

func TestSearchRefusesBadParameters(t *testing.T) {
	c := newRESTClient(t)
	for _, path := range []string{"/v1/search", "/v1/search/assets", "/v1/search/assets/download"} {
		for _, param := range []string{"sha2", "nuget.id", "prerelease"} { // unknown, unknown, not true or false
			rec := c.do(http.MethodGet, path+"?"+param+"=x", "")
			expectValidationList(t, rec)
			if !strings.Contains(rec.Body.String(), "PARAMETER "+param) {
				t.Errorf("%s?%s: %s does not name it", path, param, rec.Body)
			}
		}
	}
	expectStatus(t, c.do(http.MethodGet, "/v1/search?sha1=0000000000000000000000000000000000000000&sort=name&direction=desc", ""), http.StatusOK)
}

func TestSearchAssetsDownload(t *testing.T) {
	c := newRESTClient(t)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/raw/hosted",
		`{"name":"h","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"ALLOW"}}`), http.StatusCreated)
	r, _ := c.repos.Lookup("h")
	for _, p := range []string{"a/one.txt", "a/two.txt"} {
		if _, err := r.Put(t.Context(), p, strings.NewReader(p), repo.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	rec := c.do(http.MethodGet, "/v1/search/assets/download?repository=h&name=a/one.txt", "")
	expectStatus(t, rec, http.StatusFound)
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "/repository/h/a/one.txt") {
		t.Fatalf("Location %q", loc)
	}
	// The checksum filter alone finds it too.
	var page struct{ Items []map[string]any }
	decodeJSON(t, c.do(http.MethodGet, "/v1/search/assets?repository=h&name=a/two.txt", ""), &page)
	sha1 := page.Items[0]["checksum"].(map[string]any)["sha1"].(string)
	rec = c.do(http.MethodGet, "/v1/search/assets/download?sha1="+sha1, "")
	expectStatus(t, rec, http.StatusFound)
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "/repository/h/a/two.txt") {
		t.Fatalf("Location by sha1 %q", loc)
	}
	expectStatus(t, c.do(http.MethodGet, "/v1/search/assets/download?repository=h&name=a/none", ""), http.StatusNotFound)
	expectStatus(t, c.do(http.MethodGet, "/v1/search/assets/download?sha1=0000000000000000000000000000000000000000", ""), http.StatusNotFound)
	expectStatus(t, c.do(http.MethodGet, "/v1/search/assets/download?repository=h", ""), http.StatusBadRequest)
	rec = c.do(http.MethodGet, "/v1/search/assets/download?repository=h&sort=name&direction=desc", "")
	expectStatus(t, rec, http.StatusFound)
	if loc := rec.Header().Get("Location"); !strings.HasSuffix(loc, "/a/two.txt") {
		t.Fatalf("sorted first: Location %q", loc)
	}
}

func TestInvalidateCacheRoute(t *testing.T) {
	c := newRESTClient(t)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/raw/proxy",
		`{"name":"p","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
		"proxy":{"remoteUrl":"http://127.0.0.1:1/","contentMaxAge":1,"metadataMaxAge":1},
		"negativeCache":{"enabled":true,"timeToLive":1},"httpClient":{"blocked":false,"autoBlock":true}}`), http.StatusCreated)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/p/invalidate-cache", ""), http.StatusNoContent)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/missing/invalidate-cache", ""), http.StatusNotFound)
}

// Texts clients match, word for word (go-nexus-client).
func TestErrorTextsClientsMatch(t *testing.T) {
	c := newRESTClient(t)
	rec := c.do(http.MethodDelete, "/v1/security/users/admin", "")
	expectValidationList(t, rec)
	if !strings.Contains(rec.Body.String(), "Can not delete currently signed in user") {
		t.Fatalf("deleting oneself: %s", rec.Body)
	}
}
