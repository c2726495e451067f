package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// httpClientJSON is the "httpClient" of a proxy as go-nexus-client sends
// it (HTTPClientWithPreemptiveAuth) with every field set.
const httpClientJSON = `{"blocked":false,"autoBlock":false,
 "connection":{"retries":2,"userAgentSuffix":"ci","timeout":30,"enableCircularRedirects":true,"enableCookies":true,"useTrustStore":false},
 "authentication":{"type":"bearerToken","bearerToken":"s3cret-token","preemptive":true}}`

// The httpClient section round-trips through REST as go-nexus-client
// sends it, the bearer token is never shown but kept by a GET-edit-PUT
// and sent upstream; NTLM is kept and refused at use; bounds are checked
// with Nexus's field ids.
func TestProxyHTTPClientREST(t *testing.T) {
	s := startServer(t)
	var mu sync.Mutex
	var authz, agent string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		authz, agent = r.Header.Get("Authorization"), r.UserAgent()
		mu.Unlock()
		io.WriteString(w, "content")
	}))
	t.Cleanup(up.Close)
	body := func(name, httpClient string) string {
		return `{"name":"` + name + `","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
 "proxy":{"remoteUrl":"` + up.URL + `/","contentMaxAge":1440,"metadataMaxAge":1440},
 "negativeCache":{"enabled":false,"timeToLive":1440},"httpClient":` + httpClient + `}`
	}
	s.createRepo("proxy", body("bearer-p", httpClientJSON))

	var got map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/proxy/bearer-p", s.admin(), nil, &got)
	var sent map[string]any
	json.Unmarshal([]byte(httpClientJSON), &sent)
	wantAuth := sent["authentication"].(map[string]any)
	delete(wantAuth, "bearerToken")
	if !reflect.DeepEqual(got["httpClient"], sent) {
		t.Errorf("httpClient = %v\nwant %v", got["httpClient"], sent)
	}
	if st := s.do(http.MethodGet, "/repository/bearer-p/a.txt", s.admin(), nil, nil).status; st != http.StatusOK {
		t.Fatalf("fetch: %d", st)
	}
	mu.Lock()
	if authz != "Bearer s3cret-token" || agent != "nexus-go ci" {
		t.Errorf("upstream saw Authorization %q, User-Agent %q", authz, agent)
	}
	mu.Unlock()

	// GET-edit-PUT: the token stays.
	shown, _ := json.Marshal(got["httpClient"])
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/raw/proxy/bearer-p", s.admin(), body("bearer-p", string(shown)), nil)
	s.do(http.MethodGet, "/repository/bearer-p/b.txt", s.admin(), nil, nil)
	mu.Lock()
	if authz != "Bearer s3cret-token" {
		t.Errorf("after a GET-edit-PUT the upstream saw Authorization %q", authz)
	}
	mu.Unlock()

	s.createRepo("proxy", body("ntlm-p", `{"blocked":false,"autoBlock":true,
 "authentication":{"type":"ntlm","username":"u","password":"pw","ntlmHost":"ws1","ntlmDomain":"CORP"}}`))
	var ntlm struct {
		HTTPClient struct {
			Authentication map[string]any `json:"authentication"`
		} `json:"httpClient"`
		Status struct {
			Reason string `json:"reason"`
		} `json:"status"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/proxy/ntlm-p", s.admin(), nil, &ntlm)
	if a := ntlm.HTTPClient.Authentication; a["type"] != "ntlm" || a["ntlmHost"] != "ws1" || a["ntlmDomain"] != "CORP" || a["password"] != nil {
		t.Errorf("ntlm authentication shown as %v", a)
	}
	if !strings.Contains(ntlm.Status.Reason, "NTLM") {
		t.Errorf("ntlm status reason %q", ntlm.Status.Reason)
	}
	if res := s.do(http.MethodGet, "/repository/ntlm-p/a.txt", s.admin(), nil, nil); res.status != http.StatusBadGateway || !strings.Contains(string(res.body), "NTLM") {
		t.Errorf("fetch through an NTLM proxy: %d %s", res.status, res.body)
	}

	for field, hc := range map[string]string{
		"httpClient.connection.timeout":         `{"connection":{"timeout":0}}`,
		"httpClient.connection.retries":         `{"connection":{"retries":11}}`,
		"httpClient.authentication.bearerToken": `{"authentication":{"type":"bearerToken"}}`,
		"httpClient.authentication.type":        `{"authentication":{"type":"kerberos","username":"u"}}`,
	} {
		res := s.doJSON(http.MethodPost, "/v1/repositories/raw/proxy", s.admin(), body("bad-p", hc), nil)
		var list []validationError
		json.Unmarshal(res.body, &list)
		if res.status != http.StatusBadRequest || len(list) != 1 || list[0].ID != "PARAMETER "+field {
			t.Errorf("%s: %d %s", field, res.status, res.body)
		}
	}
}

// Docker's fields round-trip as go-nexus-client's "pro" tests send them.
func TestDockerFieldsREST(t *testing.T) {
	s := startServer(t)
	s.createRepoOf("docker", "hosted", `{"name":"dh","online":true,
 "storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"ALLOW_ONCE","latestPolicy":true},
 "docker":{"forceBasicAuth":true,"v1Enabled":false,"subdomain":"dh","pathEnabled":false}}`)
	s.createRepoOf("docker", "proxy", `{"name":"dp","online":true,
 "storage":{"blobStoreName":"default","strictContentTypeValidation":true},
 "proxy":{"remoteUrl":"http://127.0.0.1:1/","contentMaxAge":1440,"metadataMaxAge":1440},
 "negativeCache":{"enabled":true,"timeToLive":1440},"httpClient":{"blocked":true,"autoBlock":true},
 "docker":{"forceBasicAuth":true,"v1Enabled":false},
 "dockerProxy":{"indexType":"CUSTOM","indexUrl":"http://127.0.0.1:1/","cacheForeignLayers":true,"foreignLayerUrlWhitelist":[".*\\.example"]}}`)
	var h struct {
		Storage map[string]any `json:"storage"`
		Docker  map[string]any `json:"docker"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/hosted/dh", s.admin(), nil, &h)
	if h.Storage["latestPolicy"] != true || h.Storage["writePolicy"] != "ALLOW_ONCE" || h.Docker["subdomain"] != "dh" || h.Docker["pathEnabled"] != false {
		t.Errorf("hosted = %+v", h)
	}
	var p struct {
		DockerProxy map[string]any `json:"dockerProxy"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/proxy/dp", s.admin(), nil, &p)
	want := map[string]any{"indexType": "CUSTOM", "indexUrl": "http://127.0.0.1:1/", "cacheForeignLayers": true,
		"foreignLayerUrlWhitelist": []any{`.*\.example`}}
	if !reflect.DeepEqual(p.DockerProxy, want) {
		t.Errorf("dockerProxy = %v", p.DockerProxy)
	}
	res := s.doJSON(http.MethodPost, "/v1/repositories/docker/proxy", s.admin(), `{"name":"dc","online":true,
 "storage":{"blobStoreName":"default","strictContentTypeValidation":true},
 "proxy":{"remoteUrl":"http://127.0.0.1:1/","contentMaxAge":1440,"metadataMaxAge":1440},
 "negativeCache":{"enabled":true,"timeToLive":1440},"httpClient":{"blocked":true,"autoBlock":true},
 "docker":{"forceBasicAuth":true,"v1Enabled":false},"dockerProxy":{"indexType":"CUSTOM"}}`, nil)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "PARAMETER dockerProxy.indexUrl") {
		t.Errorf("CUSTOM without indexUrl: %d %s", res.status, res.body)
	}
}
