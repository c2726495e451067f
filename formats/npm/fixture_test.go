package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
)

// fixture is a manager serving the npm format, with a security service
// for logins and tokens (the manager itself allows every action).
type fixture struct {
	*managertest.Env
	t       *testing.T
	f       *Format
	adminPW string
}

func newFixture(t *testing.T) *fixture { return fixtureWith(t, false) }

// newSecuredFixture is a fixture whose manager decides with the security
// service's privileges, as the server's does.
func newSecuredFixture(t *testing.T) *fixture { return fixtureWith(t, true) }

func fixtureWith(t *testing.T, secured bool) *fixture {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	f := New(nil, log)
	var authz repo.Authorizer
	if secured {
		authz = securityOf{f}
	}
	env := managertest.New(t, authz, repo.Options{}, f)
	security, pw := env.Storage.Security(t, log)
	f.security = security
	return &fixture{Env: env, t: t, f: f, adminPW: pw}
}

// as is a context of a request by the principal of token, as the server
// resolves Bearer tokens.
func (fx *fixture) as(user string) context.Context {
	fx.t.Helper()
	p, err := fx.f.security.PrincipalOf(fx.t.Context(), user)
	if err != nil {
		fx.t.Fatal(err)
	}
	return auth.WithPrincipal(fx.t.Context(), p)
}

// securityOf authorizes with the format's security service, which exists
// only once the manager's storage does. What runs without a caller is the
// fixture setting up (managertest creates repositories so): the system's.
type securityOf struct{ f *Format }

func (s securityOf) Require(ctx context.Context, perm auth.Privilege) error {
	if auth.PrincipalFrom(ctx) == nil {
		ctx = auth.WithPrincipal(ctx, auth.System())
	}
	return s.f.security.Require(ctx, perm)
}

// user creates a user holding the privileges and returns a context of
// its requests.
func (fx *fixture) user(id string, privileges ...string) context.Context {
	fx.t.Helper()
	ctx := auth.WithPrincipal(fx.t.Context(), auth.System()) // users are managed by an administrator
	if err := fx.f.security.CreateRole(ctx, &meta.Role{ID: id + "-role", Privileges: privileges}); err != nil {
		fx.t.Fatal(err)
	}
	u := &meta.User{ID: id, FirstName: id, LastName: id, Email: id + "@example.org", Status: "active", Roles: []string{id + "-role"}}
	if err := fx.f.security.CreateUser(ctx, u, "password-of-"+id); err != nil {
		fx.t.Fatal(err)
	}
	return fx.as(id)
}

func (fx *fixture) hosted(name string) repo.Repository {
	fx.t.Helper()
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"npm","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow_once"}}`, name))
}

func (fx *fixture) proxy(name, remote string) repo.Repository {
	fx.t.Helper()
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"npm","type":"proxy","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
		"proxy":{"remoteUrl":%q,"contentMaxAge":1440,"metadataMaxAge":0},
		"negativeCache":{"enabled":false,"timeToLive":1440},"httpClient":{"autoBlock":false}}`, name, remote))
}

// group creates a group of members; npm is its "npm" section, or "".
func (fx *fixture) group(name, writable, npm string, members ...string) repo.Repository {
	fx.t.Helper()
	section := ""
	if npm != "" {
		section = `,"npm":` + npm
	}
	m, _ := json.Marshal(members)
	return fx.Create(fmt.Sprintf(`{"name":%q,"format":"npm","type":"group","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
		"group":{"memberNames":%s,"writableMember":%q}%s}`, name, m, writable, section))
}

// do sends a request for the escaped path tail of r, cleaned as the
// server cleans it (a path the engine refuses is a 400, as there).
func (fx *fixture) do(ctx context.Context, r repo.Repository, method, escaped string, body []byte, hdr map[string]string) *managertest.Response {
	fx.t.Helper()
	path, query, _ := strings.Cut(escaped, "?")
	p, _, err := repo.CleanPath(fx.f, path)
	if err != nil {
		resp := &managertest.Response{ResponseRecorder: httptest.NewRecorder()}
		writeError(resp, httptest.NewRequest(method, "/", nil), fx.f.log, err)
		return resp
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	return fx.DoQuery(ctx, r, method, p, query, rd, hdr)
}

// get is a GET of escaped, wanting status.
func (fx *fixture) get(r repo.Repository, escaped string, hdr map[string]string, status int) []byte {
	fx.t.Helper()
	w := fx.do(fx.t.Context(), r, http.MethodGet, escaped, nil, hdr)
	if w.Code != status {
		fx.t.Fatalf("GET %s/%s: status %d, want %d: %s", r.Name(), escaped, w.Code, status, w.Body.String())
	}
	return w.Body.Bytes()
}

// doc is the full packument of escaped through r, decoded.
func (fx *fixture) doc(r repo.Repository, escaped string) packumentJSON {
	fx.t.Helper()
	var d packumentJSON
	if err := json.Unmarshal(fx.get(r, escaped, map[string]string{"Accept": "application/json"}, http.StatusOK), &d); err != nil {
		fx.t.Fatalf("packument %s: %v", escaped, err)
	}
	return d
}

// packumentJSON is what tests read of a packument.
type packumentJSON struct {
	ID       string                    `json:"_id"`
	Name     string                    `json:"name"`
	Rev      string                    `json:"_rev"`
	DistTags map[string]string         `json:"dist-tags"`
	Versions map[string]map[string]any `json:"versions"`
	Time     map[string]string         `json:"time"`
}

// tarballURL is dist.tarball of version v.
func (d packumentJSON) tarballURL(v string) string {
	dist, _ := d.Versions[v]["dist"].(map[string]any)
	s, _ := dist["tarball"].(string)
	return s
}

// escaped is how npm writes a package name in a path: "@scope%2fname".
func escaped(name string) string { return strings.Replace(name, "/", "%2f", 1) }

// publishTo publishes p to r with tag latest and returns the response.
func (fx *fixture) publishTo(ctx context.Context, r repo.Repository, p npmtest.Package, body map[string]any) *managertest.Response {
	fx.t.Helper()
	if body == nil {
		body = p.Document(p.Tarball(), "latest")
	}
	b, _ := json.Marshal(body)
	return fx.do(ctx, r, http.MethodPut, escaped(p.Name), b, map[string]string{"Content-Type": "application/json"})
}

// publish publishes p to r, wanting a 200.
func (fx *fixture) publish(r repo.Repository, p npmtest.Package) {
	fx.t.Helper()
	if w := fx.publishTo(fx.t.Context(), r, p, nil); w.Code != http.StatusOK {
		fx.t.Fatalf("publishing %s@%s to %s: %d %s", p.Name, p.Version, r.Name(), w.Code, w.Body.String())
	}
}

// errorOf is the "error" of an npm error answer, failing on another shape.
func errorOf(t *testing.T, w *managertest.Response) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d answer %q (%s) is not an npm error", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
	return e.Error
}

// registry is a minimal npm registry on 127.0.0.1: packuments by name
// (requested as npm does, "@scope%2fname"), tarballs by path. It records
// the requests it gets.
type registry struct {
	*httptest.Server
	mu       sync.Mutex
	docs     map[string][]byte
	files    map[string][]byte
	requests []string // "<Accept> <escaped path>"
}

func newRegistry(t *testing.T) *registry {
	t.Helper()
	reg := &registry{docs: map[string][]byte{}, files: map[string][]byte{}}
	reg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg.mu.Lock()
		defer reg.mu.Unlock()
		reg.requests = append(reg.requests, r.Header.Get("Accept")+" "+r.URL.EscapedPath())
		p := strings.TrimPrefix(r.URL.EscapedPath(), "/")
		switch p {
		case "-/v1/search":
			fmt.Fprintf(w, `{"objects":[{"package":{"name":"upstream-hit","version":"1.0.0","maintainers":[]}},{"package":{"name":"foo","version":"2.0.0","maintainers":[]}}],"total":2,"time":"now","text":%q}`, r.URL.Query().Get("text"))
			return
		case "-/npm/v1/security/advisories/bulk":
			// Answers what it got: a gzip body passed through as sent.
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, `{"encoding":%q,"bytes":%d}`, r.Header.Get("Content-Encoding"), len(b))
			return
		}
		if b, ok := reg.files[p]; ok {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(b)
			return
		}
		if b, ok := reg.docs[strings.Replace(p, "%2f", "/", 1)]; ok && !strings.Contains(p, "/") {
			w.Header().Set("Content-Type", "application/json")
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(reg.Close)
	return reg
}

// add serves versions of name, each with tgz as its tarball unless bad
// names a version whose listed integrity is that of other bytes.
func (reg *registry) add(t *testing.T, name string, versions []string, bad string) {
	t.Helper()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	vs := map[string]any{}
	times := map[string]string{"created": "2020-01-01T00:00:00.000Z", "modified": "2020-01-02T00:00:00.000Z"}
	for _, v := range versions {
		p := npmtest.Package{Name: name, Version: v}
		tgz := p.Tarball()
		listed := tgz
		if v == bad {
			listed = []byte("other bytes")
		}
		m := p.Manifest(listed)
		file := tarballFile(name, v)
		m["dist"].(map[string]any)["tarball"] = reg.URL + "/" + name + "/-/" + file
		m["scripts"] = map[string]string{"postinstall": "node x.js", "test": "true"}
		vs[v] = m
		times[v] = "2020-01-01T00:00:00.000Z"
		reg.files[name+"/-/"+file] = tgz
	}
	reg.docs[name] = mustJSON(map[string]any{
		"_id": name, "name": name, "_rev": "3-upstream",
		"dist-tags": map[string]string{"latest": latestOf(versions)},
		"versions":  vs, "time": times, "readme": "upstream readme",
	})
}

// seen returns the requests so far.
func (reg *registry) seen() []string {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return append([]string(nil), reg.requests...)
}

// corgi is the Accept header npm's pacote sends for packuments.
const corgi = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"
