package main

// End-to-end harness: the nexus-go binary is built once in TestMain and every
// test runs it as a subprocess on 127.0.0.1, talking to it over HTTP only.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// nexusBin is the binary under test, built by TestMain.
var nexusBin string

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == memRegistryArg {
		os.Exit(serveMemRegistry(os.Args[2])) // a peer of BenchmarkDockerPeers
	}
	dir, err := os.MkdirTemp("", "nexus-go-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		os.Exit(1)
	}
	nexusBin = filepath.Join(dir, "nexus-go")
	args := []string{"build", "-o", nexusBin}
	// NEXUS_GO_E2E_RACE=1 builds the server with the race detector; a
	// race it reports fails the test that ran the server.
	if os.Getenv("NEXUS_GO_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building nexus-go:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// creds are Basic credentials; a nil *creds is an anonymous request.
type creds struct{ user, pass string }

// logBuffer collects a subprocess's output; it is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// nexusServer is one nexus-go process and its data directory. It can be
// stopped and started again on the same data directory.
type nexusServer struct {
	t       testing.TB
	root    string // per-server temp root; holds data/ and cwd/ only
	dataDir string
	cwd     string
	logs    *logBuffer
	client  *http.Client
	env     []string // NEXUS_GO_* settings of this server

	// Set by launch, per process.
	port    int
	base    string
	adminPW string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// startServer starts a fresh server on a new data directory.
func startServer(t testing.TB) *nexusServer {
	t.Helper()
	return startServerEnv(t)
}

// startServerEnv is startServer with settings in env ("NEXUS_GO_PROXY_TIMEOUT=2s").
func startServerEnv(t testing.TB, env ...string) *nexusServer {
	t.Helper()
	root := t.TempDir()
	s := &nexusServer{
		t:       t,
		root:    root,
		dataDir: filepath.Join(root, "data"),
		cwd:     filepath.Join(root, "cwd"),
		logs:    &logBuffer{},
		env:     env,
		client: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true},
			Timeout:   2 * time.Minute,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
	if err := os.MkdirAll(s.cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.running() {
			s.signal(syscall.SIGKILL)
			<-s.done
		}
		s.client.CloseIdleConnections()
		if strings.Contains(s.logs.String(), "WARNING: DATA RACE") {
			t.Errorf("the server (%s) reported a data race", s.dataDir)
		}
		if t.Failed() {
			out := s.logs.String()
			if len(out) > 256<<10 {
				out = "...\n" + out[len(out)-256<<10:]
			}
			t.Logf("nexus-go output (%s):\n%s", s.dataDir, out)
		}
	})
	s.launch()
	return s
}

// serverEnv is the environment without any NEXUS_GO_* setting of the
// caller's, bound to 127.0.0.1.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NEXUS_GO_") {
			env = append(env, kv)
		}
	}
	return append(env, "NEXUS_GO_APPLICATION_HOST=127.0.0.1")
}

// launch starts the process on the data directory and waits until it
// answers; a port taken in the meantime is retried on another one.
func (s *nexusServer) launch() {
	s.t.Helper()
	for attempt := 0; attempt < 3; attempt++ {
		s.port = testproc.FreePort(s.t)
		s.base = "http://127.0.0.1:" + strconv.Itoa(s.port)
		fmt.Fprintf(s.logs, "=== launch %d on port %d\n", attempt, s.port)
		cmd := exec.Command(nexusBin, "serve", "--data-dir", s.dataDir, "--port", strconv.Itoa(s.port))
		cmd.Dir = s.cwd
		cmd.Env = append(serverEnv(), s.env...)
		cmd.Stdout, cmd.Stderr = s.logs, s.logs
		if err := cmd.Start(); err != nil {
			s.t.Fatalf("starting nexus-go: %v", err)
		}
		s.cmd = cmd
		s.done = make(chan struct{})
		go func(done chan struct{}) {
			s.waitErr = cmd.Wait()
			close(done)
		}(s.done)
		if s.waitReady() {
			pw, err := os.ReadFile(filepath.Join(s.dataDir, "admin.password"))
			if err != nil {
				s.t.Fatalf("reading admin password: %v", err)
			}
			s.adminPW = strings.TrimSpace(string(pw))
			return
		}
		if s.running() {
			s.signal(syscall.SIGKILL)
			<-s.done
			s.t.Fatalf("nexus-go did not answer /service/rest/v1/status on port %d", s.port)
		}
		if !strings.Contains(s.logs.String(), "address already in use") {
			s.t.Fatalf("nexus-go exited at start: %v", s.waitErr)
		}
	}
	s.t.Fatalf("nexus-go could not get a free port")
}

// waitReady polls the status endpoint (bounded) until it answers 200; it
// returns false if the process exits first or never answers.
func (s *nexusServer) waitReady() bool {
	c := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < 600; i++ {
		select {
		case <-s.done:
			return false
		default:
		}
		resp, err := c.Get(s.base + "/service/rest/v1/status")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func (s *nexusServer) running() bool {
	if s.done == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *nexusServer) signal(sig os.Signal) {
	if err := s.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Errorf("signal %v: %v", sig, err)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within 20s.
func (s *nexusServer) stop() {
	s.t.Helper()
	s.client.CloseIdleConnections()
	s.signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.signal(syscall.SIGKILL)
		<-s.done
		s.t.Fatalf("nexus-go did not exit within 20s of SIGTERM")
	}
	if s.waitErr != nil {
		s.t.Fatalf("nexus-go exited uncleanly after SIGTERM: %v", s.waitErr)
	}
}

// kill9 kills the process with SIGKILL and waits for it.
func (s *nexusServer) kill9() {
	s.t.Helper()
	s.signal(syscall.SIGKILL)
	<-s.done
	s.client.CloseIdleConnections()
}

// restart starts a new process on the same data directory.
func (s *nexusServer) restart() {
	s.t.Helper()
	if s.running() {
		s.t.Fatalf("restart of a running server")
	}
	s.launch()
}

func (s *nexusServer) admin() *creds { return &creds{"admin", s.adminPW} }

// url returns the absolute URL of a server path.
func (s *nexusServer) url(path string) string { return s.base + path }

// request sends one request; path is sent as written (escapes kept).
func (s *nexusServer) request(ctx context.Context, method, path string, c *creds, body io.Reader, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url(path), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	if c != nil {
		req.SetBasicAuth(c.user, c.pass)
	}
	return s.client.Do(req)
}

// result is a fully read response.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request and reads the whole answer; transport errors fail
// the test.
func (s *nexusServer) do(method, path string, c *creds, body []byte, hdr http.Header) result {
	s.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	resp, err := s.request(context.Background(), method, path, c, r, hdr)
	res, err := readResult(resp, err)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// readResult reads the whole answer of an exchange that returned resp
// and err.
func readResult(resp *http.Response, err error) (result, error) {
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, fmt.Errorf("reading body: %w", err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// doJSON sends in (a string is sent verbatim, anything else marshalled) to
// a REST path and decodes a 2xx answer into out when out is not nil.
func (s *nexusServer) doJSON(method, path string, c *creds, in, out any) result {
	s.t.Helper()
	var body []byte
	switch v := in.(type) {
	case nil:
	case string:
		body = []byte(v)
	case []byte:
		body = v
	default:
		var err error
		if body, err = json.Marshal(v); err != nil {
			s.t.Fatal(err)
		}
	}
	hdr := http.Header{"Accept": {"application/json"}}
	if body != nil {
		hdr.Set("Content-Type", "application/json")
	}
	res := s.do(method, "/service/rest"+path, c, body, hdr)
	if out != nil && res.status/100 == 2 {
		if err := json.Unmarshal(res.body, out); err != nil {
			s.t.Fatalf("%s %s: decoding %q: %v", method, path, res.body, err)
		}
	}
	return res
}

// mustJSON is doJSON that requires the given status.
func (s *nexusServer) mustJSON(want int, method, path string, c *creds, in, out any) {
	s.t.Helper()
	if res := s.doJSON(method, path, c, in, out); res.status != want {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.status, want, res.body)
	}
}

// createRepo creates a raw repository of kind from a JSON body.
func (s *nexusServer) createRepo(kind, body string) {
	s.t.Helper()
	s.createRepoOf("raw", kind, body)
}

// createRepoOf creates a repository of format (as REST paths name it) and
// kind from a JSON body.
func (s *nexusServer) createRepoOf(format, kind, body string) {
	s.t.Helper()
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/"+format+"/"+kind, s.admin(), body, nil)
}

func hostedBody(name, policy string) string {
	return `{"name":"` + name + `","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"` + policy + `"}}`
}

// proxyBody is the proxy configuration of the scenario with remoteURL and
// upstream credentials substituted.
func proxyBody(name, remoteURL, user, pass string) string {
	return `{"name":"` + name + `","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
 "proxy":{"remoteUrl":"` + remoteURL + `","contentMaxAge":1440,"metadataMaxAge":1440},
 "negativeCache":{"enabled":true,"timeToLive":1440},
 "httpClient":{"blocked":false,"autoBlock":true,"authentication":{"type":"username","username":"` + user + `","password":"` + pass + `"}}}`
}

// anonProxyBody is a proxy without upstream credentials.
func anonProxyBody(name, remoteURL string, contentMaxAge int) string {
	return `{"name":"` + name + `","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
 "proxy":{"remoteUrl":"` + remoteURL + `","contentMaxAge":` + strconv.Itoa(contentMaxAge) + `,"metadataMaxAge":1440},
 "negativeCache":{"enabled":true,"timeToLive":1440},
 "httpClient":{"blocked":false,"autoBlock":true}}`
}

// createRole creates a role with the given privileges.
func (s *nexusServer) createRole(id string, privileges ...string) {
	s.t.Helper()
	body := map[string]any{"id": id, "name": id, "description": "e2e role " + id, "privileges": privileges, "roles": []string{}}
	s.mustJSON(http.StatusOK, http.MethodPost, "/v1/security/roles", s.admin(), body, nil)
}

// createUser creates an active user holding roles.
func (s *nexusServer) createUser(id, password string, roles ...string) {
	s.t.Helper()
	body := map[string]any{"userId": id, "firstName": "E2E", "lastName": id, "emailAddress": id + "@example.org",
		"password": password, "status": "active", "roles": roles}
	s.mustJSON(http.StatusOK, http.MethodPost, "/v1/security/users", s.admin(), body, nil)
}

// slowUpload sends method to path as c with a body of total random bytes,
// 256 KiB every 5 ms, until ctx ends, for tests that kill the server in
// the middle of an upload. The channel gets the request's outcome: an
// error, a completed upload being one too.
func (s *nexusServer) slowUpload(ctx context.Context, method, path string, c *creds, total int64) <-chan error {
	s.t.Helper()
	chunk := randomBytes(s.t, 256<<10)
	pr, pw := io.Pipe()
	go func() {
		for sent := int64(0); sent < total; sent += int64(len(chunk)) {
			select {
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-time.After(5 * time.Millisecond):
			}
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, method, s.url(path), pr)
		if err == nil {
			req.ContentLength = total
			req.SetBasicAuth(c.user, c.pass)
			var resp *http.Response
			if resp, err = s.client.Do(req); err == nil {
				resp.Body.Close()
				err = fmt.Errorf("the upload completed with status %d", resp.StatusCode)
			}
		}
		pr.CloseWithError(err)
		done <- err
	}()
	return done
}

// put uploads data as admin and requires 201.
func (s *nexusServer) put(repo, path string, data []byte) {
	s.t.Helper()
	if res := s.do(http.MethodPut, "/repository/"+repo+"/"+path, s.admin(), data, nil); res.status != http.StatusCreated {
		s.t.Fatalf("PUT %s/%s: status %d, want 201: %s", repo, path, res.status, res.body)
	}
}

// get downloads as admin and requires 200 and the expected bytes.
func (s *nexusServer) getExpect(repo, path string, want []byte) {
	s.t.Helper()
	res := s.do(http.MethodGet, "/repository/"+repo+"/"+path, s.admin(), nil, nil)
	if res.status != http.StatusOK {
		s.t.Fatalf("GET %s/%s: status %d, want 200: %s", repo, path, res.status, res.body)
	}
	if !bytes.Equal(res.body, want) {
		s.t.Fatalf("GET %s/%s: got %d bytes sha256 %s, want %d bytes sha256 %s",
			repo, path, len(res.body), sha(res.body), len(want), sha(want))
	}
}

// asset and component are the parts of the REST shapes the tests read.
type asset struct {
	ID         string            `json:"id"`
	Path       string            `json:"path"`
	Repository string            `json:"repository"`
	FileSize   int64             `json:"fileSize"`
	Checksum   map[string]string `json:"checksum"`
}

// component is a component as GET /v1/components describes it (a null
// group or version reads as "").
type component struct {
	ID         string  `json:"id"`
	Repository string  `json:"repository"`
	Format     string  `json:"format"`
	Group      string  `json:"group"`
	Name       string  `json:"name"`
	Version    string  `json:"version"`
	Assets     []asset `json:"assets"`
}

type page[T any] struct {
	Items             []T     `json:"items"`
	ContinuationToken *string `json:"continuationToken"`
}

// listAll follows continuation tokens (at most 100 pages) of a listing such
// as "/v1/assets?repository=x" and returns every item and the page sizes.
func listAll[T any](s *nexusServer, path string) (items []T, pages []int) {
	s.t.Helper()
	return listAllAs[T](s, s.admin(), path)
}

// listAllAs is listAll as the user c.
func listAllAs[T any](s *nexusServer, c *creds, path string) (items []T, pages []int) {
	s.t.Helper()
	token := ""
	for i := 0; i < 100; i++ {
		p := path
		if token != "" {
			p += "&continuationToken=" + url.QueryEscape(token)
		}
		var pg page[T]
		s.mustJSON(http.StatusOK, http.MethodGet, p, c, nil, &pg)
		items = append(items, pg.Items...)
		pages = append(pages, len(pg.Items))
		if pg.ContinuationToken == nil {
			return items, pages
		}
		if *pg.ContinuationToken == token {
			s.t.Fatalf("%s: continuation token %q repeated", path, token)
		}
		token = *pg.ContinuationToken
	}
	s.t.Fatalf("%s: more than 100 pages", path)
	return nil, nil
}

func (s *nexusServer) assets(repo string) []asset {
	s.t.Helper()
	items, _ := listAll[asset](s, "/v1/assets?repository="+url.QueryEscape(repo))
	return items
}

// blobStore is the "default" entry of GET /v1/blobstores.
type blobStore struct {
	Name             string `json:"name"`
	BlobCount        int64  `json:"blobCount"`
	TotalSizeInBytes int64  `json:"totalSizeInBytes"`
}

func (s *nexusServer) blobStore() blobStore {
	s.t.Helper()
	var stores []blobStore
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/blobstores", s.admin(), nil, &stores)
	for _, bs := range stores {
		if bs.Name == "default" {
			return bs
		}
	}
	s.t.Fatalf("no default blob store in %+v", stores)
	return blobStore{}
}

// blobFiles returns the files under the blob store's content directory,
// path relative to it and size.
func (s *nexusServer) blobFiles() map[string]int64 {
	s.t.Helper()
	return filesUnder(s.t, filepath.Join(s.dataDir, "blobs", "default", "content"))
}

func (s *nexusServer) tempFiles() map[string]int64 {
	s.t.Helper()
	return filesUnder(s.t, filepath.Join(s.dataDir, "blobs", "default", "tmp"))
}

// uploadFiles returns the blob store's resumable uploads (Docker upload
// sessions), by id and size.
func (s *nexusServer) uploadFiles() map[string]int64 {
	s.t.Helper()
	return filesUnder(s.t, filepath.Join(s.dataDir, "blobs", "default", "uploads"))
}

func filesUnder(t testing.TB, dir string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = fi.Size()
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", dir, err)
	}
	return out
}

// rawRequest writes an HTTP/1.1 request with the request target exactly as
// given over a fresh TCP connection and reads the answer; nothing on the
// client side cleans or re-escapes the path.
func (s *nexusServer) rawRequest(method, target string, c *creds, body []byte) (int, []byte, error) {
	return s.rawRequestPort(s.port, method, target, c, body)
}

// rawRequestPort is rawRequest to one of the server's ports (a connector's).
func (s *nexusServer) rawRequestPort(port int, method, target string, c *creds, body []byte) (int, []byte, error) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		return 0, nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method, target, port)
	if c != nil {
		fmt.Fprintf(&b, "Authorization: Basic %s\r\n", base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass)))
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return 0, nil, err
	}
	if body != nil {
		if _, err := conn.Write(body); err != nil {
			return 0, nil, err
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// pollUntil calls cond every 100ms, at most n times, until it is true.
func pollUntil(n int, cond func() bool) bool {
	for i := 0; i < n; i++ {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}
