package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Freezing the server refuses every write, in every format and the REST
// API, with 503 and a message saying why; reads go on; release undoes it.
func TestReadOnlyOverFormats(t *testing.T) {
	s := startServer(t)
	admin := s.admin()
	s.createRepo("hosted", hostedBody("raw-ro", "allow"))
	s.createRepoOf("maven", "hosted", mavenHostedJSON("maven-ro", "ALLOW", "RELEASE", "STRICT"))
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-ro", "allow"))
	s.put("raw-ro", "kept.txt", []byte("kept"))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up "+r.URL.Path) }))
	defer up.Close()
	s.createRepo("proxy", anonProxyBody("raw-ro-p", up.URL+"/", 1440))
	s.getExpect("raw-ro-p", "cached.txt", []byte("up /cached.txt"))
	for deadline := time.Now().Add(5 * time.Second); len(s.assets("raw-ro-p")) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) { // the download is stored after it is served
			t.Fatal("the proxy download was not cached")
		}
	}

	writes := []struct{ method, path, body string }{
		{http.MethodPut, "/repository/raw-ro/new.txt", "new"},
		{http.MethodDelete, "/repository/raw-ro/kept.txt", ""},
		{http.MethodPut, "/repository/maven-ro/org/ro/a/1.0/a-1.0.jar", "jar"},
		{http.MethodPut, "/repository/npm-ro/ro-pkg", string(npmPkg{name: "ro-pkg", version: "1.0.0"}.publishBody(s.npmRepoURL("npm-ro")))},
		{http.MethodPost, "/service/rest/v1/repositories/raw/hosted", hostedBody("raw-ro2", "allow")},
		{http.MethodDelete, "/service/rest/v1/repositories/raw-ro", ""},
		{http.MethodPut, "/service/rest/v1/security/anonymous", `{"enabled":false,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`},
	}
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/read-only/freeze", admin, nil, nil)
	for _, w := range writes {
		hdr := http.Header{"Content-Type": {"application/json"}}
		r := s.do(w.method, w.path, admin, []byte(w.body), hdr)
		if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "read-only") {
			t.Errorf("%s %s while frozen: %d %s", w.method, w.path, r.status, r.body)
		}
	}
	s.getExpect("raw-ro", "kept.txt", []byte("kept"))
	// A frozen proxy serves its cache and refuses, at once, what it lacks.
	s.getExpect("raw-ro-p", "cached.txt", []byte("up /cached.txt"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if r, err := readResult(s.request(ctx, http.MethodGet, "/repository/raw-ro-p/new.txt", admin, nil, nil)); err != nil || r.status != http.StatusServiceUnavailable {
		t.Errorf("uncached proxy path while frozen: %d %s %v", r.status, r.body, err)
	}
	if r := s.do(http.MethodGet, "/service/rest/v1/status/writable", nil, nil, nil); r.status != http.StatusServiceUnavailable {
		t.Errorf("status/writable while frozen: %d", r.status)
	}
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/read-only/release", admin, nil, nil)
	s.put("raw-ro", "new.txt", []byte("new"))
	s.getExpect("raw-ro-p", "new.txt", []byte("up /new.txt"))
	if r := s.do(http.MethodGet, "/service/rest/v1/status/writable", nil, nil, nil); r.status != http.StatusOK {
		t.Errorf("status/writable after the release: %d", r.status)
	}
}
