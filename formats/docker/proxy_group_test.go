package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// ---------------------------------------------------------------------------
// The upstream: a small in-memory OCI registry with an optional token realm.
// ---------------------------------------------------------------------------

type upManifest struct {
	body      []byte
	mediaType string
}

// upstreamRegistry serves blobs, manifests and tag lists by repository name,
// counts every request by method and path and, with realm on, sends callers
// without a valid Bearer token to its own /token endpoint first.
type upstreamRegistry struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	blobs     map[string][]byte     // name + "@" + digest
	manifests map[string]upManifest // name + "@" + digest
	tags      map[string]string     // name + ":" + tag -> digest
	hits      map[string]int        // method + " " + path
	accepts   []string              // method + " " + path + " " + Accept, of manifest requests
	// fault, when set, sees every authorized request first; it answers it
	// itself by returning true.
	fault     func(w http.ResponseWriter, r *http.Request) bool
	rateLimit string

	realm     bool
	realmUser string // when set, /token needs these Basic credentials
	realmPass string
	tokens    map[string][]string // token -> scopes it grants
	tokenReqs []*http.Request     // /token requests (clones, for their query and auth)
	unauth    int                 // 401s sent to registry requests
}

func newUpstream(t *testing.T) *upstreamRegistry {
	u := &upstreamRegistry{t: t, blobs: map[string][]byte{}, manifests: map[string]upManifest{},
		tags: map[string]string{}, hits: map[string]int{}, tokens: map[string][]string{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstreamRegistry) putBlob(name string, data []byte) digest.Digest {
	d := digest.FromBytes(data)
	u.putRawBlob(name, d, data)
	return d
}

// putRawBlob stores data as blob d, whether or not d is its digest.
func (u *upstreamRegistry) putRawBlob(name string, d digest.Digest, data []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.blobs[name+"@"+d.String()] = data
}

func (u *upstreamRegistry) putManifest(name, tag, mediaType string, body []byte) digest.Digest {
	d := digest.FromBytes(body)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.manifests[name+"@"+d.String()] = upManifest{body: body, mediaType: mediaType}
	if tag != "" {
		u.tags[name+":"+tag] = d.String()
	}
	return d
}

// pushImage stores config, layers and an image manifest of mediaType
// tagged tag.
func (u *upstreamRegistry) pushImage(name, tag, mediaType string, config []byte, layers ...[]byte) ([]byte, digest.Digest) {
	u.t.Helper()
	u.putBlob(name, config)
	for _, l := range layers {
		u.putBlob(name, l)
	}
	m := imageManifest(u.t, mediaType, config, layers...)
	return m, u.putManifest(name, tag, mediaType, m)
}

func (u *upstreamRegistry) count(method, p string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[method+" "+p]
}

// countPrefix counts the requests of any method whose path starts with prefix.
func (u *upstreamRegistry) countPrefix(prefix string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for k, v := range u.hits {
		_, p, _ := strings.Cut(k, " ")
		if strings.HasPrefix(p, prefix) {
			n += v
		}
	}
	return n
}

func (u *upstreamRegistry) total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, v := range u.hits {
		n += v
	}
	return n
}

func (u *upstreamRegistry) setFault(f func(w http.ResponseWriter, r *http.Request) bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.fault = f
}

func (u *upstreamRegistry) tokenRequests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.tokenReqs)
}

// repoName is the repository name of a /v2/ path, "" for other paths.
func upstreamName(p string) (name, kind, ref string) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return "", "", ""
	}
	if n, ok := strings.CutSuffix(rest, "/tags/list"); ok {
		return n, "tags", ""
	}
	for _, marker := range []string{"/manifests/", "/blobs/"} {
		if i := strings.LastIndex(rest, marker); i > 0 {
			return rest[:i], strings.Trim(marker, "/"), rest[i+len(marker):]
		}
	}
	return "", "", ""
}

func (u *upstreamRegistry) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		u.serveToken(w, r)
		return
	}
	name, kind, ref := upstreamName(r.URL.Path)
	u.mu.Lock()
	u.hits[r.Method+" "+r.URL.Path]++
	if kind == "manifests" {
		u.accepts = append(u.accepts, r.Method+" "+r.URL.Path+" "+r.Header.Get("Accept"))
	}
	fault, rl := u.fault, u.rateLimit
	authorized := !u.realm
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && u.realm {
		authorized = slices.Contains(u.tokens[tok], "repository:"+name+":pull")
	}
	if !authorized {
		u.unauth++
	}
	u.mu.Unlock()
	if rl != "" {
		w.Header().Set("RateLimit-Remaining", rl)
		w.Header().Set("RateLimit-Limit", "100;w=21600")
	}
	if !authorized {
		ch := fmt.Sprintf(`Bearer realm="http://%s/token",service="test-registry"`, r.Host)
		if name != "" {
			ch += fmt.Sprintf(`,scope="repository:%s:pull"`, name)
		}
		w.Header().Set("WWW-Authenticate", ch)
		upstreamError(w, r, http.StatusUnauthorized, "UNAUTHORIZED")
		return
	}
	if fault != nil && fault(w, r) {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		upstreamError(w, r, http.StatusMethodNotAllowed, "UNSUPPORTED")
		return
	}
	if r.URL.Path == "/v2/" {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	}
	u.mu.Lock()
	switch kind {
	case "tags":
		var list []string
		for k := range u.tags {
			if n, tag, _ := strings.Cut(k, ":"); n == name {
				list = append(list, tag)
			}
		}
		u.mu.Unlock()
		if len(list) == 0 {
			upstreamError(w, r, http.StatusNotFound, "NAME_UNKNOWN")
			return
		}
		sort.Strings(list)
		body, _ := json.Marshal(map[string]any{"name": name, "tags": list})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodGet {
			w.Write(body)
		}
	case "manifests":
		d := ref
		if !strings.Contains(ref, ":") {
			d = u.tags[name+":"+ref]
		}
		m, ok := u.manifests[name+"@"+d]
		u.mu.Unlock()
		if !ok {
			upstreamError(w, r, http.StatusNotFound, "MANIFEST_UNKNOWN")
			return
		}
		h := w.Header()
		h.Set("Content-Type", m.mediaType)
		h.Set("Docker-Content-Digest", d)
		h.Set("ETag", `"`+d+`"`)
		if r.Header.Get("If-None-Match") == `"`+d+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", fmt.Sprint(len(m.body)))
		if r.Method == http.MethodGet {
			w.Write(m.body)
		}
	case "blobs":
		data, ok := u.blobs[name+"@"+ref]
		u.mu.Unlock()
		if !ok {
			upstreamError(w, r, http.StatusNotFound, "BLOB_UNKNOWN")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Docker-Content-Digest", ref)
		h.Set("Content-Length", fmt.Sprint(len(data)))
		if r.Method == http.MethodGet {
			w.Write(data)
		}
	default:
		u.mu.Unlock()
		upstreamError(w, r, http.StatusNotFound, "NOT_FOUND")
	}
}

func upstreamError(w http.ResponseWriter, r *http.Request, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `{"errors":[{"code":%q,"message":"upstream says %s"}]}`, code, code)
	}
}

// serveToken is the token realm: it checks the Basic credentials if it
// needs any and grants the requested scopes for 60 seconds.
func (u *upstreamRegistry) serveToken(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.tokenReqs = append(u.tokenReqs, r.Clone(context.Background()))
	if u.realmUser != "" {
		user, pass, ok := r.BasicAuth()
		if !ok || user != u.realmUser || pass != u.realmPass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test-registry"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"details":"incorrect username or password"}`))
			return
		}
	}
	tok := fmt.Sprintf("tok-%d", len(u.tokenReqs))
	u.tokens[tok] = r.URL.Query()["scope"]
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": tok, "expires_in": 60})
}

// ---------------------------------------------------------------------------
// Repositories and requests.
// ---------------------------------------------------------------------------

// proxyConfig is the Nexus REST body of a docker proxy of remote; edit
// adjusts it (sub-sections are map[string]any).
func proxyConfig(t *testing.T, name, remote string, edit func(cfg map[string]any)) string {
	t.Helper()
	cfg := map[string]any{
		"name": name, "format": "docker", "type": "proxy", "online": true,
		"storage":       map[string]any{"blobStoreName": "default", "strictContentTypeValidation": true},
		"proxy":         map[string]any{"remoteUrl": remote, "contentMaxAge": 1440, "metadataMaxAge": 1440},
		"negativeCache": map[string]any{"enabled": true, "timeToLive": 1440},
		"httpClient":    map[string]any{"blocked": false, "autoBlock": true},
		"docker":        map[string]any{"forceBasicAuth": true},
		"dockerProxy":   map[string]any{"indexType": "REGISTRY"},
	}
	if edit != nil {
		edit(cfg)
	}
	return string(mustJSON(t, cfg))
}

func sectionOf(cfg map[string]any, key string) map[string]any { return cfg[key].(map[string]any) }

func groupConfig(name, writable string, members ...string) string {
	g := map[string]any{"memberNames": members}
	if writable != "" {
		g["writableMember"] = writable
	}
	raw, _ := json.Marshal(map[string]any{
		"name": name, "format": "docker", "type": "group", "online": true,
		"storage": map[string]any{"blobStoreName": "default", "strictContentTypeValidation": true},
		"group":   g,
		"docker":  map[string]any{"forceBasicAuth": true},
	})
	return string(raw)
}

// pgHTTP bounds every request of these tests, so a proxy that hangs fails
// the test instead of stalling it.
var pgHTTP = &http.Client{Timeout: 60 * time.Second}

// pgSend sends a request as c's caller and reports transport and body
// errors (an aborted stream) instead of failing.
func pgSend(c *client, method, p string, hdr map[string]string) (*response, error) {
	req, err := http.NewRequest(method, c.url(p), nil)
	if err != nil {
		return nil, err
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := pgHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	out := &response{status: resp.StatusCode, header: resp.Header, body: body}
	if err != nil {
		return out, fmt.Errorf("%s %s: reading body: %w", method, p, err)
	}
	return out, nil
}

// pgDo is pgSend that fails the test on errors.
func pgDo(t *testing.T, c *client, method, p string) *response {
	t.Helper()
	resp, err := pgSend(c, method, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// wantContent GETs (or HEADs) p and checks status 200, the body, the
// digest header and, if contentType is set, the Content-Type.
func wantContent(t *testing.T, c *client, method, p string, body []byte, d digest.Digest, contentType string) {
	t.Helper()
	resp := pgDo(t, c, method, p)
	what := method + " " + p
	if resp.status != http.StatusOK {
		t.Fatalf("%s: got %s, want 200", what, resp)
	}
	if got := resp.header.Get("Docker-Content-Digest"); got != d.String() {
		t.Errorf("%s: Docker-Content-Digest %q, want %s", what, got, d)
	}
	if contentType != "" {
		if got := resp.header.Get("Content-Type"); got != contentType {
			t.Errorf("%s: Content-Type %q, want %q", what, got, contentType)
		}
	}
	if got := resp.header.Get("Content-Length"); got != fmt.Sprint(len(body)) {
		t.Errorf("%s: Content-Length %q, want %d", what, got, len(body))
	}
	if method == http.MethodGet && string(resp.body) != string(body) {
		t.Errorf("%s: body (%d bytes) differs from the upstream's (%d bytes)", what, len(resp.body), len(body))
	}
}

// wantServerError checks a 5xx answer with the spec's error JSON.
func wantServerError(t *testing.T, what string, resp *response) {
	t.Helper()
	if resp.status < 500 || resp.status > 599 {
		t.Fatalf("%s: got %s, want a 5xx error", what, resp)
	}
	checkErrorBody(t, what, resp, "")
}

func tagsOfResp(t *testing.T, resp *response) []string {
	t.Helper()
	var body struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("tag list %s: %v", resp.body, err)
	}
	return body.Tags
}

func wantTags(t *testing.T, c *client, name string, want ...string) {
	t.Helper()
	resp := pgDo(t, c, http.MethodGet, "/v2/"+name+"/tags/list")
	if resp.status != http.StatusOK {
		t.Fatalf("tags of %s: got %s", name, resp)
	}
	if got := tagsOfResp(t, resp); !slices.Equal(got, want) {
		t.Fatalf("tags of %s: %q, want %q", name, got, want)
	}
}

// notCached checks that the repository has no asset at p and the blob
// store has none of the given digests.
func notCached(t *testing.T, fx *fixture, r repo.Repository, p string, ds ...digest.Digest) {
	t.Helper()
	if a, err := r.Stat(context.Background(), p); errs.KindOf(err) != errs.NotFound {
		t.Errorf("%s: %s is cached (asset %v, err %v)", r.Name(), p, a, err)
	}
	files := fx.blobFiles()
	for _, d := range ds {
		if files[d.String()] {
			t.Errorf("blob store holds %s", d)
		}
	}
}

// waitCached waits (boundedly) until r has an asset at p: a first proxy
// download is recorded once its last byte is stored, which may be just
// after the client read it.
func waitCached(t *testing.T, r repo.Repository, p string) {
	t.Helper()
	waitFor(t, r.Name()+" to cache "+p, func() bool {
		_, err := r.Stat(context.Background(), p)
		return err == nil
	})
}

// settleDownloads makes the test wait, at its end, for proxy downloads
// still being written to the blob store (a client may have its bytes, or
// have hung up, before they are), so the temporary directory can go.
func settleDownloads(t *testing.T, fx *fixture) {
	t.Cleanup(func() {
		tmp := filepath.Join(fx.blobDir, "tmp")
		for range 1000 {
			if entries, err := os.ReadDir(tmp); err != nil || len(entries) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// proxyFixture is a fixture with an upstream and a proxy of it served on
// its own connector.
func proxyFixture(t *testing.T, edit func(cfg map[string]any)) (*fixture, *upstreamRegistry, repo.Repository, *client) {
	t.Helper()
	return proxyFixtureGrace(t, time.Hour, edit)
}

// proxyFixtureGrace is proxyFixture with the GC grace period given.
func proxyFixtureGrace(t *testing.T, grace time.Duration, edit func(cfg map[string]any)) (*fixture, *upstreamRegistry, repo.Repository, *client) {
	t.Helper()
	fx := newFixture(t, grace)
	settleDownloads(t, fx)
	up := newUpstream(t)
	r := fx.create(proxyConfig(t, "docker-proxy", up.srv.URL, edit))
	return fx, up, r, fx.admin(fx.connector(r))
}

// ---------------------------------------------------------------------------
// Proxy tests.
// ---------------------------------------------------------------------------

func TestProxyPullThrough(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, nil)
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := randomBytes(t, 300<<10)
	m, md := up.pushImage("team/app", "1.0", mtDockerManifest, config, layer)
	cd, ld := digest.FromBytes(config), digest.FromBytes(layer)

	pull := func() {
		t.Helper()
		wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", m, md, mtDockerManifest)
		wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/"+md.String(), m, md, mtDockerManifest)
		wantContent(t, c, http.MethodHead, "/v2/team/app/manifests/1.0", m, md, mtDockerManifest)
		wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+cd.String(), config, cd, "")
		wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+ld.String(), layer, ld, "")
	}
	pull()
	fx.settle()
	counts := func() []int {
		return []int{up.count("GET", "/v2/team/app/manifests/1.0"), up.count("GET", "/v2/team/app/manifests/"+md.String()),
			up.count("GET", "/v2/team/app/blobs/"+cd.String()), up.count("GET", "/v2/team/app/blobs/"+ld.String())}
	}
	if got := counts(); !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Fatalf("upstream GETs of tag, manifest, config, layer after the first pull: %v, want one each", got)
	}
	before := up.total()
	pull()
	if got := counts(); !slices.Equal(got, []int{1, 1, 1, 1}) {
		t.Errorf("upstream GETs after the second pull: %v, want still one each", got)
	}
	if up.total() != before {
		t.Errorf("the second pull sent %d requests upstream, want none", up.total()-before)
	}

	files := fx.blobFiles()
	for _, d := range []digest.Digest{md, cd, ld} {
		if !files[d.String()] {
			t.Errorf("blob store lacks %s after the pull", d)
		}
	}
	if a, err := r.Stat(context.Background(), blobPath("team/app", ld)); err != nil || a.Size != int64(len(layer)) {
		t.Errorf("cached layer asset %v, %v", a, err)
	}

	up.mu.Lock()
	accepts := slices.Clone(up.accepts)
	up.mu.Unlock()
	if len(accepts) == 0 {
		t.Fatal("the upstream saw no manifest request")
	}
	for _, a := range accepts {
		for _, mt := range []string{mtOCIIndex, mtOCIManifest, mtDockerList, mtDockerManifest} {
			if !strings.Contains(a, mt) {
				t.Errorf("manifest request %q does not accept %s", a, mt)
			}
		}
	}
}

// A cold HEAD of a blob answers from the upstream's headers and caches the
// blob in the background; a GET right after joins that download or reads
// the cache, it never downloads again.
func TestProxyHeadColdBlob(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, nil)
	layer := randomBytes(t, 1<<20)
	ld := up.putBlob("team/app", layer)
	p := "/v2/team/app/blobs/" + ld.String()
	wantContent(t, c, http.MethodHead, p, layer, ld, "")
	wantContent(t, c, http.MethodGet, p, layer, ld, "")
	if n := up.count("GET", p); n != 1 {
		t.Errorf("upstream GETs of the blob: %d, want 1", n)
	}
	// A cold manifest HEAD, too, gets the right digest.
	m, md := up.pushImage("team/app", "2.0", mtOCIManifest, []byte(`{"a":1}`), layer)
	wantContent(t, c, http.MethodHead, "/v2/team/app/manifests/2.0", m, md, mtOCIManifest)
}

func TestProxyTokenRealmAnonymous(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, nil)
	up.realm = true
	config, layer := []byte(`{"os":"linux"}`), randomBytes(t, 4096)
	m, md := up.pushImage("tok/app", "1.0", mtOCIManifest, config, layer)
	other, od := up.pushImage("tok/other", "1.0", mtOCIManifest, []byte(`{"os":"other"}`), layer)

	wantContent(t, c, http.MethodGet, "/v2/tok/app/manifests/1.0", m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/tok/app/manifests/"+md.String(), m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/tok/app/blobs/"+digest.FromBytes(config).String(), config, digest.FromBytes(config), "")
	wantContent(t, c, http.MethodGet, "/v2/tok/app/blobs/"+digest.FromBytes(layer).String(), layer, digest.FromBytes(layer), "")
	wantTags(t, c, "tok/app", "1.0")
	reqs := up.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("token requests for one scope: %d, want 1 (the token is reused)", len(reqs))
	}
	q := reqs[0].URL.Query()
	if q.Get("service") != "test-registry" || !slices.Equal(q["scope"], []string{"repository:tok/app:pull"}) {
		t.Errorf("token request query %q, want service=test-registry&scope=repository:tok/app:pull", reqs[0].URL.RawQuery)
	}
	if h := reqs[0].Header.Get("Authorization"); h != "" {
		t.Errorf("anonymous token request carries Authorization %q", h)
	}

	wantContent(t, c, http.MethodGet, "/v2/tok/other/manifests/1.0", other, od, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/tok/other/blobs/"+digest.FromBytes(layer).String(), layer, digest.FromBytes(layer), "")
	if n := len(up.tokenRequests()); n != 2 {
		t.Errorf("token requests for two scopes: %d, want 2", n)
	}
	up.mu.Lock()
	unauth := up.unauth
	up.mu.Unlock()
	if unauth != 2 {
		t.Errorf("the upstream sent %d challenges, want one per scope (2)", unauth)
	}
}

func TestProxyTokenRealmBasic(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["authentication"] = map[string]any{"type": "username", "username": "u", "password": "p"}
	})
	up.realm, up.realmUser, up.realmPass = true, "u", "p"
	config, layer := []byte(`{"os":"linux"}`), randomBytes(t, 4096)
	m, md := up.pushImage("private/app", "1.0", mtOCIManifest, config, layer)
	wantContent(t, c, http.MethodGet, "/v2/private/app/manifests/1.0", m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/private/app/manifests/"+md.String(), m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/private/app/blobs/"+digest.FromBytes(config).String(), config, digest.FromBytes(config), "")
	wantContent(t, c, http.MethodGet, "/v2/private/app/blobs/"+digest.FromBytes(layer).String(), layer, digest.FromBytes(layer), "")
	reqs := up.tokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("token requests: %d, want 1", len(reqs))
	}
	if user, pass, ok := reqs[0].BasicAuth(); !ok || user != "u" || pass != "p" {
		t.Errorf("token request credentials %q/%q (%v), want u/p", user, pass, ok)
	}
}

func TestProxyTokenRealmRefuses(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["authentication"] = map[string]any{"type": "username", "username": "u", "password": "wrong"}
		sectionOf(cfg, "httpClient")["autoBlock"] = false
	})
	up.realm, up.realmUser, up.realmPass = true, "u", "p"
	config, layer := []byte(`{"os":"linux"}`), randomBytes(t, 4096)
	m, md := up.pushImage("private/app", "1.0", mtOCIManifest, config, layer)
	ld := digest.FromBytes(layer)

	for _, p := range []string{"/v2/private/app/manifests/1.0", "/v2/private/app/blobs/" + ld.String()} {
		resp := pgDo(t, c, http.MethodGet, p)
		if resp.status == http.StatusOK || resp.status == http.StatusNotFound || resp.status < 400 {
			t.Fatalf("GET %s with refused upstream credentials: got %s, want a 401/502-like error", p, resp)
		}
		checkErrorBody(t, "GET "+p, resp, "")
	}
	notCached(t, fx, r, "v2/private/app/manifests/1.0", md)
	notCached(t, fx, r, blobPath("private/app", ld), ld)
	if len(up.tokenRequests()) == 0 {
		t.Fatal("the proxy never asked the realm for a token")
	}

	// The refusal is neither remembered as missing nor blocks the
	// upstream: once the realm takes the credentials, pulls work.
	up.mu.Lock()
	up.realmPass = "wrong"
	up.mu.Unlock()
	wantContent(t, c, http.MethodGet, "/v2/private/app/manifests/1.0", m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/private/app/blobs/"+ld.String(), layer, ld, "")
}

func TestHubIndexType(t *testing.T) {
	t.Parallel()
	for _, withRealm := range []bool{false, true} {
		t.Run(fmt.Sprintf("realm=%v", withRealm), func(t *testing.T) {
			t.Parallel()
			_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
				sectionOf(cfg, "dockerProxy")["indexType"] = "HUB"
			})
			up.realm = withRealm
			layer := randomBytes(t, 2048)
			am, ad := up.pushImage("library/alpine", "3.19", mtOCIManifest, []byte(`{"os":"alpine"}`), layer)
			tm, td := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"os":"team"}`), layer)
			ld := digest.FromBytes(layer)

			wantContent(t, c, http.MethodGet, "/v2/alpine/manifests/3.19", am, ad, mtOCIManifest)
			wantContent(t, c, http.MethodGet, "/v2/alpine/manifests/"+ad.String(), am, ad, mtOCIManifest)
			wantContent(t, c, http.MethodGet, "/v2/alpine/blobs/"+ld.String(), layer, ld, "")
			resp := pgDo(t, c, http.MethodGet, "/v2/alpine/tags/list")
			if resp.status != http.StatusOK || !slices.Equal(tagsOfResp(t, resp), []string{"3.19"}) {
				t.Fatalf("alpine tags: %s", resp)
			}
			var body struct{ Name string }
			json.Unmarshal(resp.body, &body)
			if body.Name != "alpine" {
				t.Errorf("tag list name %q, want the name the client used (alpine)", body.Name)
			}
			wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", tm, td, mtOCIManifest)
			wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+ld.String(), layer, ld, "")

			for _, p := range []string{"/v2/library/alpine/manifests/3.19", "/v2/library/alpine/manifests/" + ad.String(),
				"/v2/library/alpine/blobs/" + ld.String(), "/v2/library/alpine/tags/list",
				"/v2/team/app/manifests/1.0", "/v2/team/app/blobs/" + ld.String()} {
				if up.count("GET", p) == 0 {
					t.Errorf("the upstream never saw GET %s", p)
				}
			}
			if n := up.countPrefix("/v2/alpine/"); n != 0 {
				t.Errorf("the upstream saw %d requests for the unmapped name alpine", n)
			}
			if n := up.countPrefix("/v2/library/team/"); n != 0 {
				t.Errorf("the upstream saw %d requests for a two-segment name mapped into library/", n)
			}
			if withRealm {
				var scopes []string
				for _, r := range up.tokenRequests() {
					scopes = append(scopes, r.URL.Query()["scope"]...)
				}
				sort.Strings(scopes)
				if want := []string{"repository:library/alpine:pull", "repository:team/app:pull"}; !slices.Equal(scopes, want) {
					t.Errorf("token scopes %q, want %q", scopes, want)
				}
			}
		})
	}
	// REGISTRY leaves one-segment names alone.
	t.Run("registry", func(t *testing.T) {
		t.Parallel()
		_, up, _, c := proxyFixture(t, nil)
		m, d := up.pushImage("alpine", "3.19", mtOCIManifest, []byte(`{"os":"alpine"}`), []byte("layer"))
		wantContent(t, c, http.MethodGet, "/v2/alpine/manifests/3.19", m, d, mtOCIManifest)
		if up.count("GET", "/v2/alpine/manifests/3.19") != 1 || up.countPrefix("/v2/library/") != 0 {
			t.Errorf("REGISTRY index: upstream hits %v", up.hits)
		}
	})
}

func TestProxyTagRevalidation(t *testing.T) {
	t.Parallel()
	fx, up, _, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "proxy")["metadataMaxAge"] = 0
	})
	layer := randomBytes(t, 2048)
	m1, d1 := up.pushImage("team/app", "latest", mtDockerManifest, []byte(`{"v":1}`), layer)
	tagPath := "/v2/team/app/manifests/latest"

	wantContent(t, c, http.MethodGet, tagPath, m1, d1, mtDockerManifest)
	fx.settle()
	if g, h := up.count("GET", tagPath), up.count("HEAD", tagPath); g != 1 || h != 0 {
		t.Fatalf("first pull: %d GETs, %d HEADs of the tag upstream, want 1, 0", g, h)
	}
	// Stale but unchanged: a HEAD confirms it, no GET.
	wantContent(t, c, http.MethodGet, tagPath, m1, d1, mtDockerManifest)
	if g, h := up.count("GET", tagPath), up.count("HEAD", tagPath); g != 1 || h != 1 {
		t.Fatalf("unchanged tag: %d GETs, %d HEADs upstream, want 1, 1", g, h)
	}
	// The tag moves: the HEAD tells, a GET fetches the new manifest.
	m2, d2 := up.pushImage("team/app", "latest", mtOCIManifest, []byte(`{"v":2}`), layer)
	wantContent(t, c, http.MethodGet, tagPath, m2, d2, mtOCIManifest)
	fx.settle()
	if g, h := up.count("GET", tagPath), up.count("HEAD", tagPath); g != 2 || h != 2 {
		t.Fatalf("moved tag: %d GETs, %d HEADs upstream, want 2, 2", g, h)
	}
	// The new manifest is what is cached now: the next revalidation is a
	// HEAD alone.
	wantContent(t, c, http.MethodGet, tagPath, m2, d2, mtOCIManifest)
	wantContent(t, c, http.MethodHead, tagPath, m2, d2, mtOCIManifest)
	if g, h := up.count("GET", tagPath), up.count("HEAD", tagPath); g != 2 || h != 4 {
		t.Errorf("after the move: %d GETs, %d HEADs upstream, want 2, 4", g, h)
	}
	up.mu.Lock()
	for _, a := range up.accepts {
		if strings.HasPrefix(a, "HEAD ") && !strings.Contains(a, mtOCIIndex) {
			t.Errorf("revalidation HEAD lacks the manifest Accept list: %q", a)
		}
	}
	up.mu.Unlock()
}

func TestProxyUpstreamDown(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "proxy")["metadataMaxAge"] = 0
	})
	config, layer := []byte(`{"v":1}`), randomBytes(t, 64<<10)
	m1, d1 := up.pushImage("team/app", "1.0", mtOCIManifest, config, layer)
	cd, ld := digest.FromBytes(config), digest.FromBytes(layer)
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", m1, d1, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+cd.String(), config, cd, "")
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+ld.String(), layer, ld, "")
	wantTags(t, c, "team/app", "1.0")
	waitCached(t, r, blobPath("team/app", ld))
	waitCached(t, r, "v2/team/app/tags/list")

	// A good revalidation moves the tag and adds another.
	m2, d2 := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"v":2}`), layer)
	up.putManifest("team/app", "2.0", mtOCIManifest, m2)
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", m2, d2, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/"+d2.String(), m2, d2, mtOCIManifest)
	// A tag list request joins a download of the list still being cached,
	// so the new list may take another request to show.
	waitFor(t, "the revalidated tag list", func() bool {
		resp := pgDo(t, c, http.MethodGet, "/v2/team/app/tags/list")
		return resp.status == http.StatusOK && slices.Equal(tagsOfResp(t, resp), []string{"1.0", "2.0"})
	})
	waitCached(t, r, "v2/team/app/manifests/"+d2.String())

	up.srv.Close()
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", m2, d2, mtOCIManifest)
	wantContent(t, c, http.MethodHead, "/v2/team/app/manifests/1.0", m2, d2, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/"+d2.String(), m2, d2, mtOCIManifest)
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+cd.String(), config, cd, "")
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+ld.String(), layer, ld, "")
	wantTags(t, c, "team/app", "1.0", "2.0")

	for _, p := range []string{
		"/v2/team/app/blobs/" + digest.FromBytes([]byte(`{"v":2}`)).String(), // never pulled
		"/v2/team/app/manifests/2.0",
		"/v2/team/app/manifests/" + d1.String(),
		"/v2/team/other/tags/list",
	} {
		wantServerError(t, "GET "+p+" with the upstream down", pgDo(t, c, http.MethodGet, p))
	}
	if s := mustLookup(t, fx, "docker-proxy").Status(); !s.Blocked {
		t.Errorf("status with the upstream down and autoBlock on: %+v, want blocked", s)
	}
}

func TestProxyUpstreamServerError(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["autoBlock"] = false
	})
	config, layer := []byte(`{"v":1}`), randomBytes(t, 64<<10)
	m, md := up.pushImage("team/app", "1.0", mtOCIManifest, config, layer)
	ld := digest.FromBytes(layer)
	blobP, tagP := "/v2/team/app/blobs/"+ld.String(), "/v2/team/app/manifests/1.0"
	var failing sync.Map
	failing.Store(blobP, true)
	failing.Store(tagP, true)
	up.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if _, ok := failing.LoadAndDelete(r.URL.Path); ok {
			upstreamError(w, r, http.StatusInternalServerError, "UNKNOWN")
			return true
		}
		return false
	})

	wantServerError(t, "GET blob while the upstream fails", pgDo(t, c, http.MethodGet, blobP))
	wantServerError(t, "GET tag while the upstream fails", pgDo(t, c, http.MethodGet, tagP))
	notCached(t, fx, r, blobPath("team/app", ld), ld)
	notCached(t, fx, r, "v2/team/app/manifests/1.0", md)

	wantContent(t, c, http.MethodGet, blobP, layer, ld, "")
	wantContent(t, c, http.MethodGet, tagP, m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, blobP, layer, ld, "")
	if g := up.count("GET", blobP); g != 2 {
		t.Errorf("upstream GETs of the blob: %d, want 2 (the failure, the retry, then the cache)", g)
	}
	if s := r.Status(); s.Blocked {
		t.Errorf("status with autoBlock off: %+v", s)
	}
}

func TestProxyUpstreamAutoBlock(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, nil)
	layer := randomBytes(t, 4096)
	ld := up.putBlob("team/app", layer)
	blobP := "/v2/team/app/blobs/" + ld.String()
	up.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		upstreamError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE")
		return true
	})
	wantServerError(t, "GET while the upstream fails", pgDo(t, c, http.MethodGet, blobP))
	if s := r.Status(); !s.Blocked || s.Reason == "" {
		t.Fatalf("status after a 503 with autoBlock on: %+v, want blocked with a reason", s)
	}
	up.setFault(nil)
	wantServerError(t, "GET while blocked", pgDo(t, c, http.MethodGet, blobP))
	if g := up.count("GET", blobP); g != 1 {
		t.Errorf("upstream GETs while blocked: %d, want 1", g)
	}
	notCached(t, fx, r, blobPath("team/app", ld), ld)
}

// Content named by a digest (a blob, a manifest by digest) whose upstream
// bytes do not match it must not reach the client as a good answer, nor
// be cached.
func TestProxyUpstreamDigestMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind string
		size int
	}{{"blob", 100}, {"blob", 1 << 10}, {"blob", 1 << 20}, {"manifest", 0}} {
		t.Run(fmt.Sprint(tc.kind, tc.size), func(t *testing.T) {
			t.Parallel()
			fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
				sectionOf(cfg, "httpClient")["autoBlock"] = false
			})
			var good, bad []byte
			var p string
			var d digest.Digest
			fix := func() {}
			if tc.kind == "blob" {
				good, bad = randomBytes(t, tc.size), randomBytes(t, tc.size)
				d = digest.FromBytes(good)
				up.putRawBlob("team/app", d, bad)
				fix = func() { up.putRawBlob("team/app", d, good) }
				p = "/v2/team/app/blobs/" + d.String()
			} else {
				// Several layers, so the manifest is larger than what
				// net/http buffers before it sends a response.
				var layers [][]byte
				for i := range 6 {
					layers = append(layers, []byte(fmt.Sprint("layer ", i)))
				}
				good = imageManifest(t, mtOCIManifest, []byte(`{"good":true}`), layers...)
				bad = imageManifest(t, mtOCIManifest, []byte(`{"good":false}`), layers...)
				d = digest.FromBytes(good)
				up.mu.Lock()
				up.manifests["team/app@"+d.String()] = upManifest{body: bad, mediaType: mtOCIManifest}
				up.mu.Unlock()
				fix = func() {
					up.mu.Lock()
					up.manifests["team/app@"+d.String()] = upManifest{body: good, mediaType: mtOCIManifest}
					up.mu.Unlock()
				}
				p = "/v2/team/app/manifests/" + d.String()
			}
			stored := "v2/" + strings.TrimPrefix(p, "/v2/")

			resp, err := pgSend(c, http.MethodGet, p, nil)
			if err == nil && resp.status == http.StatusOK {
				t.Errorf("GET %s whose upstream bytes do not match the digest: a complete 200 with %d bytes "+
					"(Docker-Content-Digest %s); want an error status or an aborted stream",
					p, len(resp.body), resp.header.Get("Docker-Content-Digest"))
			}
			notCached(t, fx, r, stored, d, digest.FromBytes(bad))
			if g := up.count("GET", p); g != 1 {
				t.Fatalf("upstream GETs: %d, want 1", g)
			}
			// Nothing was cached, so a HEAD asks the upstream again (once
			// the first download has given up).
			waitFor(t, "a HEAD to reach the upstream again", func() bool {
				if _, err := pgSend(c, http.MethodHead, p, nil); err != nil {
					t.Fatal(err)
				}
				return up.count("GET", p) >= 2
			})
			// Once the upstream serves the right bytes, a retry caches them
			// (it may first join the HEAD's failing download).
			fix()
			waitFor(t, "a retry to succeed", func() bool {
				resp, err := pgSend(c, http.MethodGet, p, nil)
				return err == nil && resp.status == http.StatusOK && string(resp.body) == string(good)
			})
			wantContent(t, c, http.MethodGet, p, good, d, "")
			n := up.count("GET", p)
			wantContent(t, c, http.MethodGet, p, good, d, "")
			if up.count("GET", p) != n {
				t.Error("a GET after the successful retry went upstream again")
			}
			fx.settle()
			if !fx.blobFiles()[d.String()] {
				t.Error("the good content is not cached after the retry")
			}
			if fx.blobFiles()[digest.FromBytes(bad).String()] {
				t.Error("the bad content was cached")
			}
		})
	}
}

// hijackTruncated answers with a Content-Length larger than the body it
// sends, then hangs up.
func hijackTruncated(t *testing.T, w http.ResponseWriter, contentType string, body []byte) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, len(body)+1000)
	buf.Write(body)
	buf.Flush()
}

func TestProxyUpstreamTruncated(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["autoBlock"] = false
	})
	layer := randomBytes(t, 256<<10)
	m, md := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"v":1}`), layer)
	ld := digest.FromBytes(layer)
	blobP, tagP := "/v2/team/app/blobs/"+ld.String(), "/v2/team/app/manifests/1.0"
	var once sync.Map
	up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.Method != http.MethodGet {
			return false
		}
		if _, done := once.LoadOrStore(req.URL.Path, true); done {
			return false
		}
		switch req.URL.Path {
		case blobP:
			hijackTruncated(t, w, "application/octet-stream", layer[:len(layer)/2])
		case tagP:
			hijackTruncated(t, w, mtOCIManifest, m[:len(m)/2])
		default:
			return false
		}
		return true
	})

	for _, p := range []string{blobP, tagP} {
		resp, err := pgSend(c, http.MethodGet, p, nil)
		if err == nil && resp.status == http.StatusOK {
			t.Errorf("GET %s of a truncated upstream answer: a complete 200 with %d bytes, want an error", p, len(resp.body))
		}
	}
	notCached(t, fx, r, blobPath("team/app", ld), ld)
	notCached(t, fx, r, "v2/team/app/manifests/1.0", md)

	// The retry gets everything and caches it.
	wantContent(t, c, http.MethodGet, tagP, m, md, mtOCIManifest)
	wantContent(t, c, http.MethodGet, blobP, layer, ld, "")
	wantContent(t, c, http.MethodGet, blobP, layer, ld, "")
	if g := up.count("GET", blobP); g != 2 {
		t.Errorf("upstream GETs of the blob: %d, want 2", g)
	}
}

func TestProxyNegativeCache(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{true, false} {
		t.Run(fmt.Sprintf("enabled=%v", enabled), func(t *testing.T) {
			t.Parallel()
			_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
				sectionOf(cfg, "negativeCache")["enabled"] = enabled
			})
			up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{}`), []byte("layer"))
			missingBlob := "/v2/team/app/blobs/" + digest.FromString("missing").String()
			cases := []struct{ p, code string }{
				{missingBlob, "BLOB_UNKNOWN"},
				{"/v2/team/app/manifests/nope", "MANIFEST_UNKNOWN"},
				{"/v2/team/gone/tags/list", "NAME_UNKNOWN"},
			}
			for _, tc := range cases {
				for range 2 {
					expectError(t, "GET "+tc.p, pgDo(t, c, http.MethodGet, tc.p), http.StatusNotFound, tc.code)
				}
				want := 1
				if !enabled {
					want = 2
				}
				if g := up.count("GET", tc.p); g != want {
					t.Errorf("upstream GETs of %s after two misses: %d, want %d", tc.p, g, want)
				}
			}
		})
	}
}

func TestProxyConcurrentColdBlob(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, time.Hour)
	settleDownloads(t, fx)
	up := newUpstream(t)
	r := fx.create(proxyConfig(t, "docker-proxy", up.srv.URL, nil))
	const clients = 20
	var arrived sync.WaitGroup
	arrived.Add(clients)
	h := fx.connectorHandler(r)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/blobs/") {
			arrived.Done()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	c := fx.admin(srv)

	layer := randomBytes(t, 8<<20)
	ld := up.putBlob("team/app", layer)
	p := "/v2/team/app/blobs/" + ld.String()
	// The upstream holds the download until every client has arrived at
	// the proxy (or a bound passes), so they all find it cold or in flight.
	all := make(chan struct{})
	go func() { arrived.Wait(); close(all) }()
	up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		select {
		case <-all:
		case <-time.After(20 * time.Second):
		}
		return false
	})

	type result struct {
		resp *response
		err  error
	}
	results := make(chan result, clients)
	for range clients {
		go func() {
			resp, err := pgSend(c, http.MethodGet, p, nil)
			results <- result{resp, err}
		}()
	}
	for range clients {
		res := <-results
		switch {
		case res.err != nil:
			t.Error(res.err)
		case res.resp.status != http.StatusOK:
			t.Errorf("concurrent GET: %s", res.resp)
		case res.resp.header.Get("Docker-Content-Digest") != ld.String():
			t.Errorf("concurrent GET: Docker-Content-Digest %q", res.resp.header.Get("Docker-Content-Digest"))
		case string(res.resp.body) != string(layer):
			t.Errorf("concurrent GET: body of %d bytes differs", len(res.resp.body))
		}
	}
	if g := up.count("GET", p); g != 1 {
		t.Errorf("upstream GETs for %d concurrent cold GETs: %d, want 1", clients, g)
	}
}

func TestProxyRefusesPush(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, nil)
	data := []byte("a layer")
	d := digest.FromBytes(data)
	for _, tc := range []struct {
		method, p string
		body      []byte
	}{
		{http.MethodPost, "/v2/team/app/blobs/uploads/", nil},
		{http.MethodPost, "/v2/team/app/blobs/uploads/?digest=" + d.String(), data},
		{http.MethodPatch, "/v2/team/app/blobs/uploads/0123456789abcdef", data},
		{http.MethodPut, "/v2/team/app/blobs/uploads/0123456789abcdef?digest=" + d.String(), data},
		{http.MethodPut, "/v2/team/app/manifests/1.0", imageManifest(t, mtOCIManifest, []byte(`{}`), data)},
	} {
		hdr := map[string]string{"Content-Type": "application/octet-stream"}
		if strings.Contains(tc.p, "/manifests/") {
			hdr["Content-Type"] = mtOCIManifest
		}
		expectError(t, tc.method+" "+tc.p+" on a proxy", c.do(tc.method, tc.p, tc.body, hdr), http.StatusMethodNotAllowed, "UNSUPPORTED")
	}
	if n := up.total(); n != 0 {
		t.Errorf("pushes to the proxy sent %d requests upstream", n)
	}
}

func TestProxyRateLimitStatus(t *testing.T) {
	t.Parallel()
	fx, up, _, c := proxyFixture(t, nil)
	l1, l2 := randomBytes(t, 100), randomBytes(t, 100)
	d1, d2 := up.putBlob("team/app", l1), up.putBlob("team/app", l2)
	if s := mustLookup(t, fx, "docker-proxy").Status(); s.RateLimitRemaining != "" {
		t.Fatalf("status before any request: %+v", s)
	}
	up.mu.Lock()
	up.rateLimit = "57;w=21600"
	up.mu.Unlock()
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+d1.String(), l1, d1, "")
	if s := mustLookup(t, fx, "docker-proxy").Status(); s.RateLimitRemaining != "57;w=21600" {
		t.Errorf("status after a pull: RateLimitRemaining %q, want 57;w=21600", s.RateLimitRemaining)
	}
	up.mu.Lock()
	up.rateLimit = "56;w=21600"
	up.mu.Unlock()
	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+d2.String(), l2, d2, "")
	if s := mustLookup(t, fx, "docker-proxy").Status(); s.RateLimitRemaining != "56;w=21600" {
		t.Errorf("status after another pull: RateLimitRemaining %q, want 56;w=21600", s.RateLimitRemaining)
	}
}

// ---------------------------------------------------------------------------
// Group tests.
// ---------------------------------------------------------------------------

type groupSetup struct {
	fx                      *fixture
	up                      *upstreamRegistry
	hosted, proxy, group    repo.Repository
	hostedC, proxyC, groupC *client
}

func newGroupSetup(t *testing.T) *groupSetup {
	t.Helper()
	return newGroupSetupGrace(t, time.Hour)
}

// newGroupSetupGrace is newGroupSetup with the GC grace period given; with
// 0, Maintain collects every blob link no manifest references.
func newGroupSetupGrace(t *testing.T, grace time.Duration) *groupSetup {
	t.Helper()
	fx, up, proxy, proxyC := proxyFixtureGrace(t, grace, nil)
	hosted := fx.create(hostedConfig("docker-hosted", "allow_once", ""))
	group := fx.create(groupConfig("docker-group", "docker-hosted", "docker-hosted", "docker-proxy"))
	return &groupSetup{fx: fx, up: up, hosted: hosted, proxy: proxy, group: group,
		hostedC: fx.admin(fx.connector(hosted)), proxyC: proxyC, groupC: fx.admin(fx.connector(group))}
}

func TestGroupPullAndTags(t *testing.T) {
	t.Parallel()
	g := newGroupSetup(t)
	// Only upstream.
	upLayer := randomBytes(t, 8192)
	um, ud := g.up.pushImage("upstream/only", "1.0", mtDockerManifest, []byte(`{"from":"upstream"}`), upLayer)
	wantContent(t, g.groupC, http.MethodGet, "/v2/upstream/only/manifests/1.0", um, ud, mtDockerManifest)
	wantContent(t, g.groupC, http.MethodGet, "/v2/upstream/only/manifests/"+ud.String(), um, ud, mtDockerManifest)
	wantContent(t, g.groupC, http.MethodGet, "/v2/upstream/only/blobs/"+digest.FromBytes(upLayer).String(), upLayer, digest.FromBytes(upLayer), "")
	// The first download streams to the client while it is cached, so the
	// asset may be recorded a moment after the client has every byte.
	waitCached(t, g.proxy, blobPath("upstream/only", digest.FromBytes(upLayer)))

	// Only hosted: the group answers from it without asking the upstream.
	hLayer := randomBytes(t, 8192)
	hConfig := []byte(`{"from":"hosted"}`)
	hm, hd := g.hostedC.pushImage("hosted/only", "1.0", hConfig, hLayer)
	wantContent(t, g.groupC, http.MethodGet, "/v2/hosted/only/manifests/1.0", hm, hd, mtOCIManifest)
	wantContent(t, g.groupC, http.MethodGet, "/v2/hosted/only/blobs/"+digest.FromBytes(hLayer).String(), hLayer, digest.FromBytes(hLayer), "")
	if n := g.up.countPrefix("/v2/hosted/only/manifests/"); n != 0 {
		t.Errorf("the group asked the upstream for a manifest the hosted member has (%d requests)", n)
	}

	// Tags merge across members.
	g.hostedC.pushImage("shared/app", "h1", []byte(`{"tag":"h1"}`), hLayer)
	g.up.pushImage("shared/app", "u1", mtOCIManifest, []byte(`{"tag":"u1"}`), upLayer)
	g.up.pushImage("shared/app", "u2", mtOCIManifest, []byte(`{"tag":"u2"}`), upLayer)
	wantTags(t, g.groupC, "shared/app", "h1", "u1", "u2")
	wantTags(t, g.groupC, "hosted/only", "1.0")
	wantTags(t, g.groupC, "upstream/only", "1.0")
	expectError(t, "tags of an image no member knows", pgDo(t, g.groupC, http.MethodGet, "/v2/nobody/tags/list"),
		http.StatusNotFound, "NAME_UNKNOWN")
}

func TestGroupPushToWritableMember(t *testing.T) {
	t.Parallel()
	g := newGroupSetup(t)
	config, layer := []byte(`{"pushed":"through the group"}`), randomBytes(t, 100<<10)
	resp := g.groupC.pushBlobChunked("pushed/app", layer, 40<<10)
	expect(t, "chunked push through the group", resp, http.StatusCreated)
	g.groupC.pushBlob("pushed/app", config)
	m := imageManifest(t, mtOCIManifest, config, layer)
	md := digest.FromBytes(m)
	resp = g.groupC.putManifest("pushed/app", "v1", mtOCIManifest, m)
	expect(t, "manifest through the group", resp, http.StatusCreated)
	if got := resp.header.Get("Docker-Content-Digest"); got != md.String() {
		t.Errorf("manifest through the group: Docker-Content-Digest %q, want %s", got, md)
	}

	// It is in the hosted member, on its own server.
	wantContent(t, g.hostedC, http.MethodGet, "/v2/pushed/app/manifests/v1", m, md, mtOCIManifest)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/pushed/app/manifests/"+md.String(), m, md, mtOCIManifest)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/pushed/app/blobs/"+digest.FromBytes(layer).String(), layer, digest.FromBytes(layer), "")
	wantContent(t, g.hostedC, http.MethodGet, "/v2/pushed/app/blobs/"+digest.FromBytes(config).String(), config, digest.FromBytes(config), "")
	wantTags(t, g.hostedC, "pushed/app", "v1")
	// And through the group, but not in the proxy member.
	wantContent(t, g.groupC, http.MethodGet, "/v2/pushed/app/manifests/v1", m, md, mtOCIManifest)
	if _, err := g.proxy.Stat(context.Background(), "v2/pushed/app/manifests/v1"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("the push landed in the proxy member: %v", err)
	}
	// Reads through the group may ask the upstream; the push itself
	// must send nothing there.
	g.up.mu.Lock()
	defer g.up.mu.Unlock()
	for k := range g.up.hits {
		if strings.Contains(k, "/v2/pushed/") && !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "HEAD ") {
			t.Errorf("the push through the group sent %s upstream", k)
		}
	}
}

func TestGroupPushLinksProxiedLayer(t *testing.T) {
	t.Parallel()
	g := newGroupSetupGrace(t, 0)
	layer := randomBytes(t, 64<<10)
	ld := digest.FromBytes(layer)
	g.up.pushImage("base/img", "1.0", mtOCIManifest, []byte(`{"base":true}`), layer)
	// Pulled through once, the layer sits in the proxy member.
	wantContent(t, g.groupC, http.MethodGet, "/v2/base/img/blobs/"+ld.String(), layer, ld, "")
	if n := g.up.count("GET", "/v2/base/img/blobs/"+ld.String()); n != 1 {
		t.Fatalf("upstream GETs of the layer: %d", n)
	}
	// A client checks it exists (HEAD through the group), so sends only
	// its new config and the manifest.
	wantContent(t, g.groupC, http.MethodHead, "/v2/base/img/blobs/"+ld.String(), layer, ld, "")
	config := []byte(`{"derived":true}`)
	g.groupC.pushBlob("base/img", config)
	m := imageManifest(t, mtOCIManifest, config, layer)
	md := digest.FromBytes(m)
	expect(t, "manifest with a layer only the proxy member has", g.groupC.putManifest("base/img", "mine", mtOCIManifest, m), http.StatusCreated)

	wantContent(t, g.hostedC, http.MethodGet, "/v2/base/img/manifests/mine", m, md, mtOCIManifest)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/base/img/blobs/"+ld.String(), layer, ld, "")
	// The linked layer is referenced by the manifest: collection keeps it.
	if err := g.fx.f.Maintain(context.Background(), g.hosted); err != nil {
		t.Fatal(err)
	}
	wantContent(t, g.hostedC, http.MethodGet, "/v2/base/img/blobs/"+ld.String(), layer, ld, "")
	wantContent(t, g.groupC, http.MethodGet, "/v2/base/img/manifests/mine", m, md, mtOCIManifest)
	if n := g.up.count("GET", "/v2/base/img/blobs/"+ld.String()); n != 1 {
		t.Errorf("upstream GETs of the layer: %d, want still 1 (linked, not fetched again)", n)
	}

	// A cross-repository mount from the proxied image links too.
	resp := g.groupC.do(http.MethodPost, "/v2/derived/img/blobs/uploads/?mount="+ld.String()+"&from=base/img", nil, nil)
	expect(t, "mount from the proxied image through the group", resp, http.StatusCreated)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/derived/img/blobs/"+ld.String(), layer, ld, "")

	// What no member stores is still refused.
	missing := randomBytes(t, 100)
	m2 := imageManifest(t, mtOCIManifest, config, missing)
	expectError(t, "manifest with a layer nobody has", g.groupC.putManifest("base/img", "broken", mtOCIManifest, m2),
		http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
}

func TestGroupWithoutWritableMember(t *testing.T) {
	t.Parallel()
	g := newGroupSetup(t)
	ro := g.fx.create(groupConfig("docker-group-ro", "", "docker-hosted", "docker-proxy"))
	c := g.fx.admin(g.fx.connector(ro))
	data := []byte("a layer")
	d := digest.FromBytes(data)
	for _, tc := range []struct {
		method, p string
		body      []byte
	}{
		{http.MethodPost, "/v2/team/app/blobs/uploads/", nil},
		{http.MethodPost, "/v2/team/app/blobs/uploads/?digest=" + d.String(), data},
		{http.MethodPatch, "/v2/team/app/blobs/uploads/0123456789abcdef", data},
		{http.MethodPut, "/v2/team/app/manifests/1.0", imageManifest(t, mtOCIManifest, []byte(`{}`), data)},
	} {
		hdr := map[string]string{"Content-Type": "application/octet-stream"}
		if strings.Contains(tc.p, "/manifests/") {
			hdr["Content-Type"] = mtOCIManifest
		}
		expectError(t, tc.method+" "+tc.p+" on a group without writable member", c.do(tc.method, tc.p, tc.body, hdr),
			http.StatusMethodNotAllowed, "UNSUPPORTED")
	}
	if _, err := g.hosted.Stat(context.Background(), blobPath("team/app", d)); errs.KindOf(err) != errs.NotFound {
		t.Errorf("a refused push reached the hosted member: %v", err)
	}
}

func TestGroupCatalog(t *testing.T) {
	t.Parallel()
	g := newGroupSetup(t)
	g.hostedC.pushImage("hosted/app", "1.0", []byte(`{}`), []byte("hosted layer"))
	um, ud := g.up.pushImage("upstream/app", "1.0", mtOCIManifest, []byte(`{"u":1}`), []byte("upstream layer"))
	wantContent(t, g.groupC, http.MethodGet, "/v2/upstream/app/manifests/1.0", um, ud, mtOCIManifest)
	g.fx.settle()

	resp := pgDo(t, g.groupC, http.MethodGet, "/v2/_catalog")
	if resp.status != http.StatusOK {
		t.Fatalf("group catalog: %s", resp)
	}
	var body struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatal(err)
	}
	if want := []string{"hosted/app", "upstream/app"}; !slices.Equal(body.Repositories, want) {
		t.Errorf("group catalog %q, want %q", body.Repositories, want)
	}
}

// Registries send blob downloads to a CDN: the proxy follows the redirect,
// verifies and caches what it gets there, and does not hand the registry's
// token to the CDN.
func TestProxyUpstreamRedirect(t *testing.T) {
	t.Parallel()
	fx, up, r, c := proxyFixture(t, nil)
	up.realm = true
	layer := randomBytes(t, 256<<10)
	ld := up.putBlob("team/app", layer)
	var mu sync.Mutex
	var cdnAuth []string
	cdn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		cdnAuth = append(cdnAuth, req.Header.Get("Authorization"))
		mu.Unlock()
		if req.URL.Path != "/cdn/"+ld.Encoded() {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", fmt.Sprint(len(layer)))
		w.Write(layer)
	}))
	t.Cleanup(cdn.Close)
	up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if strings.Contains(req.URL.Path, "/blobs/") && req.Method == http.MethodGet {
			http.Redirect(w, req, cdn.URL+"/cdn/"+ld.Encoded()+"?sig=x", http.StatusTemporaryRedirect)
			return true
		}
		return false
	})
	p := "/v2/team/app/blobs/" + ld.String()
	wantContent(t, c, http.MethodGet, p, layer, ld, "")
	waitCached(t, r, blobPath("team/app", ld))
	wantContent(t, c, http.MethodGet, p, layer, ld, "")
	mu.Lock()
	defer mu.Unlock()
	if len(cdnAuth) != 1 {
		t.Errorf("CDN requests: %d, want 1 (then the cache)", len(cdnAuth))
	}
	for _, a := range cdnAuth {
		if strings.HasPrefix(a, "Bearer ") {
			t.Errorf("the registry's token was sent to the CDN: %q", a)
		}
	}
	if !fx.blobFiles()[ld.String()] {
		t.Error("the redirected blob is not cached")
	}
}

// A token the registry stops honouring (revoked, or expired early) is
// replaced through a new challenge.
func TestProxyTokenRevoked(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, nil)
	up.realm = true
	config, layer := []byte(`{"os":"linux"}`), randomBytes(t, 4096)
	m, md := up.pushImage("tok/app", "1.0", mtOCIManifest, config, layer)
	ld := digest.FromBytes(layer)
	wantContent(t, c, http.MethodGet, "/v2/tok/app/manifests/1.0", m, md, mtOCIManifest)
	up.mu.Lock()
	clear(up.tokens)
	up.mu.Unlock()
	wantContent(t, c, http.MethodGet, "/v2/tok/app/blobs/"+ld.String(), layer, ld, "")
	if n := len(up.tokenRequests()); n != 2 {
		t.Errorf("token requests: %d, want 2 (the first, and one after the revocation)", n)
	}
	wantContent(t, c, http.MethodGet, "/v2/tok/app/blobs/"+digest.FromBytes(config).String(), config, digest.FromBytes(config), "")
	if n := len(up.tokenRequests()); n != 2 {
		t.Errorf("token requests: %d, want still 2 (the new token is reused)", n)
	}
}

// The first member that has a path wins; a failing proxy member does not
// hide what the hosted member has.
func TestGroupMemberOrderAndFailingProxy(t *testing.T) {
	t.Parallel()
	g := newGroupSetup(t)
	hm, hd := g.hostedC.pushImage("both/app", "1.0", []byte(`{"from":"hosted"}`), []byte("hosted layer"))
	g.up.pushImage("both/app", "1.0", mtOCIManifest, []byte(`{"from":"upstream"}`), []byte("upstream layer"))
	g.up.pushImage("both/app", "up-only", mtOCIManifest, []byte(`{"from":"upstream"}`), []byte("upstream layer"))
	wantContent(t, g.groupC, http.MethodGet, "/v2/both/app/manifests/1.0", hm, hd, mtOCIManifest)
	wantTags(t, g.groupC, "both/app", "1.0", "up-only")

	g.up.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		upstreamError(w, r, http.StatusInternalServerError, "UNKNOWN")
		return true
	})
	g.up.pushImage("other/app", "1.0", mtOCIManifest, []byte(`{}`), []byte("l"))
	wantServerError(t, "GET of an uncached upstream image through the group while the upstream fails",
		pgDo(t, g.groupC, http.MethodGet, "/v2/other/app/manifests/1.0"))
	// The proxy member's list was cached; with it failing, the group still
	// answers from what its members have.
	resp := pgDo(t, g.groupC, http.MethodGet, "/v2/both/app/tags/list")
	if resp.status != http.StatusOK {
		t.Fatalf("group tags with the proxy member failing: %s", resp)
	}
	if got := tagsOfResp(t, resp); !slices.Contains(got, "1.0") {
		t.Errorf("group tags with the proxy member failing: %q, want at least the hosted 1.0", got)
	}
	wantContent(t, g.groupC, http.MethodGet, "/v2/both/app/manifests/1.0", hm, hd, mtOCIManifest)
}

// An index pushed through the group may name a child manifest only the
// proxy member has: it is linked into the hosted member, and so must be
// what that child references, or the hosted image is incomplete.
func TestGroupPushIndexLinksProxiedChild(t *testing.T) {
	t.Parallel()
	g := newGroupSetupGrace(t, 0)
	config, layer := []byte(`{"architecture":"arm64"}`), randomBytes(t, 32<<10)
	child, cd := g.up.pushImage("multi/app", "", mtOCIManifest, config, layer)
	index := mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex,
		"manifests": []descriptor{desc(mtOCIManifest, child)}})
	id := g.up.putManifest("multi/app", "1.0", mtOCIIndex, index)

	// A client pulls the index, the child and its blobs through the group.
	wantContent(t, g.groupC, http.MethodGet, "/v2/multi/app/manifests/1.0", index, id, mtOCIIndex)
	wantContent(t, g.groupC, http.MethodGet, "/v2/multi/app/manifests/"+cd.String(), child, cd, mtOCIManifest)
	wantContent(t, g.groupC, http.MethodGet, "/v2/multi/app/blobs/"+digest.FromBytes(config).String(), config, digest.FromBytes(config), "")
	wantContent(t, g.groupC, http.MethodGet, "/v2/multi/app/blobs/"+digest.FromBytes(layer).String(), layer, digest.FromBytes(layer), "")
	waitCached(t, g.proxy, "v2/multi/app/manifests/"+cd.String())
	waitCached(t, g.proxy, blobPath("multi/app", digest.FromBytes(layer)))
	waitCached(t, g.proxy, blobPath("multi/app", digest.FromBytes(config)))

	// It re-tags the index (the same bytes) through the group.
	expect(t, "index through the group", g.groupC.putManifest("multi/app", "mine", mtOCIIndex, index), http.StatusCreated)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/multi/app/manifests/mine", index, id, mtOCIIndex)
	wantContent(t, g.hostedC, http.MethodGet, "/v2/multi/app/manifests/"+cd.String(), child, cd, mtOCIManifest)
	// The hosted member alone must serve the whole image, also after
	// collection (the linked child manifest references its blobs).
	for _, collected := range []bool{false, true} {
		if collected {
			if err := g.fx.f.Maintain(context.Background(), g.hosted); err != nil {
				t.Fatal(err)
			}
			wantContent(t, g.hostedC, http.MethodGet, "/v2/multi/app/manifests/"+cd.String(), child, cd, mtOCIManifest)
		}
		for _, b := range [][]byte{config, layer} {
			d := digest.FromBytes(b)
			resp := pgDo(t, g.hostedC, http.MethodGet, "/v2/multi/app/blobs/"+d.String())
			if resp.status != http.StatusOK {
				t.Errorf("hosted GET of blob %s of the linked child manifest (after collection: %v): %s; "+
					"the hosted member holds a manifest whose blobs it lacks", d, collected, resp)
			}
		}
	}

	// A child whose blobs no member has cannot be linked: the index is
	// refused and the hosted member gains no manifest.
	config2, layer2 := []byte(`{"architecture":"s390x"}`), randomBytes(t, 1024)
	child2, cd2 := g.up.pushImage("multi/app", "", mtOCIManifest, config2, layer2)
	wantContent(t, g.groupC, http.MethodGet, "/v2/multi/app/manifests/"+cd2.String(), child2, cd2, mtOCIManifest)
	waitCached(t, g.proxy, "v2/multi/app/manifests/"+cd2.String())
	index2 := mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex,
		"manifests": []descriptor{desc(mtOCIManifest, child2)}})
	expectError(t, "index whose child's blobs nobody has", g.groupC.putManifest("multi/app", "partial", mtOCIIndex, index2),
		http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
	for _, p := range []string{"v2/multi/app/manifests/partial", "v2/multi/app/manifests/" + cd2.String(),
		"v2/multi/app/manifests/" + digest.FromBytes(index2).String()} {
		if _, err := g.hosted.Stat(context.Background(), p); errs.KindOf(err) != errs.NotFound {
			t.Errorf("refused index push left %s in the hosted member (%v)", p, err)
		}
	}
}
