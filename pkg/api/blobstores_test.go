package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// send sends body (JSON) as admin, or as nobody when pw is "".
func send(e *echo.Echo, pw, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "/service/rest"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if pw != "" {
		req.SetBasicAuth("admin", pw)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func expectParameter(t *testing.T, rec *httptest.ResponseRecorder, field string) {
	t.Helper()
	expectValidationList(t, rec)
	if !strings.Contains(rec.Body.String(), `"PARAMETER `+field+`"`) {
		t.Fatalf("validation list %s does not name %s", rec.Body, field)
	}
}

type storeEntry struct {
	Name                  string
	Type                  string
	Unavailable           bool
	BlobCount             int64
	TotalSizeInBytes      int64
	AvailableSpaceInBytes int64
	SoftQuota             *softQuotaJSON
}

func listStores(t *testing.T, e *echo.Echo, pw string) map[string]storeEntry {
	t.Helper()
	rec := send(e, pw, http.MethodGet, "/v1/blobstores", "")
	expectStatus(t, rec, http.StatusOK)
	var list []storeEntry
	decodeJSON(t, rec, &list)
	out := map[string]storeEntry{}
	for _, s := range list {
		out[s.Name] = s
	}
	return out
}

const rawInTeam = `{"name":"raw-team","online":true,"storage":{"blobStoreName":"team","strictContentTypeValidation":false,"writePolicy":"allow"}}`

// The blob store endpoints round-trip Nexus's JSON; a repository in a store
// fills that store's counts and quota; the refusals are Nexus's.
func TestBlobStoreEndpoints(t *testing.T) {
	e, pw, repos := newAPI(t, raw.New(slog.New(slog.DiscardHandler)))
	stores := listStores(t, e, pw)
	if d := stores["default"]; len(stores) != 1 || d.Type != "File" || d.Unavailable || d.BlobCount != 0 || d.SoftQuota != nil || d.AvailableSpaceInBytes <= 0 {
		t.Fatalf("a new server's stores: %+v", stores)
	}
	expectStatus(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"name":"team","path":"team-path"}`), http.StatusNoContent)
	rec := send(e, pw, http.MethodGet, "/v1/blobstores/file/team", "")
	expectStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"name":"team","path":"team-path","softQuota":null}` {
		t.Fatalf("GET file/team = %s", got)
	}
	expectStatus(t, send(e, pw, http.MethodPut, "/v1/blobstores/file/team",
		`{"name":"team","path":"team-path","softQuota":{"type":"spaceUsedQuota","limit":5}}`), http.StatusNoContent)
	rec = send(e, pw, http.MethodGet, "/v1/blobstores/file/team", "")
	if got := strings.TrimSpace(rec.Body.String()); got != `{"name":"team","path":"team-path","softQuota":{"type":"spaceUsedQuota","limit":5}}` {
		t.Fatalf("GET file/team after the update = %s", got)
	}

	// Repositories name existing stores and keep theirs.
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/repositories/raw/hosted", strings.Replace(rawInTeam, `"team"`, `"nope"`, 1)), "storage.blobStoreName")
	expectStatus(t, send(e, pw, http.MethodPost, "/v1/repositories/raw/hosted", rawInTeam), http.StatusCreated)
	expectParameter(t, send(e, pw, http.MethodPut, "/v1/repositories/raw/hosted/raw-team", strings.Replace(rawInTeam, `"team"`, `"default"`, 1)), "storage.blobStoreName")

	r, _ := repos.Lookup("raw-team")
	if _, err := r.Put(context.Background(), "ten/bytes", strings.NewReader("0123456789"), repo.PutOptions{Size: 10}); err != nil {
		t.Fatal(err) // over the soft quota, written all the same
	}
	if s := listStores(t, e, pw)["team"]; s.BlobCount != 1 || s.TotalSizeInBytes != 10 || s.SoftQuota == nil || s.SoftQuota.Limit != 5 {
		t.Fatalf("team after a write: %+v", s)
	}
	if s := listStores(t, e, pw)["default"]; s.BlobCount != 0 {
		t.Fatalf("the default store counts team's blob: %+v", s)
	}
	var assets page[assetJSON]
	decodeJSON(t, send(e, pw, http.MethodGet, "/v1/assets?repository=raw-team", ""), &assets)
	if len(assets.Items) != 1 || assets.Items[0].BlobStoreName != "team" {
		t.Fatalf("assets of raw-team: %+v", assets.Items)
	}
	rec = send(e, pw, http.MethodGet, "/v1/blobstores/team/quota-status", "")
	expectStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != `{"isViolation":true,"message":"Blob store team is using 10 Bytes space and has a limit of 5 Bytes","blobStoreName":"team"}` {
		t.Fatalf("quota-status = %s", got)
	}
	rec = send(e, pw, http.MethodGet, "/v1/status/check", "")
	var checks map[string]healthCheck
	decodeJSON(t, rec, &checks)
	if q, ok := checks["Blob Stores Quota"]; !ok || q.Healthy || !strings.Contains(q.Message, "Blob store team is using") {
		t.Fatalf("status/check = %s", rec.Body)
	}

	// Deleting: refused while used, then gone.
	rec = send(e, pw, http.MethodDelete, "/v1/blobstores/team", "")
	expectValidationList(t, rec)
	if !strings.Contains(rec.Body.String(), "in use by 1 repositories: raw-team") {
		t.Fatalf("delete of a used store: %s", rec.Body)
	}
	expectStatus(t, send(e, pw, http.MethodDelete, "/v1/repositories/raw-team", ""), http.StatusNoContent)
	expectStatus(t, send(e, pw, http.MethodDelete, "/v1/blobstores/team", ""), http.StatusNoContent)
	expectStatus(t, send(e, pw, http.MethodGet, "/v1/blobstores/file/team", ""), http.StatusNotFound)
	expectStatus(t, send(e, pw, http.MethodGet, "/v1/blobstores/team/quota-status", ""), http.StatusNotFound)
	expectStatus(t, send(e, pw, http.MethodDelete, "/v1/blobstores/team", ""), http.StatusNotFound)

	// Refusals in Nexus's validation list.
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"name":"Default"}`), "name")
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"path":"x"}`), "name")
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"name":"q","softQuota":{"type":"x","limit":1}}`), "softQuota.type")
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"name":"q","softQuota":{"type":"spaceUsedQuota","limit":0}}`), "softQuota.limit")
	expectParameter(t, send(e, pw, http.MethodPut, "/v1/blobstores/file/default", `{"path":"/elsewhere"}`), "path")
	expectParameter(t, send(e, pw, http.MethodPost, "/v1/blobstores/file", `{"name":`), "body")
	rec = send(e, pw, http.MethodPost, "/v1/blobstores/s3", `{"name":"s3"}`)
	expectValidationList(t, rec)
	if !strings.Contains(rec.Body.String(), "not supported") {
		t.Fatalf("s3 creation: %s", rec.Body)
	}
	expectStatus(t, send(e, "", http.MethodGet, "/v1/blobstores/file/default", ""), http.StatusUnauthorized)
	if len(listStores(t, e, pw)) != 1 {
		t.Fatal("a refused creation left a store")
	}
}
