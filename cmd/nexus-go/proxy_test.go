package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeUpstream is an HTTP server on 127.0.0.1 that serves fixed files
// slowly, in chunks, and counts requests per path.
type fakeUpstream struct {
	srv    *httptest.Server
	chunks int
	delay  time.Duration
	fail   atomic.Bool // answer 500 to everything

	mu    sync.Mutex
	files map[string][]byte
	hits  map[string]int
}

func newFakeUpstream(t *testing.T, chunks int, delay time.Duration) *fakeUpstream {
	u := &fakeUpstream{chunks: chunks, delay: delay, files: map[string][]byte{}, hits: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUpstream) set(path string, data []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.files[path] = data
}

func (u *fakeUpstream) count(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits[path]
}

func (u *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.hits[r.URL.Path]++
	data, ok := u.files[r.URL.Path]
	u.mu.Unlock()
	switch {
	case u.fail.Load():
		http.Error(w, "upstream broken", http.StatusInternalServerError)
		return
	case !ok:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	step := (len(data) + u.chunks - 1) / u.chunks
	for off := 0; off < len(data); off += step {
		if off > 0 {
			time.Sleep(u.delay)
		}
		if _, err := w.Write(data[off:min(off+step, len(data))]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
	}
}

// TestProxyFetchesOnce sends 20 concurrent GETs of one uncached path: all
// get the full body and the upstream sees one request.
func TestProxyFetchesOnce(t *testing.T) {
	up := newFakeUpstream(t, 5, 100*time.Millisecond)
	data := randomBytes(t, 5<<20)
	up.set("/files/big.bin", data)

	s := startServer(t)
	s.createRepo("proxy", anonProxyBody("raw-p", up.srv.URL+"/", 1440))

	const clients = 20
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			resp, err := s.request(context.Background(), http.MethodGet, "/repository/raw-p/files/big.bin", s.admin(), nil, nil)
			if err != nil {
				t.Errorf("client %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Errorf("client %d: reading: %v", i, err)
				return
			}
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
				t.Errorf("client %d: status %d, %d bytes (sha256 %s), want 200 and the %d upstream bytes",
					i, resp.StatusCode, len(body), sha(body), len(data))
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if n := up.count("/files/big.bin"); n != 1 {
		t.Errorf("upstream was asked %d times for the path, want 1", n)
	}
	if as := s.assets("raw-p"); len(as) != 1 || as[0].FileSize != int64(len(data)) {
		t.Errorf("cached assets: %+v, want one of %d bytes", as, len(data))
	}
	if bs := s.blobStore(); bs.BlobCount != 1 {
		t.Errorf("blob count %d after caching one file, want 1", bs.BlobCount)
	}
}

// TestProxyUpstreamDown serves cached content from a proxy whose upstream
// (a second server process) was stopped, and answers an error for
// uncached paths without hanging.
func TestProxyUpstreamDown(t *testing.T) {
	upstream := startServer(t)
	upstream.createRepo("hosted", hostedRawH)
	data := randomBytes(t, 1<<20)
	upstream.put("raw-h", "cached.bin", data)
	upstream.put("raw-h", "never-fetched.bin", []byte("never"))

	s := startServer(t)
	remote := upstream.url("/repository/raw-h/")
	s.createRepo("proxy", proxyBody("raw-p", remote, "admin", upstream.adminPW))
	// contentMaxAge 0: every GET revalidates upstream, so with the upstream
	// gone the stale copy must be served.
	s.createRepo("proxy", `{"name":"raw-p0","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":false},
 "proxy":{"remoteUrl":"`+remote+`","contentMaxAge":0,"metadataMaxAge":0},
 "negativeCache":{"enabled":true,"timeToLive":1440},
 "httpClient":{"blocked":false,"autoBlock":true,"authentication":{"type":"username","username":"admin","password":"`+upstream.adminPW+`"}}}`)

	s.getExpect("raw-p", "cached.bin", data)
	s.getExpect("raw-p0", "cached.bin", data)
	s.getExpect("raw-p0", "cached.bin", data) // revalidated while up

	upstream.stop()

	s.getExpect("raw-p", "cached.bin", data)
	s.getExpect("raw-p0", "cached.bin", data)
	res := s.do(http.MethodGet, "/repository/raw-p/cached.bin", s.admin(), nil, http.Header{"Range": {"bytes=10-19"}})
	if res.status != http.StatusPartialContent || !bytes.Equal(res.body, data[10:20]) {
		t.Errorf("range GET of cached content, upstream down: status %d, %d bytes", res.status, len(res.body))
	}
	for _, repo := range []string{"raw-p", "raw-p0"} {
		for i := 0; i < 2; i++ { // the second one meets the auto-block
			res := s.do(http.MethodGet, "/repository/"+repo+"/never-fetched.bin", s.admin(), nil, nil)
			if res.status < 500 && res.status != http.StatusNotFound {
				t.Errorf("GET %s/never-fetched.bin with the upstream down (try %d): status %d, want 5xx or 404", repo, i, res.status)
			}
		}
	}
	// Still serving the cache after the auto-block.
	s.getExpect("raw-p0", "cached.bin", data)

	var status map[string]any
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/status/check", s.admin(), nil, &status)
	if pr, _ := status["Proxy Repositories"].(map[string]any); pr == nil || pr["healthy"] != false {
		t.Errorf("status check does not report the blocked proxy: %v", status["Proxy Repositories"])
	}
}

// TestProxyNegativeCache checks that an upstream 404 is remembered.
func TestProxyNegativeCache(t *testing.T) {
	up := newFakeUpstream(t, 1, 0)
	s := startServer(t)
	s.createRepo("proxy", anonProxyBody("raw-p", up.srv.URL+"/", 1440))

	for i := 0; i < 3; i++ {
		if res := s.do(http.MethodGet, "/repository/raw-p/missing.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
			t.Errorf("GET of a path missing upstream (try %d): status %d, want 404", i, res.status)
		}
	}
	if n := up.count("/missing.txt"); n != 1 {
		t.Errorf("upstream asked %d times for a missing path, want 1 (negative cache)", n)
	}
	// Within the time to live the answer stays 404 without asking.
	up.set("/missing.txt", []byte("now here"))
	if res := s.do(http.MethodGet, "/repository/raw-p/missing.txt", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("negative-cached path: status %d, want 404", res.status)
	}
	if n := up.count("/missing.txt"); n != 1 {
		t.Errorf("upstream asked %d times, want 1", n)
	}
	// Other paths are unaffected.
	up.set("/present.txt", []byte("present"))
	s.getExpect("raw-p", "present.txt", []byte("present"))
	// A 404 is not an upstream failure: the proxy is not blocked.
	var cfg struct {
		Status struct {
			Blocked bool `json:"blocked"`
		} `json:"status"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/raw/proxy/raw-p", s.admin(), nil, &cfg)
	if cfg.Status.Blocked {
		t.Errorf("proxy blocked after upstream 404s")
	}
}

// TestProxyClientHangsUp closes the client of a first download early: the
// download must still complete into the cache.
func TestProxyClientHangsUp(t *testing.T) {
	up := newFakeUpstream(t, 25, 40*time.Millisecond)
	data := randomBytes(t, 5<<20)
	up.set("/slow/file.bin", data)
	s := startServer(t)
	s.createRepo("proxy", anonProxyBody("raw-p", up.srv.URL+"/", 1440))

	ctx, cancel := context.WithCancel(context.Background())
	resp, err := s.request(ctx, http.MethodGet, "/repository/raw-p/slow/file.bin", s.admin(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first GET: status %d", resp.StatusCode)
	}
	head := make([]byte, 100<<10)
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatalf("reading the first 100 KB: %v", err)
	}
	if !bytes.Equal(head, data[:len(head)]) {
		t.Errorf("the first 100 KB differ from upstream")
	}
	cancel()
	resp.Body.Close()

	var cached []asset
	if !pollUntil(100, func() bool {
		cached = s.assets("raw-p")
		return len(cached) == 1
	}) {
		t.Fatalf("no asset cached within 10s after the client hung up: %+v", cached)
	}
	if cached[0].Path != "slow/file.bin" || cached[0].FileSize != int64(len(data)) {
		t.Errorf("cached asset %+v, want slow/file.bin of %d bytes", cached[0], len(data))
	}

	up.fail.Store(true)
	s.getExpect("raw-p", "slow/file.bin", data)
	if n := up.count("/slow/file.bin"); n != 1 {
		t.Errorf("upstream asked %d times, want 1", n)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// TestProxyTruncatedUpstream has the upstream cut a download short: the
// client must not get a short body it could take as whole, nothing is
// cached, and the next request fetches again.
func TestProxyTruncatedUpstream(t *testing.T) {
	data := randomBytes(t, 2<<20)
	var hits atomic.Int32
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if healthy.Load() {
			w.Write(data)
			return
		}
		w.Write(data[:len(data)/4])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}))
	t.Cleanup(srv.Close)
	s := startServer(t)
	s.createRepo("proxy", anonProxyBody("raw-p", srv.URL+"/", 1440))

	resp, err := s.request(context.Background(), http.MethodGet, "/repository/raw-p/cut.bin", s.admin(), nil, nil)
	if err == nil {
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil && resp.StatusCode == http.StatusOK {
			t.Errorf("a truncated upstream download was served as a complete 200 of %d bytes (upstream declared %d)", len(body), len(data))
		}
		if rerr == nil && bytes.Equal(body, data) {
			t.Errorf("got the full body from a truncated upstream")
		}
	}
	if as := s.assets("raw-p"); len(as) != 0 {
		t.Errorf("a truncated download was cached: %+v", as)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
	healthy.Store(true)
	// The failure may have auto-blocked the proxy (10s at first); lift it
	// by saving the configuration again.
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/raw/proxy/raw-p", s.admin(), anonProxyBody("raw-p", srv.URL+"/", 1440), nil)
	s.getExpect("raw-p", "cut.bin", data)
	if n := hits.Load(); n != 2 {
		t.Errorf("upstream asked %d times, want 2", n)
	}
	// Cached just after the client had it all.
	if !pollUntil(50, func() bool { return len(s.assets("raw-p")) == 1 }) {
		t.Errorf("assets after the good download: %+v", s.assets("raw-p"))
	}
}
