package docker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// fixture is a Docker format over a real metadata database, file blob store
// and auth service, with the admin password from the bootstrap.
type fixture struct {
	t         *testing.T
	blobDir   string
	db        *meta.DB
	auth      *auth.Service
	f         *Format
	m         *repo.Manager
	adminPass string
}

func newFixture(t *testing.T, grace time.Duration) *fixture {
	t.Helper()
	return newFixtureOpts(t, grace, repo.Options{})
}

// newFixtureOpts is newFixture with the engine's options (a short
// proxy.timeout).
func newFixtureOpts(t *testing.T, grace time.Duration, opts repo.Options) *fixture {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	authSvc, pw := st.Security(t, log)
	f := New(authSvc, log, Options{GCGrace: grace})
	opts.Log = log
	m := repo.NewManager(st.DB, st.Stores, authSvc, opts, f)
	return &fixture{t: t, blobDir: st.BlobDir, db: st.DB, auth: authSvc, f: f, m: m, adminPass: pw}
}

// hostedConfig is the Nexus REST body of a hosted docker repository; extra
// is spliced into the "docker" section.
func hostedConfig(name, writePolicy, extra string) string {
	docker := `"forceBasicAuth":true`
	if extra != "" {
		docker = extra
	}
	return fmt.Sprintf(`{"name":%q,"format":"docker","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":%q},
		"docker":{%s}}`, name, writePolicy, docker)
}

func (fx *fixture) create(config string) repo.Repository {
	fx.t.Helper()
	var cfg repo.Config
	if err := json.Unmarshal([]byte(config), &cfg); err != nil {
		fx.t.Fatal(err)
	}
	if err := fx.m.Create(fx.adminContext(), cfg); err != nil {
		fx.t.Fatalf("Create: %v", err)
	}
	r, ok := fx.m.Lookup(cfg.Name)
	if !ok {
		fx.t.Fatalf("repository %s not created", cfg.Name)
	}
	return r
}

// adminContext is a context whose caller is the admin user, for changing
// repositories.
func (fx *fixture) adminContext() context.Context {
	fx.t.Helper()
	p, err := fx.auth.PrincipalOf(context.Background(), auth.AdminUser)
	if err != nil {
		fx.t.Fatal(err)
	}
	return auth.WithPrincipal(context.Background(), p)
}

// connectorHandler is r's connector handler behind the resolution of the
// caller that pkg/server does for connector ports.
func (fx *fixture) connectorHandler(r repo.Repository) http.Handler {
	h := fx.f.Handler(r)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		resolved, err := fx.auth.Resolve(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, resolved)
	})
}

// connector serves r at the root of its own server, as a connector port.
func (fx *fixture) connector(r repo.Repository) *httptest.Server {
	srv := httptest.NewServer(fx.connectorHandler(r))
	fx.t.Cleanup(srv.Close)
	return srv
}

// connectorWith serves r as a connector whose requests carry ctx values set
// by wrap (the upload size limit).
func (fx *fixture) connectorWith(r repo.Repository, wrap func(context.Context) context.Context) *httptest.Server {
	h := fx.connectorHandler(r)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.ServeHTTP(w, req.WithContext(wrap(req.Context())))
	}))
	fx.t.Cleanup(srv.Close)
	return srv
}

// mainPort serves MainPortHandler behind the auth middleware, as pkg/server
// mounts it.
func (fx *fixture) mainPort() *httptest.Server {
	e := echo.New()
	e.HideBanner = true
	e.Use(fx.auth.Middleware())
	h := echo.WrapHandler(fx.f.MainPortHandler(fx.m))
	e.Any("/v2/*", h)
	e.Any("/v2", h)
	e.Any("/v1/*", h)
	srv := httptest.NewServer(e)
	fx.t.Cleanup(srv.Close)
	return srv
}

// addUser creates a user holding a role with privs.
func (fx *fixture) addUser(id, password string, privs ...string) {
	fx.t.Helper()
	ctx := auth.WithPrincipal(context.Background(), auth.System()) // users are managed by an administrator
	role := &meta.Role{ID: id + "-role", Name: id + "-role", Source: meta.SourceDefault, Privileges: privs}
	if err := fx.auth.CreateRole(ctx, role); err != nil {
		fx.t.Fatalf("CreateRole: %v", err)
	}
	u := &meta.User{ID: id, FirstName: id, LastName: "User", Email: id + "@example.org", Status: meta.UserActive,
		Roles: []string{role.ID}}
	if err := fx.auth.CreateUser(ctx, u, password); err != nil {
		fx.t.Fatalf("CreateUser: %v", err)
	}
}

// blobFiles returns the digests of the blobs stored on disk.
func (fx *fixture) blobFiles() map[string]bool {
	fx.t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(fx.blobDir, "content"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			out["sha256:"+d.Name()] = true
		}
		return nil
	})
	if err != nil {
		fx.t.Fatal(err)
	}
	return out
}

// uploadFiles returns the sizes of the resumable uploads on disk, by id.
func (fx *fixture) uploadFiles() map[string]int64 { return fx.filesIn("uploads") }

// tempFiles returns the sizes of the blob store's temporary writes (plain
// writes under way, such as monolithic uploads and proxy downloads).
func (fx *fixture) tempFiles() map[string]int64 { return fx.filesIn("tmp") }

func (fx *fixture) filesIn(dir string) map[string]int64 {
	fx.t.Helper()
	entries, err := os.ReadDir(filepath.Join(fx.blobDir, dir))
	if err != nil {
		fx.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out[e.Name()] = info.Size()
	}
	return out
}

// waitFor polls cond, a bounded number of times, and fails if it never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s", what)
}

// client talks to one server as one caller: Basic credentials, a Bearer
// token, or nobody.
type client struct {
	t     *testing.T
	base  string
	user  string
	pass  string
	token string
}

func (fx *fixture) admin(srv *httptest.Server) *client {
	return &client{t: fx.t, base: srv.URL, user: auth.AdminUser, pass: fx.adminPass}
}

func anon(t *testing.T, srv *httptest.Server) *client { return &client{t: t, base: srv.URL} }

func bearerClient(t *testing.T, srv *httptest.Server, token string) *client {
	return &client{t: t, base: srv.URL, token: token}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

// do sends a request; p is a path (with query) on the server, or a
// Location the server returned.
func (c *client) do(method, p string, body []byte, hdr map[string]string) *response {
	c.t.Helper()
	resp, err := c.send(method, p, body, hdr)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

// send is do for goroutines: it returns errors rather than failing the test.
func (c *client) send(method, p string, body []byte, hdr map[string]string) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url(p), rd)
	if err != nil {
		return nil, err
	}
	if body == nil && (method == http.MethodPut || method == http.MethodPatch || method == http.MethodPost) {
		req.ContentLength = 0
	}
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.user != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, p, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: raw}, nil
}

func (c *client) url(p string) string {
	if strings.HasPrefix(p, "http://") {
		return p
	}
	return c.base + p
}

// withQuery appends a query parameter to a path or Location.
func withQuery(p, kv string) string {
	if strings.Contains(p, "?") {
		return p + "&" + kv
	}
	return p + "?" + kv
}

// token fetches a token for scope from /v2/token with c's credentials.
func (c *client) getToken(scope string) (string, *response) {
	c.t.Helper()
	p := "/v2/token?service=test"
	if scope != "" {
		p += "&scope=" + url.QueryEscape(scope)
	}
	resp := c.do(http.MethodGet, p, nil, nil)
	if resp.status != http.StatusOK {
		return "", resp
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		c.t.Fatalf("token response %s: %v", resp.body, err)
	}
	if body.Token == "" || body.AccessToken != body.Token || body.ExpiresIn <= 0 {
		c.t.Fatalf("token response lacks token/access_token/expires_in: %s", resp.body)
	}
	return body.Token, resp
}

// expect fails unless resp has status.
func expect(t *testing.T, what string, resp *response, status int) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("%s: got %s, want %d", what, resp, status)
	}
}

// ociErr is one entry of an error body.
type ociErr struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail"`
}

// expectError checks status and that the body is the spec's error JSON with
// code first; it returns that entry.
func expectError(t *testing.T, what string, resp *response, status int, code string) ociErr {
	t.Helper()
	if resp.status != status {
		t.Fatalf("%s: got %s, want %d %s", what, resp, status, code)
	}
	return checkErrorBody(t, what, resp, code)
}

func checkErrorBody(t *testing.T, what string, resp *response, code string) ociErr {
	t.Helper()
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: error Content-Type %q, want application/json", what, ct)
	}
	var body struct {
		Errors []ociErr `json:"errors"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("%s: error body %q is not JSON: %v", what, resp.body, err)
	}
	if len(body.Errors) == 0 || body.Errors[0].Code == "" || body.Errors[0].Message == "" {
		t.Fatalf("%s: error body %s lacks errors[0].code/message", what, resp.body)
	}
	if code != "" && body.Errors[0].Code != code {
		t.Fatalf("%s: error code %s (%s), want %s", what, body.Errors[0].Code, resp.body, code)
	}
	return body.Errors[0]
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// pushBlob uploads data monolithically (POST ?digest=) to name.
func (c *client) pushBlob(name string, data []byte) digest.Digest {
	c.t.Helper()
	d := digest.FromBytes(data)
	resp := c.do(http.MethodPost, "/v2/"+name+"/blobs/uploads/?digest="+d.String(), data,
		map[string]string{"Content-Type": "application/octet-stream"})
	expect(c.t, "monolithic upload", resp, http.StatusCreated)
	if got := resp.header.Get("Docker-Content-Digest"); got != d.String() {
		c.t.Fatalf("upload Docker-Content-Digest %q, want %s", got, d)
	}
	return d
}

// startUpload opens an upload session and returns its Location.
func (c *client) startUpload(name string) string {
	c.t.Helper()
	resp := c.do(http.MethodPost, "/v2/"+name+"/blobs/uploads/", nil, nil)
	expect(c.t, "start upload", resp, http.StatusAccepted)
	loc := resp.header.Get("Location")
	if loc == "" || resp.header.Get("Docker-Upload-UUID") == "" {
		c.t.Fatalf("start upload: no Location or Docker-Upload-UUID: %v", resp.header)
	}
	return loc
}

// pushBlobChunked uploads data in chunks of size (POST, PATCH..., PUT) and
// returns the final response.
func (c *client) pushBlobChunked(name string, data []byte, size int) *response {
	c.t.Helper()
	loc := c.startUpload(name)
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		resp := c.do(http.MethodPatch, loc, data[off:end], map[string]string{
			"Content-Type":  "application/octet-stream",
			"Content-Range": fmt.Sprintf("%d-%d", off, end-1),
		})
		if resp.status != http.StatusAccepted {
			return resp
		}
		if want := fmt.Sprintf("0-%d", end-1); resp.header.Get("Range") != want {
			c.t.Fatalf("PATCH Range %q, want %q", resp.header.Get("Range"), want)
		}
		loc = resp.header.Get("Location")
	}
	return c.do(http.MethodPut, withQuery(loc, "digest="+digest.FromBytes(data).String()), nil, nil)
}

func (c *client) putManifest(name, ref, mediaType string, body []byte) *response {
	c.t.Helper()
	hdr := map[string]string{}
	if mediaType != "" {
		hdr["Content-Type"] = mediaType
	}
	return c.do(http.MethodPut, "/v2/"+name+"/manifests/"+ref, body, hdr)
}

func desc(mediaType string, data []byte) descriptor {
	return descriptor{MediaType: mediaType, Digest: digest.FromBytes(data).String(), Size: int64(len(data))}
}

// imageManifest builds an image manifest of mediaType for config and layers.
func imageManifest(t *testing.T, mediaType string, config []byte, layers ...[]byte) []byte {
	t.Helper()
	layerType := "application/vnd.oci.image.layer.v1.tar+gzip"
	configType := "application/vnd.oci.image.config.v1+json"
	if mediaType == mtDockerManifest {
		layerType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
		configType = "application/vnd.docker.container.image.v1+json"
	}
	m := map[string]any{"schemaVersion": 2, "mediaType": mediaType, "config": desc(configType, config)}
	ls := []descriptor{}
	for _, l := range layers {
		ls = append(ls, desc(layerType, l))
	}
	m["layers"] = ls
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// pushImage uploads config and layers and puts an OCI manifest at ref; it
// returns the manifest and its digest.
func (c *client) pushImage(name, ref string, config []byte, layers ...[]byte) ([]byte, digest.Digest) {
	c.t.Helper()
	c.pushBlob(name, config)
	for _, l := range layers {
		c.pushBlob(name, l)
	}
	m := imageManifest(c.t, mtOCIManifest, config, layers...)
	resp := c.putManifest(name, ref, mtOCIManifest, m)
	expect(c.t, "put manifest "+name+":"+ref, resp, http.StatusCreated)
	d := digest.FromBytes(m)
	if got := resp.header.Get("Docker-Content-Digest"); got != d.String() {
		c.t.Fatalf("put manifest Docker-Content-Digest %q, want %s", got, d)
	}
	return m, d
}

// challengeParams parses a Bearer WWW-Authenticate header.
func challengeParams(t *testing.T, h string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		t.Fatalf("challenge %q is not Bearer", h)
	}
	out := map[string]string{}
	for rest != "" {
		k, v, ok := strings.Cut(rest, "=")
		if !ok || !strings.HasPrefix(v, `"`) {
			t.Fatalf("malformed challenge %q", h)
		}
		end := strings.Index(v[1:], `"`)
		if end < 0 {
			t.Fatalf("malformed challenge %q", h)
		}
		out[k] = v[1 : end+1]
		rest = strings.TrimPrefix(v[end+2:], ",")
	}
	return out
}

func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func mustLookup(t *testing.T, fx *fixture, name string) repo.Repository {
	t.Helper()
	r, ok := fx.m.Lookup(name)
	if !ok {
		t.Fatalf("repository %s not found", name)
	}
	return r
}

// settle waits for the proxies' downloads to be stored: a client has a
// proxied blob before it is in the cache.
func (fx *fixture) settle() {
	fx.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fx.m.Settle(ctx); err != nil {
		fx.t.Fatalf("proxy downloads still running: %v", err)
	}
}
