package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// restClient sends requests to an API as admin.
type restClient struct {
	e     *echo.Echo
	pw    string
	repos *repo.Manager
}

func newRESTClient(t *testing.T) *restClient {
	e, pw, repos := newAPI(t, raw.New(slog.New(slog.DiscardHandler)))
	return &restClient{e: e, pw: pw, repos: repos}
}

func (c *restClient) do(method, path, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "/service/rest"+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("admin", c.pw)
	rec := httptest.NewRecorder()
	c.e.ServeHTTP(rec, req)
	return rec
}

func TestRoutingRulesEndpoints(t *testing.T) {
	c := newRESTClient(t)
	rule := `{"name":"r1","description":"no internals","mode":"BLOCK","matchers":["^/com/example/.*"]}`
	expectStatus(t, c.do(http.MethodPost, "/v1/routing-rules", rule), http.StatusNoContent)
	expectValidationList(t, c.do(http.MethodPost, "/v1/routing-rules", rule)) // exists
	expectValidationList(t, c.do(http.MethodPost, "/v1/routing-rules", `{"name":"r2","mode":"allow","matchers":["x"]}`))
	expectValidationList(t, c.do(http.MethodPost, "/v1/routing-rules", `{"name":"r2","mode":"ALLOW","matchers":["("]}`))

	rec := c.do(http.MethodGet, "/v1/routing-rules/r1", "")
	expectStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != rule {
		t.Fatalf("GET = %s, want %s", got, rule)
	}
	expectStatus(t, c.do(http.MethodPut, "/v1/routing-rules/r1", strings.Replace(rule, "BLOCK", "ALLOW", 1)), http.StatusNoContent)
	var list []map[string]any
	rec = c.do(http.MethodGet, "/v1/routing-rules", "")
	decodeJSON(t, rec, &list)
	if len(list) != 1 || list[0]["mode"] != "ALLOW" {
		t.Fatalf("list = %s", rec.Body)
	}
	expectStatus(t, c.do(http.MethodPut, "/v1/routing-rules/nope", strings.Replace(rule, "r1", "nope", 1)), http.StatusNotFound)

	// A proxy names it in routingRule; GET answers routingRuleName.
	proxy := `{"name":"p","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
		"proxy":{"remoteUrl":"http://127.0.0.1:1/","contentMaxAge":1,"metadataMaxAge":1},
		"negativeCache":{"enabled":true,"timeToLive":1},"httpClient":{"blocked":false,"autoBlock":true},"routingRule":"r1"}`
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/raw/proxy", proxy), http.StatusCreated)
	var cfg map[string]any
	decodeJSON(t, c.do(http.MethodGet, "/v1/repositories/raw/proxy/p", ""), &cfg)
	if cfg["routingRuleName"] != "r1" || cfg["routingRule"] != nil {
		t.Fatalf("proxy config = %v", cfg)
	}
	expectValidationList(t, c.do(http.MethodPost, "/v1/repositories/raw/proxy", strings.NewReplacer(`"p"`, `"p2"`, `"r1"`, `"none"`).Replace(proxy)))
	expectValidationList(t, c.do(http.MethodDelete, "/v1/routing-rules/r1", "")) // in use
	expectStatus(t, c.do(http.MethodDelete, "/v1/repositories/p", ""), http.StatusNoContent)
	expectStatus(t, c.do(http.MethodDelete, "/v1/routing-rules/r1", ""), http.StatusNoContent)
	expectStatus(t, c.do(http.MethodGet, "/v1/routing-rules/r1", ""), http.StatusNotFound)
}

func TestReadOnlyEndpoints(t *testing.T) {
	c := newRESTClient(t)
	state := func() map[string]any {
		var s map[string]any
		decodeJSON(t, c.do(http.MethodGet, "/v1/read-only", ""), &s)
		return s
	}
	if s := state(); s["frozen"] != false || s["systemInitiated"] != false || s["summaryReason"] != "" {
		t.Fatalf("initial state %v", s)
	}
	expectStatus(t, c.do(http.MethodPost, "/v1/read-only/release", ""), http.StatusNotFound)
	expectStatus(t, c.do(http.MethodPost, "/v1/read-only/freeze", ""), http.StatusNoContent)
	expectStatus(t, c.do(http.MethodPost, "/v1/read-only/freeze", ""), http.StatusNotFound)
	if s := state(); s["frozen"] != true {
		t.Fatalf("frozen state %v", s)
	}
	hosted := `{"name":"h","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"ALLOW"}}`
	for _, w := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/repositories/raw/hosted", hosted},
		{http.MethodPost, "/v1/security/users", aliceJSON},
		{http.MethodPut, "/v1/security/anonymous", `{"enabled":false}`},
		{http.MethodPost, "/v1/routing-rules", `{"name":"r","mode":"BLOCK","matchers":["x"]}`},
	} {
		rec := c.do(w.method, w.path, w.body)
		expectStatus(t, rec, http.StatusServiceUnavailable)
		if !strings.Contains(rec.Body.String(), "read-only") {
			t.Errorf("%s %s: %s, want a message saying why", w.method, w.path, rec.Body)
		}
	}
	expectStatus(t, c.do(http.MethodGet, "/v1/repositories", ""), http.StatusOK)
	// Load balancers take a frozen server out of the write pool, as Nexus.
	expectStatus(t, c.do(http.MethodGet, "/v1/status/writable", ""), http.StatusServiceUnavailable)
	expectStatus(t, c.do(http.MethodPost, "/v1/read-only/force-release", ""), http.StatusNoContent)
	expectStatus(t, c.do(http.MethodGet, "/v1/status/writable", ""), http.StatusOK)
	expectStatus(t, c.do(http.MethodPost, "/v1/read-only/force-release", ""), http.StatusNotFound)
	expectStatus(t, c.do(http.MethodPost, "/v1/repositories/raw/hosted", hosted), http.StatusCreated)
}
