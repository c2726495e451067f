package main

import (
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuthentication checks challenges, wrong passwords, a read-only role and
// anonymous access switched on and off.
func TestAuthentication(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)
	s.createRole("raw-h-reader", "nx-repository-view-raw-raw-h-read")
	s.createUser("reader", "reader-pw", "raw-h-reader")
	data := []byte("protected content\n")
	s.put("raw-h", "f.txt", data)

	challenged := func(what string, res result) {
		t.Helper()
		if res.status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", what, res.status, res.body)
			return
		}
		if h := res.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic") {
			t.Errorf("%s: WWW-Authenticate %q, want a Basic challenge", what, h)
		}
	}

	challenged("anonymous PUT", s.do(http.MethodPut, "/repository/raw-h/anon.txt", nil, []byte("x"), nil))
	challenged("anonymous GET (anonymous access off)", s.do(http.MethodGet, "/repository/raw-h/f.txt", nil, nil, nil))
	challenged("PUT with a wrong password", s.do(http.MethodPut, "/repository/raw-h/wrong.txt", &creds{"admin", s.adminPW + "x"}, []byte("x"), nil))
	challenged("GET as unknown user", s.do(http.MethodGet, "/repository/raw-h/f.txt", &creds{"nobody", "x"}, nil, nil))
	challenged("REST without credentials", s.doJSON(http.MethodGet, "/v1/repositories", nil, nil, nil))

	reader := &creds{"reader", "reader-pw"}
	if res := s.do(http.MethodPut, "/repository/raw-h/new.txt", reader, []byte("x"), nil); res.status != http.StatusForbidden {
		t.Errorf("PUT of a new path by a read-only user: status %d, want 403", res.status)
	}
	if res := s.do(http.MethodPut, "/repository/raw-h/f.txt", reader, []byte("overwritten"), nil); res.status != http.StatusForbidden {
		t.Errorf("PUT over an existing path by a read-only user: status %d, want 403", res.status)
	}
	if res := s.do(http.MethodDelete, "/repository/raw-h/f.txt", reader, nil, nil); res.status != http.StatusForbidden {
		t.Errorf("DELETE by a read-only user: status %d, want 403", res.status)
	}
	if res := s.do(http.MethodGet, "/repository/raw-h/f.txt", reader, nil, nil); res.status != http.StatusOK || string(res.body) != string(data) {
		t.Errorf("GET by a read-only user: status %d body %q, want 200 %q", res.status, res.body, data)
	}
	s.getExpect("raw-h", "f.txt", data)
	if res := s.do(http.MethodGet, "/repository/raw-h/new.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("a refused PUT created the path: GET status %d", res.status)
	}

	var anon struct {
		Enabled bool   `json:"enabled"`
		UserID  string `json:"userId"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/security/anonymous", s.admin(), nil, &anon)
	if anon.Enabled {
		t.Errorf("anonymous access is on in a new server")
	}
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		`{"enabled":true,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`, &anon)
	if !anon.Enabled || anon.UserID != "anonymous" {
		t.Errorf("PUT anonymous answered %+v", anon)
	}

	if res := s.do(http.MethodGet, "/repository/raw-h/f.txt", nil, nil, nil); res.status != http.StatusOK || string(res.body) != string(data) {
		t.Errorf("anonymous GET with anonymous access on: status %d body %q, want 200", res.status, res.body)
	}
	challenged("anonymous PUT with anonymous access on", s.do(http.MethodPut, "/repository/raw-h/anon.txt", nil, []byte("x"), nil))
	challenged("anonymous DELETE with anonymous access on", s.do(http.MethodDelete, "/repository/raw-h/f.txt", nil, nil, nil))
	// Bad credentials are refused even though anonymous access would do.
	challenged("GET with a wrong password and anonymous access on", s.do(http.MethodGet, "/repository/raw-h/f.txt", &creds{"reader", "nope"}, nil, nil))
	s.getExpect("raw-h", "f.txt", data)
	if res := s.do(http.MethodGet, "/repository/raw-h/anon.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("a refused anonymous PUT created the path: GET status %d", res.status)
	}

	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		`{"enabled":false,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`, nil)
	challenged("anonymous GET after switching anonymous access off", s.do(http.MethodGet, "/repository/raw-h/f.txt", nil, nil, nil))
}

// TestPathTraversal sends paths that try to leave the repository, raw on
// the wire, and then checks that nothing was written outside the data
// directory and that no asset was created.
func TestPathTraversal(t *testing.T) {
	s := startServer(t)
	s.createRepo("hosted", hostedRawH)

	// A file just outside the data directory that reads must not reach.
	secret := filepath.Join(s.root, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOP-SECRET-CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}

	paths := []string{
		"/repository/raw-h/../../../escape1.txt",
		"/repository/raw-h/a/../../escape2.txt",
		"/repository/raw-h/..",
		"/repository/raw-h/%2e%2e/%2e%2e/%2e%2e/escape3.txt",
		"/repository/raw-h/%2E%2E/%2E%2E/escape4.txt",
		"/repository/raw-h/.%2e/escape5.txt",
		"/repository/raw-h/a/%2e/escape6.txt",
		"/repository/raw-h/..%2f..%2f..%2fescape7.txt",
		"/repository/raw-h/a%2F..%2F..%2Fescape8.txt",
		"/repository/raw-h/..%5c..%5cescape9.txt",
		"/repository/raw-h/..%5C..%5Cescape10.txt",
		`/repository/raw-h/..\..\escape11.txt`,
		`/repository/raw-h/a\b.txt`,
		"/repository/raw-h/escape12.txt%00.png",
		"/repository/raw-h/%00",
		"/repository/raw-h/a%00/../escape13.txt",
		"/repository/raw-h/a//escape14.txt",
		"/repository/raw-h/%2e%2e%2f%2e%2e%2fsecret.txt",
		"/repository/raw-h/%252e%252e/%252e%252e/escape15.txt",
		"/repository/../../../escape16.txt",
		"/repository/..%2f..%2fescape17/x.txt",
		"/repository/%2e%2e/escape18.txt",
		"/repository/raw-h/%c0%ae%c0%ae/escape19.txt",
		"/repository/raw-h/%0a/escape20.txt",
		"/repository/raw-h/dir%2Fescape23.txt",
		"/repository/raw-h/dir%5cescape24.txt",
	}
	admin := s.admin()
	for _, p := range paths {
		for _, method := range []string{http.MethodPut, http.MethodGet} {
			var body []byte
			if method == http.MethodPut {
				body = []byte("ESCAPED " + p)
			}
			status, resp, err := s.rawRequest(method, p, admin, body)
			if err != nil {
				t.Errorf("%s %s: %v", method, p, err)
				continue
			}
			ok := status == http.StatusBadRequest || status == http.StatusNotFound
			// "%252e%252e" is the literal name "%2e%2e", harmless inside
			// the repository: it may be stored.
			if strings.Contains(p, "%252e") || strings.Contains(p, "%c0%ae") {
				ok = ok || (method == http.MethodPut && status == http.StatusCreated) ||
					(method == http.MethodGet && status == http.StatusOK && strings.HasPrefix(string(resp), "ESCAPED "))
			}
			if !ok {
				t.Errorf("%s %s: status %d, want 400 or 404: %q", method, p, status, resp)
			}
			if strings.Contains(string(resp), "TOP-SECRET") {
				t.Errorf("%s %s: the answer contains a file outside the repository", method, p)
			}
		}
	}

	// Nothing outside the data directory (cwd/ is the server's working
	// directory and must stay empty; secret.txt is ours).
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		if d.IsDir() || rel == "secret.txt" || strings.HasPrefix(rel, "data"+string(filepath.Separator)) {
			return nil
		}
		t.Errorf("file created outside the data directory: %s", p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nor with the names the requests used, anywhere in the temp root's
	// parent (where "../.." from the repository could lead).
	for _, dir := range []string{filepath.Dir(s.root), filepath.Dir(filepath.Dir(s.root))} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "escape") {
				t.Errorf("file %s created by a traversal", filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, a := range s.assets("raw-h") {
		// Only the two harmless literal names may have been stored.
		if !strings.HasSuffix(a.Path, "/escape15.txt") && !strings.HasSuffix(a.Path, "/escape19.txt") {
			t.Errorf("asset %q created by a traversal attempt", a.Path)
		}
		if strings.Contains(a.Path, "..") || strings.Contains(a.Path, "\\") || strings.Contains(a.Path, "\x00") {
			t.Errorf("asset path %q contains a traversal", a.Path)
		}
	}

	// Raw paths sent through the normal client, whose URL keeps the escapes.
	for _, p := range []string{"%2e%2e/%2e%2e/escape21.txt", "..%2fescape22.txt", "x%00y"} {
		u, err := url.Parse(s.url("/repository/raw-h/" + p))
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequest(http.MethodPut, u.String(), strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		req.URL.Opaque = "//127.0.0.1:" + u.Port() + "/repository/raw-h/" + p
		req.SetBasicAuth(admin.user, admin.pass)
		resp, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("PUT (opaque URL) %s: status %d, want 400 or 404", p, resp.StatusCode)
		}
	}
	if n := len(s.tempFiles()); n != 0 {
		t.Errorf("%d temp files left", n)
	}
}

// TestStatusCheckPrivilege: the health checks need nx-metrics-all, as in
// Nexus; the anonymous role's nx-healthcheck-read is not enough. The bare
// status answers everyone, for load balancers.
func TestStatusCheckPrivilege(t *testing.T) {
	s := startServer(t)
	s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", s.admin(),
		`{"enabled":true,"userId":"anonymous","realmName":"NexusAuthorizingRealm"}`, nil)
	s.createRole("health", "nx-healthcheck-read")
	s.createUser("health", "health-password-1", "health")
	s.createRole("metrics", "nx-metrics-all")
	s.createUser("metrics", "metrics-password-1", "metrics")
	for _, c := range []struct {
		who  string
		c    *creds
		want int
	}{
		{"anonymous", nil, http.StatusUnauthorized},
		{"nx-healthcheck-read", &creds{"health", "health-password-1"}, http.StatusForbidden},
		{"nx-metrics-all", &creds{"metrics", "metrics-password-1"}, http.StatusOK},
		{"admin", s.admin(), http.StatusOK},
	} {
		if res := s.doJSON(http.MethodGet, "/v1/status/check", c.c, nil, nil); res.status != c.want {
			t.Errorf("/v1/status/check as %s: %d %s, want %d", c.who, res.status, res.body, c.want)
		}
	}
	if res := s.doJSON(http.MethodGet, "/v1/status", nil, nil, nil); res.status != http.StatusOK {
		t.Errorf("/v1/status anonymously: %d", res.status)
	}
	// Roles take privilege names only; a glob is not one.
	for _, bad := range []string{"nx-repository-view-raw-raw-*-read", "nx-*", "priv-x"} {
		body := map[string]any{"id": "bad", "name": "bad", "privileges": []string{bad}, "roles": []string{}}
		if res := s.doJSON(http.MethodPost, "/v1/security/roles", s.admin(), body, nil); res.status != http.StatusBadRequest {
			t.Errorf("role granting %q: %d %s, want 400", bad, res.status, res.body)
		}
	}
}
