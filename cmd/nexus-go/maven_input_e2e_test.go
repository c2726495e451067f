package main

// Bad input to Maven repositories, over plain HTTP: each request gets a
// plain-text status and changes nothing.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// wantPlain requires status want and a plain-text answer.
func wantPlain(t *testing.T, what string, res result, want ...int) {
	t.Helper()
	ok := false
	for _, w := range want {
		ok = ok || res.status == w
	}
	if !ok {
		t.Errorf("%s: status %d, want %v: %q", what, res.status, want, res.body)
		return
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("%s: Content-Type %q, want text/plain", what, ct)
	}
}

// noAssets requires that no asset of repo has a path containing any of
// the given parts.
func noAssets(t *testing.T, s *nexusServer, repo string, parts ...string) {
	t.Helper()
	for _, a := range s.assets(repo) {
		for _, p := range parts {
			if strings.Contains(a.Path, p) {
				t.Errorf("asset %s stored in %s", a.Path, repo)
			}
		}
	}
}

func TestMavenBadInput(t *testing.T) {
	s := startServer(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/hosted", s.admin(),
		mavenHostedJSON("strict-hosted", "allow", "RELEASE", "STRICT"), nil)
	admin := s.admin()
	jar := []byte("PK\x03\x04 not really a jar, but bytes to store")
	const base = "/repository/strict-hosted/org/example/bad/1.0/"
	s.put("strict-hosted", "org/example/bad/1.0/bad-1.0.jar", jar)

	t.Run("path traversal", func(t *testing.T) {
		// A permissive layout takes any path: only the path rules stand
		// between these and a stored escape.
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/hosted", s.admin(),
			mavenHostedJSON("loose-hosted", "allow", "MIXED", "PERMISSIVE"), nil)
		for _, p := range []string{
			"/repository/loose-hosted/../x",
			"/repository/loose-hosted/%2e%2e/x",
			"/repository/loose-hosted/org/%2e%2e/%2e%2e/escape-1.0.jar",
			"/repository/loose-hosted/org/example/..%2f..%2fescape/1.0/escape-1.0.jar",
			"/repository/strict-hosted/org/example/bad/1.0/%2E%2E/%2E%2E/%2E%2E/bad-1.0.jar",
		} {
			wantPlain(t, "PUT "+p, s.do(http.MethodPut, p, admin, []byte("escaped"), nil), http.StatusBadRequest, http.StatusNotFound)
			res := s.do(http.MethodGet, p, admin, nil, nil)
			wantPlain(t, "GET "+p, res, http.StatusBadRequest, http.StatusNotFound)
		}
		noAssets(t, s, "loose-hosted", "escape", "x")
		noAssets(t, s, "strict-hosted", "escape")
	})

	t.Run("strict layout", func(t *testing.T) {
		for _, p := range []string{
			"not-maven.txt",
			"org/example/bad/1.0/other-1.0.jar", // another artifact's name
			"org/example/bad/1.0/bad-2.0.jar",   // another version's
			"org/example/bad/bad-1.0.jar",       // no version folder
		} {
			wantPlain(t, "PUT "+p, s.do(http.MethodPut, "/repository/strict-hosted/"+p, admin, jar, nil), http.StatusBadRequest)
		}
		noAssets(t, s, "strict-hosted", "not-maven", "other-1.0", "bad-2.0", "bad/bad-1.0")
	})

	t.Run("checksum upload", func(t *testing.T) {
		res := s.do(http.MethodPut, base+"bad-1.0.jar.sha1", admin, []byte(strings.Repeat("0", 40)), nil)
		wantPlain(t, "PUT a wrong .sha1", res, http.StatusBadRequest)
		res = s.do(http.MethodPut, base+"bad-1.0.jar.md5", admin, []byte("not hex at all"), nil)
		wantPlain(t, "PUT a malformed .md5", res, http.StatusBadRequest)
		if res := s.do(http.MethodPut, base+"bad-1.0.jar.sha1", admin, []byte(sha1Hex(jar)), nil); res.status/100 != 2 {
			t.Errorf("PUT the right .sha1: status %d: %q", res.status, res.body)
		}
		if res := s.do(http.MethodGet, base+"bad-1.0.jar.sha1", admin, nil, nil); strings.TrimSpace(string(res.body)) != sha1Hex(jar) {
			t.Errorf("GET .sha1 after a wrong upload: %d %q, want %s", res.status, res.body, sha1Hex(jar))
		}
		noAssets(t, s, "strict-hosted", ".sha1", ".md5")
		s.getExpect("strict-hosted", "org/example/bad/1.0/bad-1.0.jar", jar)
	})

	t.Run("truncated upload", func(t *testing.T) {
		// A new file, and one over the stored jar (the repository allows
		// redeploys): neither is stored, the jar is unchanged.
		for _, p := range []string{"org/example/bad/1.1/bad-1.1.jar", "org/example/bad/1.0/bad-1.0.jar"} {
			target := "/repository/strict-hosted/" + p
			conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.port), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\nContent-Length: 100000\r\n\r\n",
				target, basicAuth(admin))
			conn.Write(randomBytes(t, 1000))
			conn.Close()
			// The request log line comes once the handler is done with it.
			if !pollUntil(100, func() bool { return strings.Contains(s.logs.String(), "method=PUT path="+target+" ") }) {
				t.Fatalf("the server never finished the truncated upload of %s", p)
			}
		}
		if !pollUntil(100, func() bool { return len(s.tempFiles()) == 0 }) {
			t.Errorf("temp files left after a truncated upload: %v", s.tempFiles())
		}
		wantPlain(t, "GET after a truncated upload", s.do(http.MethodGet, "/repository/strict-hosted/org/example/bad/1.1/bad-1.1.jar", admin, nil, nil), http.StatusNotFound)
		noAssets(t, s, "strict-hosted", "bad-1.1")
		s.getExpect("strict-hosted", "org/example/bad/1.0/bad-1.0.jar", jar)
	})

	t.Run("malformed metadata", func(t *testing.T) {
		const p = "/repository/strict-hosted/org/example/bad/maven-metadata.xml"
		before := s.do(http.MethodGet, p, admin, nil, nil)
		for _, body := range []string{
			"<metadata><versioning><versions><version>1.0",
			"not xml at all",
			`<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]><metadata>&e;</metadata>`,
		} {
			wantPlain(t, "PUT metadata "+strconv.Quote(body), s.do(http.MethodPut, p, admin, []byte(body), nil), http.StatusBadRequest)
		}
		after := s.do(http.MethodGet, p, admin, nil, nil)
		if after.status != before.status || string(after.body) != string(before.body) {
			t.Errorf("metadata changed by refused uploads: %d %q, then %d %q", before.status, before.body, after.status, after.body)
		}
	})

	t.Run("anonymous write", func(t *testing.T) {
		const p = "/repository/strict-hosted/org/example/anon/1.0/anon-1.0.jar"
		res := s.do(http.MethodPut, p, nil, jar, nil)
		wantPlain(t, "anonymous PUT", res, http.StatusUnauthorized)
		if res.header.Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous PUT: 401 without WWW-Authenticate")
		}
		noAssets(t, s, "strict-hosted", "anon")
		// Anonymous read is off by default too.
		wantPlain(t, "anonymous GET", s.do(http.MethodGet, base+"bad-1.0.jar", nil, nil, nil), http.StatusUnauthorized)
	})
}

// TestMavenProxyRefusesHTMLAsJar: an upstream that answers 200 with an
// HTML page for a jar (a login page, a portal) is not cached, and the
// client never gets the page as the jar.
func TestMavenProxyRefusesHTMLAsJar(t *testing.T) {
	const page = "<!DOCTYPE html><html><body>Please sign in</body></html>"
	var jarHits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".jar") {
			http.NotFound(w, r)
			return
		}
		jarHits.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(up.Close)
	s := startServer(t)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/proxy", s.admin(),
		mavenProxyJSON("html-central", up.URL+"/", true), nil)

	const p = "/repository/html-central/org/example/portal/1.0/portal-1.0.jar"
	for i := 0; i < 2; i++ {
		res := s.do(http.MethodGet, p, s.admin(), nil, nil)
		if res.status != http.StatusBadGateway && res.status != http.StatusNotFound {
			t.Errorf("GET %d of a jar the upstream answers with HTML: status %d, want 502 or 404", i+1, res.status)
		}
		if strings.Contains(string(res.body), "Please sign in") {
			t.Errorf("GET %d: the HTML page was served as the jar: %q", i+1, res.body)
		}
	}
	if jarHits.Load() == 0 {
		t.Errorf("the proxy never asked the upstream for the jar")
	}
	noAssets(t, s, "html-central", "portal-1.0.jar")
}
