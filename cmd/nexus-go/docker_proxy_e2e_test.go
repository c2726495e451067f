package main

// End-to-end tests of Docker proxy and group repositories against a real
// third-party upstream: CNCF Distribution's registry, behind a counting
// reverse proxy the tests control (failure modes, a Bearer token realm),
// with real clients (a private dockerd, skopeo) and plain HTTP.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// distRegistry is a CNCF Distribution registry process on 127.0.0.1, with
// filesystem storage under the test's temp dir and no authentication.
type distRegistry struct {
	host string // 127.0.0.1:<port>
	base string // http://127.0.0.1:<port>
	logs *logBuffer
	cmd  *exec.Cmd
	done chan struct{}
}

// startDistRegistry starts the registry NEXUS_GO_REGISTRY names and waits
// (bounded) until it answers; it is stopped when t ends.
func startDistRegistry(t *testing.T) *distRegistry {
	t.Helper()
	bin := e2eTool(t, "NEXUS_GO_REGISTRY", "the CNCF Distribution registry")
	dir := t.TempDir()
	var env []string
	for _, kv := range clientEnv("OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true") {
		if !strings.HasPrefix(kv, "REGISTRY_") { // would override the config file
			env = append(env, kv)
		}
	}
	for attempt := 0; attempt < 3; attempt++ {
		port := testproc.FreePort(t)
		r := &distRegistry{host: "127.0.0.1:" + strconv.Itoa(port), logs: &logBuffer{}}
		r.base = "http://" + r.host
		config := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
		yml := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"+
			"storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"+
			"http:\n  addr: %s\n", filepath.Join(dir, "storage"), r.host)
		if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve", config)
		cmd.Dir = dir
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = r.logs, r.logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting the registry: %v", err)
		}
		r.cmd, r.done = cmd, make(chan struct{})
		go func() {
			cmd.Wait()
			close(r.done)
		}()
		if r.waitReady() {
			t.Cleanup(func() { r.stop(t) })
			return r
		}
		r.stop(t)
		if !strings.Contains(r.logs.String(), "address already in use") {
			t.Fatalf("the registry did not answer on %s:\n%s", r.host, r.logs.String())
		}
	}
	t.Fatalf("the registry could not get a free port")
	return nil
}

// waitReady polls GET /v2/ (at most 15s) until it answers 200.
func (r *distRegistry) waitReady() bool {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	for i := 0; i < 150; i++ {
		select {
		case <-r.done:
			return false
		default:
		}
		resp, err := c.Get(r.base + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// stop ends the registry with SIGTERM (SIGKILL after 10s).
func (r *distRegistry) stop(t *testing.T) {
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
	if t.Failed() {
		t.Logf("registry output:\n%s", conformanceTail(r.logs.String(), 32<<10))
	}
}

// dpClient is a client for the registry and the nexus connectors: no
// environment proxy, no redirects followed, bounded.
var dpClient = &http.Client{
	Timeout:   2 * time.Minute,
	Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32, DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// dpDo sends one request and reads the whole answer; transport errors fail
// the test.
func dpDo(t *testing.T, method, target string, c *creds, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c != nil {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := dpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, target, err)
	}
	return resp.StatusCode, resp.Header, data
}

// dpStreamed is a response read to its end (or to its error) and hashed,
// not kept: a 32 MiB blob fetched 20 times stays out of memory.
type dpStreamed struct {
	status int
	header http.Header
	size   int64
	sum    string // sha256 hex of the bytes received
	head   []byte // the first 4 KiB, for error messages
	err    error  // a transport or body error
}

// dpStream GETs target with Basic credentials on client and hashes the body.
func dpStream(ctx context.Context, client *http.Client, target string, c *creds) dpStreamed {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return dpStreamed{err: err}
	}
	if c != nil {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return dpStreamed{err: err}
	}
	defer resp.Body.Close()
	h := sha256.New()
	var head bytes.Buffer
	n, err := io.Copy(io.MultiWriter(h, &dpPrefix{buf: &head, max: 4096}), resp.Body)
	return dpStreamed{status: resp.StatusCode, header: resp.Header, size: n, sum: hex.EncodeToString(h.Sum(nil)), head: head.Bytes(), err: err}
}

// dpTimeout reports whether err is the client's own timeout.
func dpTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dpPrefix keeps the first max bytes written to it.
type dpPrefix struct {
	buf *bytes.Buffer
	max int
}

func (p *dpPrefix) Write(b []byte) (int, error) {
	if room := p.max - p.buf.Len(); room > 0 {
		p.buf.Write(b[:min(room, len(b))])
	}
	return len(b), nil
}

// dpImage is an OCI image: its config, layers and manifest, as bytes.
type dpImage struct {
	config   []byte
	layers   [][]byte
	manifest []byte
	digest   string // the manifest's
}

const dpOCIManifest = "application/vnd.oci.image.manifest.v1+json"

// newDPImage makes an OCI image manifest of the given (uncompressed)
// layers; the registry stores them without looking inside.
func newDPImage(t *testing.T, layers ...[]byte) dpImage {
	t.Helper()
	var diffIDs []string
	var descs []any
	for _, l := range layers {
		d := "sha256:" + sha(l)
		diffIDs = append(diffIDs, d)
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": len(l)})
	}
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux", "config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": dpOCIManifest,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(config), "size": len(config)},
		"layers": descs,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dpImage{config: config, layers: layers, manifest: manifest, digest: "sha256:" + sha(manifest)}
}

// dpImageFromLayout reads the image ociLayout wrote to dir back as a dpImage.
func dpImageFromLayout(t *testing.T, dir string, img ociImage) dpImage {
	t.Helper()
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(img.manifest, &m); err != nil {
		t.Fatal(err)
	}
	read := func(d string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	out := dpImage{config: read(m.Config.Digest), manifest: img.manifest, digest: img.manifestDigest}
	for _, l := range m.Layers {
		out.layers = append(out.layers, read(l.Digest))
	}
	return out
}

// pushBlob uploads data to image name (POST, then PUT with the digest)
// and returns its digest.
func (r *distRegistry) pushBlob(t *testing.T, name string, data []byte) string {
	t.Helper()
	d := "sha256:" + sha(data)
	status, hdr, body := dpDo(t, http.MethodPost, r.base+"/v2/"+name+"/blobs/uploads/", nil, nil, nil)
	if status != http.StatusAccepted {
		t.Fatalf("registry: starting an upload to %s: %d %s", name, status, body)
	}
	base, _ := url.Parse(r.base + "/")
	loc, err := base.Parse(hdr.Get("Location"))
	if err != nil {
		t.Fatalf("registry: upload location %q: %v", hdr.Get("Location"), err)
	}
	q := loc.Query()
	q.Set("digest", d)
	loc.RawQuery = q.Encode()
	status, _, body = dpDo(t, http.MethodPut, loc.String(), nil, data, map[string]string{"Content-Type": "application/octet-stream"})
	if status != http.StatusCreated {
		t.Fatalf("registry: finishing the upload of %s to %s: %d %s", d, name, status, body)
	}
	return d
}

// pushImage uploads img's blobs and its manifest as name:tag.
func (r *distRegistry) pushImage(t *testing.T, name, tag string, img dpImage) {
	t.Helper()
	r.pushBlob(t, name, img.config)
	for _, l := range img.layers {
		r.pushBlob(t, name, l)
	}
	status, hdr, body := dpDo(t, http.MethodPut, r.base+"/v2/"+name+"/manifests/"+tag, nil, img.manifest,
		map[string]string{"Content-Type": dpOCIManifest})
	if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Fatalf("registry: manifest %s:%s: %d digest %q (want %s): %s", name, tag, status, hdr.Get("Docker-Content-Digest"), img.digest, body)
	}
}

// upMode is how the counting upstream answers.
type upMode int

const (
	upNormal    upMode = iota
	upDown             // 503 to every request
	upFail             // 500 to a GET of the target path
	upTruncate         // the target's headers with its full Content-Length, half the body, then the connection drops
	upCorrupt          // the target's headers, and other bytes of the same length
	upStall            // no answer to the target until the caller gives up
	upStallBody        // the target's headers and half its body, then nothing until the caller gives up
)

// countingUpstream is a reverse proxy on 127.0.0.1 in front of a registry:
// it counts requests by method and path, can be switched to failure modes,
// and can demand Bearer tokens from a realm of its own (/token).
type countingUpstream struct {
	srv       *httptest.Server
	transport *http.Transport
	proxy     *httputil.ReverseProxy
	registry  string
	stop      chan struct{}

	mu      sync.Mutex
	counts  map[string]int    // "GET /v2/..."
	accepts map[string]string // the last Accept header, by "GET /v2/..."
	mode    upMode
	target  string
	// With token set, /v2/ requests need "Authorization: Bearer <token>";
	// the realm wants Basic realmUser/realmPass when realmUser is set.
	token                string
	realmUser, realmPass string
	tokensIssued         int
	tokensRefused        int
	challenged           int
	scopes               []string // the scope and service each token request asked for
}

func newCountingUpstream(t *testing.T, reg *distRegistry) *countingUpstream {
	t.Helper()
	u := &countingUpstream{registry: reg.base, stop: make(chan struct{}), counts: map[string]int{}, accepts: map[string]string{}}
	u.proxy, u.transport = registryProxy(t, reg)
	u.srv = httptest.NewServer(u)
	t.Cleanup(func() {
		close(u.stop)
		u.srv.Close()
		u.transport.CloseIdleConnections()
	})
	return u
}

// registryProxy is a reverse proxy to reg, for fronts that count, break or
// stall requests on their way to a real registry; it drops the clients'
// credentials, which the registry does not want.
func registryProxy(t *testing.T, reg *distRegistry) (*httputil.ReverseProxy, *http.Transport) {
	t.Helper()
	target, err := url.Parse(reg.base)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32, DisableCompression: true}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Del("Authorization")
		},
		Transport: transport,
		ErrorLog:  log.New(io.Discard, "", 0),
	}, transport
}

func (u *countingUpstream) url() string { return u.srv.URL }

// setMode switches the failure mode; target is the path it applies to
// (upDown applies to everything).
func (u *countingUpstream) setMode(m upMode, target string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.mode, u.target = m, target
}

// requireToken makes /v2/ requests need a token from the realm, which
// itself wants Basic user/pass.
func (u *countingUpstream) requireToken(token, user, pass string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.token, u.realmUser, u.realmPass = token, user, pass
}

func (u *countingUpstream) count(method, path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counts[method+" "+path]
}

// accept is the Accept header of the last request of method and path.
func (u *countingUpstream) accept(method, path string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.accepts[method+" "+path]
}

// total is the number of requests to /v2/ paths so far.
func (u *countingUpstream) total() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.counts {
		n += c
	}
	return n
}

// writes lists the requests other than GET and HEAD.
func (u *countingUpstream) writes() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []string
	for k := range u.counts {
		if !strings.HasPrefix(k, "GET ") && !strings.HasPrefix(k, "HEAD ") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func (u *countingUpstream) dump() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	keys := make([]string, 0, len(u.counts))
	for k := range u.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %3d %s\n", u.counts[k], k)
	}
	return b.String()
}

// tokenStats returns the tokens issued and refused and the 401s sent.
func (u *countingUpstream) tokenStats() (issued, refused, challenged int, scopes []string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tokensIssued, u.tokensRefused, u.challenged, slices.Clone(u.scopes)
}

// dpImageName is the image name of a distribution API path.
func dpImageName(p string) string {
	rest := strings.TrimPrefix(p, "/v2/")
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/list"} {
		if i := strings.Index(rest, marker); i > 0 {
			return rest[:i]
		}
	}
	return ""
}

func (u *countingUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		u.serveToken(w, r)
		return
	}
	u.mu.Lock()
	u.counts[r.Method+" "+r.URL.Path]++
	u.accepts[r.Method+" "+r.URL.Path] = r.Header.Get("Accept")
	mode, target, token := u.mode, u.target, u.token
	needToken := token != "" && r.Header.Get("Authorization") != "Bearer "+token
	if needToken {
		u.challenged++
	}
	u.mu.Unlock()

	if needToken {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="test",scope="repository:%s:pull"`,
			u.srv.URL, dpImageName(r.URL.Path)))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	if mode == upDown {
		http.Error(w, "upstream down", http.StatusServiceUnavailable)
		return
	}
	if mode != upNormal && r.Method == http.MethodGet && r.URL.Path == target {
		switch mode {
		case upFail:
			http.Error(w, "upstream broken", http.StatusInternalServerError)
		case upStall:
			select {
			case <-r.Context().Done():
			case <-u.stop:
			case <-time.After(60 * time.Second):
			}
			http.Error(w, "upstream stalled", http.StatusGatewayTimeout)
		case upTruncate, upCorrupt, upStallBody:
			u.serveBroken(w, r, mode)
		}
		return
	}
	u.proxy.ServeHTTP(w, r)
}

// serveBroken fetches the real answer and sends it damaged.
func (u *countingUpstream) serveBroken(w http.ResponseWriter, r *http.Request, mode upMode) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.registry+r.URL.Path, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	resp, err := u.transport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		http.Error(w, fmt.Sprintf("fetching %s: %d %v", r.URL.Path, resp.StatusCode, err), http.StatusBadGateway)
		return
	}
	for _, k := range []string{"Content-Type", "Docker-Content-Digest", "ETag"} {
		if v := resp.Header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if mode == upCorrupt {
		for i := range body {
			body[i] ^= 0xff
		}
		w.Write(body)
		return
	}
	w.Write(body[:len(body)/2])
	w.(http.Flusher).Flush()
	if mode == upStallBody {
		select {
		case <-r.Context().Done():
		case <-u.stop:
		case <-time.After(60 * time.Second):
		}
	}
	panic(http.ErrAbortHandler) // drops the connection mid-body
}

// serveToken is the realm: {"token":...,"expires_in":300} for the right
// Basic credentials.
func (u *countingUpstream) serveToken(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	q := r.URL.Query()
	u.scopes = append(u.scopes, q.Get("service")+" "+strings.Join(q["scope"], " "))
	user, pass, ok := r.BasicAuth()
	if u.token == "" || (u.realmUser != "" && (!ok || user != u.realmUser || pass != u.realmPass)) {
		u.tokensRefused++
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		http.Error(w, "bad credentials", http.StatusUnauthorized)
		return
	}
	u.tokensIssued++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"token": u.token, "expires_in": 300})
}

// dockerProxyJSON is the configuration of a Docker proxy of remoteURL on a
// connector port; auth is the httpClient.authentication object or "".
func dockerProxyJSON(name, remoteURL string, httpPort int, autoBlock bool, auth string) string {
	return dockerProxyAgeJSON(name, remoteURL, httpPort, 1440, autoBlock, auth)
}

// dockerProxyAgeJSON is dockerProxyJSON with metadataMaxAge in minutes.
func dockerProxyAgeJSON(name, remoteURL string, httpPort, metadataMaxAge int, autoBlock bool, auth string) string {
	authField := ""
	if auth != "" {
		authField = `,"authentication":` + auth
	}
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true},`+
		`"proxy":{"remoteUrl":%q,"contentMaxAge":1440,"metadataMaxAge":%d},`+
		`"negativeCache":{"enabled":true,"timeToLive":1440},`+
		`"httpClient":{"blocked":false,"autoBlock":%t%s},`+
		`"docker":{"v1Enabled":false,"forceBasicAuth":true,"httpPort":%d},`+
		`"dockerProxy":{"indexType":"REGISTRY"}}`, name, remoteURL, metadataMaxAge, autoBlock, authField, httpPort)
}

// dockerGroupJSON is the configuration of a Docker group on a connector port.
func dockerGroupJSON(name string, httpPort int, writable string, members ...string) string {
	m, _ := json.Marshal(members)
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true},`+
		`"group":{"memberNames":%s,"writableMember":%q},`+
		`"docker":{"v1Enabled":false,"forceBasicAuth":true,"httpPort":%d}}`, name, m, writable, httpPort)
}

func createDockerProxy(s *nexusServer, body string) {
	s.t.Helper()
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/proxy", s.admin(), body, nil)
}

// dpHasAsset reports whether repo has an asset whose path ends in suffix.
func dpHasAsset(s *nexusServer, repo, suffix string) bool {
	s.t.Helper()
	for _, a := range s.assets(repo) {
		if strings.HasSuffix(a.Path, suffix) {
			return true
		}
	}
	return false
}

// dpBuildImage builds a FROM scratch image of files (one layer each, in
// name order) with the engine and returns its id.
func dpBuildImage(t *testing.T, eng *dockerEngine, tag string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	dockerfile := "FROM scratch\n"
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			t.Fatal(err)
		}
		dockerfile += "COPY " + name + " /data/" + name + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	eng.must(t, "build", "-q", "-t", tag, dir)
	return eng.imageID(t, tag)
}

// TestDockerProxyGroupEngine: a real engine pulls an image pushed to the
// upstream registry through a group (hosted + proxy), pushes a new image
// through the group into its hosted member, and pulls the proxied image
// again from the cache, through the proxy and the group, with the upstream
// down.
func TestDockerProxyGroupEngine(t *testing.T) {
	eng := startDockerEngine(t)
	reg := startDistRegistry(t)
	up := newCountingUpstream(t, reg)
	s := startServer(t)
	admin := s.admin()
	pProxy, pHosted, pGroup := testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", up.url(), pProxy, true, ""))
	createDockerHosted(s, "docker-hosted", pHosted)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/group", admin,
		dockerGroupJSON("docker-group", pGroup, "docker-hosted", "docker-hosted", "docker-proxy"), nil)
	proxyReg := "127.0.0.1:" + strconv.Itoa(pProxy)
	groupReg := "127.0.0.1:" + strconv.Itoa(pGroup)

	// Straight to the upstream registry, which needs no login.
	upRef := reg.host + "/team/up:1.0"
	srcID := dpBuildImage(t, eng, upRef, map[string][]byte{"a.bin": randomBytes(t, 1500), "b.bin": randomBytes(t, 2500)})
	eng.must(t, "push", upRef)
	eng.drop(t, srcID)

	eng.login(t, groupReg, "admin", s.adminPW)
	eng.pullExpect(t, groupReg+"/team/up:1.0", srcID)
	if n := up.count(http.MethodGet, "/v2/team/up/manifests/1.0"); n < 1 {
		t.Errorf("the pull through the group never asked the upstream for team/up:1.0; upstream saw:\n%s", up.dump())
	}

	// A new image pushed through the group lands in the writable member.
	mineRef := groupReg + "/team/mine:1.0"
	mineID := dpBuildImage(t, eng, mineRef, map[string][]byte{"c.bin": randomBytes(t, 1800), "d.bin": randomBytes(t, 2200)})
	eng.must(t, "push", mineRef)
	if status, tags := tagList(t, s, pHosted, "team/mine"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/mine on docker-hosted: %d %v, want 200 [1.0]", status, tags)
	}
	if versions, _ := dockerVersions(s, "docker-hosted"); !slices.Equal(versions["team/mine"], []string{"1.0"}) {
		t.Errorf("components of docker-hosted: %v, want team/mine [1.0]", versions)
	}
	if w := up.writes(); len(w) != 0 {
		t.Errorf("the push through the group reached the upstream with %v", w)
	}
	if status, _, body := dpDo(t, http.MethodGet, reg.base+"/v2/team/mine/tags/list", nil, nil, nil); status != http.StatusNotFound {
		t.Errorf("the upstream registry has team/mine: %d %s", status, body)
	}
	if versions, _ := dockerVersions(s, "docker-proxy"); !slices.Equal(versions["team/up"], []string{"1.0"}) {
		t.Errorf("components of docker-proxy: %v, want team/up [1.0]", versions)
	}
	if status, tags := tagList(t, s, pGroup, "team/up"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/up on the group: %d %v, want 200 [1.0]", status, tags)
	}

	// The pulled image re-tagged and pushed through the group: the engine
	// finds its layers in the group (the proxy member has them) and skips
	// them, or mounts them from team/up; either way the hosted member ends
	// up with the image, linked from the proxy's copies.
	for _, ref := range []string{groupReg + "/team/up:2.0", groupReg + "/team/derived:1.0"} {
		eng.must(t, "tag", srcID, ref)
		eng.must(t, "push", ref)
	}
	if status, tags := tagList(t, s, pHosted, "team/up"); status != http.StatusOK || !slices.Equal(tags, []string{"2.0"}) {
		t.Errorf("tags/list of team/up on docker-hosted: %d %v, want 200 [2.0]", status, tags)
	}
	if status, tags := tagList(t, s, pHosted, "team/derived"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/derived on docker-hosted: %d %v, want 200 [1.0]", status, tags)
	}
	if status, tags := tagList(t, s, pGroup, "team/up"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0", "2.0"}) {
		t.Errorf("tags/list of team/up on the group: %d %v, want 200 [1.0 2.0]", status, tags)
	}
	if w := up.writes(); len(w) != 0 {
		t.Errorf("the pushes through the group reached the upstream with %v", w)
	}

	// The upstream goes down: what was pulled comes from the cache.
	up.setMode(upDown, "")
	if status, _, _ := dpDo(t, http.MethodGet, up.url()+"/v2/team/up/manifests/1.0", nil, nil, nil); status != http.StatusServiceUnavailable {
		t.Fatalf("the counting upstream answers %d while down", status)
	}
	eng.login(t, proxyReg, "admin", s.adminPW)
	eng.drop(t, srcID)
	eng.pullExpect(t, proxyReg+"/team/up:1.0", srcID)
	eng.drop(t, srcID)
	eng.pullExpect(t, groupReg+"/team/up:1.0", srcID)
	eng.drop(t, mineID)
	eng.pullExpect(t, mineRef, mineID)
	// The re-tagged images come from the hosted member, through the group
	// and on its own port.
	eng.drop(t, srcID)
	eng.pullExpect(t, groupReg+"/team/up:2.0", srcID)
	eng.drop(t, srcID)
	eng.login(t, "127.0.0.1:"+strconv.Itoa(pHosted), "admin", s.adminPW)
	eng.pullExpect(t, "127.0.0.1:"+strconv.Itoa(pHosted)+"/team/derived:1.0", srcID)
	// Tag lists: the proxy's cached one merged with the hosted member's.
	for name, want := range map[string][]string{"team/up": {"1.0", "2.0"}, "team/mine": {"1.0"}} {
		if status, tags := tagList(t, s, pGroup, name); status != http.StatusOK || !slices.Equal(tags, want) {
			t.Errorf("tags/list of %s on the group with the upstream down: %d %v, want 200 %v", name, status, tags, want)
		}
	}
	// What was never cached fails cleanly.
	out := eng.mustFail(t, "pull", groupReg+"/team/never:1.0")
	if mentions(out, "timed out") {
		t.Errorf("pull of an uncached image with the upstream down hung:\n%s", out)
	}
	if w := up.writes(); len(w) != 0 {
		t.Errorf("the upstream saw writes: %v", w)
	}
	if t.Failed() {
		t.Logf("upstream requests:\n%s", up.dump())
	}
}

// TestDockerProxyFetchesBlobOnce: 20 concurrent GETs of one uncached 32 MiB
// blob through the proxy all get the right bytes from one upstream GET.
func TestDockerProxyFetchesBlobOnce(t *testing.T) {
	reg := startDistRegistry(t)
	up := newCountingUpstream(t, reg)
	s := startServer(t)
	port := testproc.FreePort(t)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", up.url(), port, true, ""))
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	big := randomBytes(t, 32<<20)
	img := newDPImage(t, big)
	reg.pushImage(t, "team/big", "1.0", img)
	d := "sha256:" + sha(big)
	path := "/v2/team/big/blobs/" + d

	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 32, DisableCompression: true}}
	defer client.CloseIdleConnections()
	const n = 20
	results := make([]dpStreamed, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = dpStream(context.Background(), client, base+path, s.admin())
		}()
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if r.err != nil || r.status != http.StatusOK || r.size != int64(len(big)) || r.sum != sha(big) {
			t.Errorf("GET %d: status %d, %d bytes sha256 %s, err %v, want 200 with %d bytes sha256 %s: %.200q",
				i, r.status, r.size, r.sum, r.err, len(big), sha(big), r.head)
		}
	}
	if got := up.count(http.MethodGet, path); got != 1 {
		t.Errorf("the upstream saw %d GETs of the blob, want 1; all requests:\n%s", got, up.dump())
	}
	// Once more, from the cache.
	if r := dpStream(context.Background(), client, base+path, s.admin()); r.err != nil || r.status != http.StatusOK || r.sum != sha(big) {
		t.Errorf("cached GET: %d %v sha256 %s", r.status, r.err, r.sum)
	}
	if got := up.count(http.MethodGet, path); got != 1 {
		t.Errorf("the cached GET reached the upstream (%d GETs)", got)
	}
	if !dpHasAsset(s, "docker-proxy", "/blobs/"+d) {
		t.Errorf("the blob is not among the assets of docker-proxy")
	}

	// The manifest through the proxy is the upstream's, with its digest.
	status, hdr, body := dpDo(t, http.MethodGet, base+"/v2/team/big/manifests/1.0", s.admin(), nil,
		map[string]string{"Accept": dpOCIManifest})
	if status != http.StatusOK || !bytes.Equal(body, img.manifest) || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Errorf("manifest through the proxy: %d digest %q (want %s): %s", status, hdr.Get("Docker-Content-Digest"), img.digest, body)
	}
}

// TestDockerProxyUpstreamFailures: a blob the upstream fails to deliver
// (500, a truncated body, bytes that do not match the digest, no answer
// within proxy.timeout, a body that stops halfway) is an error for the
// client, within a bound, and is not cached; the next request goes
// upstream again and succeeds.
func TestDockerProxyUpstreamFailures(t *testing.T) {
	reg := startDistRegistry(t)
	up := newCountingUpstream(t, reg)
	s := startServer(t)

	// The harness drops the caller's NEXUS_GO_* variables, so proxy.timeout
	// comes from the properties file in the data directory.
	s.stop()
	etc := filepath.Join(s.dataDir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "nexus-go.properties"), []byte("proxy.timeout=2s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.restart()

	port := testproc.FreePort(t)
	admin := s.admin()
	createDockerProxy(s, dockerProxyJSON("docker-proxy", up.url(), port, true, ""))
	// autoBlock off, so one failure does not block the next try.
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/docker/proxy/docker-proxy", admin,
		dockerProxyJSON("docker-proxy", up.url(), port, false, ""), nil)
	var cfg struct {
		HTTPClient struct {
			AutoBlock bool `json:"autoBlock"`
		} `json:"httpClient"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/proxy/docker-proxy", admin, nil, &cfg)
	if cfg.HTTPClient.AutoBlock {
		t.Fatalf("autoBlock is still on after the update")
	}

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	// Bounded well above proxy.timeout (2s): the server must answer, or
	// give up on the upstream, long before this.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	defer client.CloseIdleConnections()

	cases := []struct {
		name string
		mode upMode
	}{
		{"Status500", upFail},
		{"TruncatedBody", upTruncate},
		{"DigestMismatch", upCorrupt},
		{"NoAnswerWithinProxyTimeout", upStall},
		// Last: when it fails, the hung download may hold the server.
		{"BodyStallsMidway", upStallBody},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := randomBytes(t, 1<<20+i)
			name := "team/fail" + strconv.Itoa(i)
			d := reg.pushBlob(t, name, data)
			path := "/v2/" + name + "/blobs/" + d

			up.setMode(tc.mode, path)
			r := dpStream(context.Background(), client, base+path, admin)
			up.setMode(upNormal, "")
			if dpTimeout(r.err) {
				t.Errorf("GET with the upstream failing (%s): the server neither answered nor gave up on the upstream within the client's 10s (proxy.timeout is 2s): %v",
					tc.name, r.err)
			}
			if r.err == nil && r.status == http.StatusOK {
				t.Errorf("GET with the upstream failing (%s): a complete 200 answer (%d bytes, sha256 %s, want %s), want an error or an aborted body",
					tc.name, r.size, r.sum, sha(data))
			} else {
				t.Logf("GET with the upstream failing: status %d, %d bytes, err %v: %.200q", r.status, r.size, r.err, r.head)
			}
			if r.err == nil && r.status != http.StatusOK && r.status < 500 {
				t.Errorf("GET with the upstream failing: status %d, want a 5xx (the upstream's fault): %.300q", r.status, r.head)
			}
			if got := up.count(http.MethodGet, path); got != 1 {
				t.Errorf("the upstream saw %d GETs of the blob, want 1", got)
			}
			if dpHasAsset(s, "docker-proxy", "/blobs/"+d) {
				t.Errorf("the failed download was cached as an asset")
			}

			// The upstream is well again: the next GET goes there and succeeds.
			r = dpStream(context.Background(), client, base+path, admin)
			if r.err != nil || r.status != http.StatusOK || r.sum != sha(data) {
				t.Errorf("GET after the upstream recovered: status %d, %d bytes sha256 %s, err %v, want 200 sha256 %s: %.300q",
					r.status, r.size, r.sum, r.err, sha(data), r.head)
			}
			if got := up.count(http.MethodGet, path); got != 2 {
				t.Errorf("after the retry the upstream saw %d GETs of the blob, want 2", got)
			}
			if !pollUntil(50, func() bool { return dpHasAsset(s, "docker-proxy", "/blobs/"+d) }) {
				t.Errorf("the good download was not cached")
			}
			if t.Failed() {
				t.Logf("upstream requests:\n%s", up.dump())
			}
		})
	}
}

// TestDockerProxyTokenUpstream: the upstream wants Bearer tokens from a
// realm that wants the proxy's configured credentials; one token serves the
// manifest and the blobs of an image; wrong credentials fail cleanly.
func TestDockerProxyTokenUpstream(t *testing.T) {
	sk := newSkopeo(t)
	reg := startDistRegistry(t)
	up := newCountingUpstream(t, reg)
	s := startServer(t)
	pw := s.adminPW

	layout := filepath.Join(t.TempDir(), "layout")
	oci := ociLayout(t, layout, "1.0")
	img := dpImageFromLayout(t, layout, oci)
	reg.pushImage(t, "team/tok", "1.0", img)
	up.requireToken("tok-"+sha(randomBytes(t, 16))[:16], "u", "p")

	good, bad := testproc.FreePort(t), testproc.FreePort(t)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", up.url(), good, true, `{"type":"username","username":"u","password":"p"}`))
	createDockerProxy(s, dockerProxyJSON("docker-proxy-bad", up.url(), bad, true, `{"type":"username","username":"u","password":"wrong"}`))

	dest := filepath.Join(t.TempDir(), "copied")
	src := "docker://127.0.0.1:" + strconv.Itoa(good) + "/team/tok:1.0"
	if out, err := sk.run("copy", "--src-tls-verify=false", "--src-creds", "admin:"+pw, src, "oci:"+dest+":1.0"); err != nil {
		t.Fatalf("skopeo copy through the proxy: %v\n%s\nupstream requests:\n%s", err, out, up.dump())
	}
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	raw, err := os.ReadFile(filepath.Join(dest, "index.json"))
	if err == nil {
		err = json.Unmarshal(raw, &idx)
	}
	if err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != img.digest {
		t.Errorf("copied layout: index %s (%v), want the manifest %s", raw, err, img.digest)
	}
	for _, b := range append([][]byte{img.config}, img.layers...) {
		got, err := os.ReadFile(filepath.Join(dest, "blobs", "sha256", sha(b)))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("copied layout: blob sha256:%s missing or different (%v)", sha(b), err)
		}
	}

	issued, refused, challenged, scopes := up.tokenStats()
	t.Logf("token realm: %d issued, %d refused, %d challenges; upstream requests:\n%s", issued, refused, challenged, up.dump())
	if issued < 1 || issued > 2 || refused != 0 {
		t.Errorf("token realm: %d tokens issued, %d refused, want 1 (at most 2) and none refused", issued, refused)
	}
	for _, sc := range scopes {
		if sc != "test repository:team/tok:pull" {
			t.Errorf("token request for service and scope %q, want \"test repository:team/tok:pull\"", sc)
		}
	}
	if challenged > issued {
		t.Errorf("the upstream sent %d 401 challenges for %d tokens: a token was not reused", challenged, issued)
	}
	for _, p := range []string{"/v2/team/tok/manifests/1.0", "/v2/team/tok/blobs/sha256:" + sha(img.config), "/v2/team/tok/blobs/sha256:" + sha(img.layers[0])} {
		if up.count(http.MethodGet, p) < 1 {
			t.Errorf("the upstream never saw GET %s", p)
		}
	}
	if versions, _ := dockerVersions(s, "docker-proxy"); !slices.Equal(versions["team/tok"], []string{"1.0"}) {
		t.Errorf("components of docker-proxy: %v, want team/tok [1.0]", versions)
	}

	// The upstream revokes the token (a new signing key, say): the next
	// request with the cached token gets a 401 challenge, and the proxy
	// must fetch a new token rather than fail until the old one expires.
	up.requireToken("tok2-"+sha(randomBytes(t, 16))[:16], "u", "p")
	if status, tags := tagList(t, s, good, "team/tok"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/tok after the upstream revoked the cached token: %d %v, want 200 [1.0]", status, tags)
	}
	if issued2, _, _, _ := up.tokenStats(); issued2 != issued+1 {
		t.Errorf("token realm: %d tokens issued after the revocation, want %d (one new)", issued2, issued+1)
	}

	// indexType HUB: a one-segment name is the upstream's library/<name>,
	// and the token is asked for that scope.
	reg.pushImage(t, "library/tok", "1.0", img)
	hub := testproc.FreePort(t)
	createDockerProxy(s, strings.Replace(dockerProxyJSON("docker-hub", up.url(), hub, true, `{"type":"username","username":"u","password":"p"}`),
		`"indexType":"REGISTRY"`, `"indexType":"HUB"`, 1))
	hubBase := "http://127.0.0.1:" + strconv.Itoa(hub)
	status, hdr, body := dpDo(t, http.MethodGet, hubBase+"/v2/tok/manifests/1.0", s.admin(), nil, map[string]string{"Accept": dpOCIManifest})
	if status != http.StatusOK || !bytes.Equal(body, img.manifest) || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Errorf("tok:1.0 through the HUB proxy: %d digest %q (want %s): %.300s", status, hdr.Get("Docker-Content-Digest"), img.digest, body)
	}
	status, _, body = dpDo(t, http.MethodGet, hubBase+"/v2/tok/blobs/sha256:"+sha(img.config), s.admin(), nil, nil)
	if status != http.StatusOK || !bytes.Equal(body, img.config) {
		t.Errorf("the config blob through the HUB proxy: %d %.300s", status, body)
	}
	if up.count(http.MethodGet, "/v2/library/tok/manifests/1.0") < 1 || up.count(http.MethodGet, "/v2/tok/manifests/1.0") != 0 {
		t.Errorf("the HUB proxy did not ask the upstream for library/tok:\n%s", up.dump())
	}
	if _, _, _, scopes := up.tokenStats(); !slices.Contains(scopes, "test repository:library/tok:pull") {
		t.Errorf("no token was asked for repository:library/tok:pull; token requests: %q", scopes)
	}
	if versions, _ := dockerVersions(s, "docker-hub"); !slices.Equal(versions["tok"], []string{"1.0"}) {
		t.Errorf("components of docker-hub: %v, want tok [1.0]", versions)
	}

	// Wrong credentials: the realm refuses, the pull fails with an error
	// from the proxy, and nothing is cached.
	badSrc := "docker://127.0.0.1:" + strconv.Itoa(bad) + "/team/tok:1.0"
	out, err := sk.run("copy", "--src-tls-verify=false", "--src-creds", "admin:"+pw, badSrc, "oci:"+filepath.Join(t.TempDir(), "bad")+":1.0")
	if err == nil {
		t.Errorf("skopeo copy through the proxy with wrong upstream credentials succeeded:\n%s", out)
	} else {
		t.Logf("skopeo copy with wrong upstream credentials failed as expected: %s", lastLine(out))
	}
	status, _, body = dpDo(t, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(bad)+"/v2/team/tok/manifests/1.0", s.admin(), nil,
		map[string]string{"Accept": dpOCIManifest})
	if status != http.StatusBadGateway || !json.Valid(body) {
		t.Errorf("manifest through the proxy with wrong upstream credentials: %d %s, want 502 with an error document", status, body)
	}
	if _, refused, _, _ := up.tokenStats(); refused < 1 {
		t.Errorf("the realm never refused the wrong credentials")
	}
	if assets := s.assets("docker-proxy-bad"); len(assets) != 0 {
		t.Errorf("docker-proxy-bad cached %d assets with wrong upstream credentials: %+v", len(assets), assets)
	}
	if t.Failed() {
		t.Logf("upstream requests:\n%s", up.dump())
	}
}

// TestDockerProxyTagRevalidation: with metadataMaxAge 0 every request of a
// tag asks the upstream with a HEAD (Accept: every manifest type) whether
// it still names the cached manifest; only a moved tag is downloaded
// again, and with the upstream down the cached manifest is served.
func TestDockerProxyTagRevalidation(t *testing.T) {
	reg := startDistRegistry(t)
	up := newCountingUpstream(t, reg)
	s := startServer(t)
	port := testproc.FreePort(t)
	createDockerProxy(s, dockerProxyAgeJSON("docker-proxy", up.url(), port, 0, true, ""))
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	admin := s.admin()
	const tagPath = "/v2/team/move/manifests/1.0"

	get := func(t *testing.T, want dpImage) {
		t.Helper()
		status, hdr, body := dpDo(t, http.MethodGet, base+tagPath, admin, nil, map[string]string{"Accept": dpOCIManifest})
		if status != http.StatusOK || !bytes.Equal(body, want.manifest) || hdr.Get("Docker-Content-Digest") != want.digest {
			t.Fatalf("GET team/move:1.0 through the proxy: %d digest %q, want 200 %s: %.300s\nupstream requests:\n%s",
				status, hdr.Get("Docker-Content-Digest"), want.digest, body, up.dump())
		}
	}
	counts := func(t *testing.T, wantGET, wantHEAD int) {
		t.Helper()
		if g, h := up.count(http.MethodGet, tagPath), up.count(http.MethodHead, tagPath); g != wantGET || h != wantHEAD {
			t.Errorf("upstream saw %d GETs and %d HEADs of the tag, want %d and %d:\n%s", g, h, wantGET, wantHEAD, up.dump())
		}
	}

	a := newDPImage(t, randomBytes(t, 4000))
	reg.pushImage(t, "team/move", "1.0", a)
	get(t, a)
	counts(t, 1, 0)
	for _, mt := range []string{dpOCIManifest, "application/vnd.oci.image.index.v1+json",
		"application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"} {
		if acc := up.accept(http.MethodGet, tagPath); !strings.Contains(acc, mt) {
			t.Errorf("the proxy asked the upstream for the tag with Accept %q, which lacks %s", acc, mt)
		}
	}

	// Unchanged upstream: a HEAD confirms the cached manifest.
	get(t, a)
	counts(t, 1, 1)
	if acc := up.accept(http.MethodHead, tagPath); !strings.Contains(acc, dpOCIManifest) {
		t.Errorf("the revalidating HEAD had Accept %q", acc)
	}

	// The tag moves upstream: the new manifest is downloaded.
	b := newDPImage(t, randomBytes(t, 4000))
	reg.pushImage(t, "team/move", "1.0", b)
	get(t, b)
	counts(t, 2, 2)
	if status, tags := tagList(t, s, port, "team/move"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/move: %d %v, want 200 [1.0]", status, tags)
	}
	if versions, _ := dockerVersions(s, "docker-proxy"); !slices.Equal(versions["team/move"], []string{"1.0"}) {
		t.Errorf("components of docker-proxy: %v, want team/move [1.0]", versions)
	}

	// The upstream goes down: the cached manifest and tag list are served.
	up.setMode(upDown, "")
	get(t, b)
	get(t, b)
	if status, tags := tagList(t, s, port, "team/move"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
		t.Errorf("tags/list of team/move with the upstream down: %d %v, want 200 [1.0]", status, tags)
	}
}
