package repo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// upstream is an httptest server on 127.0.0.1 that counts its requests.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func newUpstream(t *testing.T, h http.HandlerFunc) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(u.Close)
	return u
}

// newProxyRepo creates proxy "p" of u (after adjusting its configuration
// with tune) and gives it a settable clock. It waits, at the end of the
// test, for downloads still writing to the cache.
func newProxyRepo(t *testing.T, e *env, name, remote string, tune func(*Config)) (*proxyRepo, *testclock.Clock) {
	t.Helper()
	cfg := proxyCfg(name, remote)
	if tune != nil {
		tune(&cfg)
	}
	p, ok := e.create(cfg).(*proxyRepo)
	if !ok {
		t.Fatal("proxy repository is not a *proxyRepo")
	}
	clk := testclock.New(time.Now())
	p.now = clk.Now
	t.Cleanup(func() {
		if !t.Failed() { // a failed test may have left a stream unread
			waitIdle(t, p)
		}
	})
	return p, clk
}

func waitIdle(t *testing.T, p *proxyRepo) {
	t.Helper()
	waitFor(t, "proxy downloads to finish", func() bool { return !p.downloading() })
}

func TestProxyStreamsThenCaches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.EscapedPath() != "/base/dir/a%20b.bin" {
			t.Errorf("upstream asked for %s", r.URL.EscapedPath())
		}
		w.Header().Set("Content-Type", "application/x-test")
		w.Header().Set("ETag", `"e1"`)
		io.WriteString(w, "upstream content")
	})
	p, _ := newProxyRepo(t, e, "p", up.URL+"/base", nil)

	body, stored := read(t, ctx, p, "dir/a b.bin")
	if body != "upstream content" || stored {
		t.Fatalf("first Get = %q (stored %v), want it followed from the download", body, stored)
	}
	body, stored = read(t, ctx, p, "dir/a b.bin")
	if body != "upstream content" || !stored {
		t.Fatalf("second Get = %q (stored %v), want the cached copy", body, stored)
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times, want 1", n)
	}
	a, err := p.Stat(ctx, "dir/a b.bin")
	if err != nil {
		t.Fatal(err)
	}
	if a.ContentType != "application/x-test" || a.Attributes["etag"] != `"e1"` || a.LastVerified.IsZero() || a.Checksums["sha1"] == "" {
		t.Fatalf("cached asset = %+v", a)
	}
	// Proxies cannot be uploaded to, but a cached asset can be deleted and
	// is then fetched again.
	_, err = p.Put(ctx, "x", strings.NewReader("x"), PutOptions{Size: -1})
	wantKind(t, err, errs.Unsupported, "Put to a proxy")
	if err := p.Delete(ctx, "dir/a b.bin"); err != nil {
		t.Fatal(err)
	}
	read(t, ctx, p, "dir/a b.bin")
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times after delete, want 2", n)
	}
	entries, _, err := p.List(ctx, "dir", "", 0)
	if err != nil || len(entries) != 1 || entries[0].Name != "a b.bin" {
		t.Fatalf("List = %+v, %v", entries, err)
	}
}

func TestProxyConcurrentColdGets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	release := make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		select { // hold the download until every caller has asked
		case <-release:
		case <-r.Context().Done():
			return
		case <-time.After(10 * time.Second):
		}
		w.Write(payload)
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)

	const n = 20
	var started, done sync.WaitGroup
	bodies := make([][]byte, n)
	streams := make([]bool, n)
	errsOut := make([]error, n)
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			c, err := p.Get(ctx, "big.bin")
			if err != nil {
				errsOut[i] = err
				return
			}
			defer c.Body.Close()
			_, streams[i] = c.Body.(interface{ Err() error })
			bodies[i], errsOut[i] = io.ReadAll(c.Body)
		}()
	}
	started.Wait()
	close(release)
	done.Wait()

	if got := up.hits.Load(); got != 1 {
		t.Fatalf("upstream hit %d times, want 1", got)
	}
	nstreams := 0
	for i := range n {
		if errsOut[i] != nil {
			t.Fatalf("caller %d: %v", i, errsOut[i])
		}
		if !bytes.Equal(bodies[i], payload) {
			t.Fatalf("caller %d read %d bytes, want the %d-byte payload", i, len(bodies[i]), len(payload))
		}
		if streams[i] {
			nstreams++
		}
	}
	// Every caller asked before the upstream answered: all follow the one
	// download, none waits for it to be stored.
	if nstreams != n {
		t.Fatalf("%d of %d callers followed the download", nstreams, n)
	}
}

func TestProxyNegativeCache(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var exists atomic.Bool
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if !exists.Load() {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "now here")
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.NegativeCache = &NegativeCache{Enabled: true, TimeToLive: 5}
	})

	_, err := p.Get(ctx, "missing")
	wantKind(t, err, errs.NotFound, "first Get of a missing path")
	exists.Store(true)
	_, err = p.Get(ctx, "missing")
	wantKind(t, err, errs.NotFound, "negatively cached Get")
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times, want 1 (negative cache)", n)
	}
	if s := p.Status(); s.Blocked || !s.Online {
		t.Fatalf("a 404 changed the status: %+v", s)
	}
	clk.Advance(4 * time.Minute)
	_, err = p.Get(ctx, "missing")
	wantKind(t, err, errs.NotFound, "Get within the TTL")
	clk.Advance(2 * time.Minute)
	if body, _ := read(t, ctx, p, "missing"); body != "now here" {
		t.Fatalf("after TTL: %q", body)
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2", n)
	}
}

func TestProxyNegativeCacheDisabled(t *testing.T) {
	e := newEnv(t)
	up := newUpstream(t, http.NotFound)
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.NegativeCache = &NegativeCache{Enabled: false, TimeToLive: 1440}
	})
	for range 2 {
		_, err := p.Get(context.Background(), "missing")
		wantKind(t, err, errs.NotFound, "Get of a missing path")
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2 with the negative cache off", n)
	}
}

func TestProxyServesStaleOnUpstreamError(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var fail atomic.Bool
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "good copy")
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) { c.Proxy.ContentMaxAge = 1 })

	read(t, ctx, p, "a")
	fail.Store(true)
	clk.Advance(2 * time.Minute)
	body, stored := read(t, ctx, p, "a")
	if body != "good copy" || !stored {
		t.Fatalf("stale Get = %q (stored %v)", body, stored)
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2 (revalidation tried)", n)
	}
	_, err := p.Get(ctx, "uncached")
	wantKind(t, err, errs.Upstream, "uncached path with a failing upstream")
}

func TestProxyUpstreamDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "cached copy") })
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.Proxy.ContentMaxAge = 1
		c.HTTPClient = &HTTPClient{AutoBlock: false}
	})
	read(t, ctx, p, "a")
	up.Close()
	clk.Advance(2 * time.Minute)
	if body, _ := read(t, ctx, p, "a"); body != "cached copy" {
		t.Fatalf("Get with upstream down = %q", body)
	}
	_, err := p.Get(ctx, "b")
	wantKind(t, err, errs.Upstream, "uncached path with upstream down")
	if s := p.Status(); s.Blocked {
		t.Fatalf("blocked without autoBlock: %+v", s)
	}
}

func TestProxyAutoBlock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var fail atomic.Bool
	fail.Store(true)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "back")
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, nil) // autoBlock is the default

	_, err := p.Get(ctx, "a")
	wantKind(t, err, errs.Upstream, "Get with a failing upstream")
	_, err = p.Get(ctx, "a")
	wantKind(t, err, errs.Upstream, "Get while blocked")
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times while blocked, want 1", n)
	}
	if s := p.Status(); !s.Blocked || !s.Online || s.Reason == "" {
		t.Fatalf("Status while blocked = %+v", s)
	}

	// The first block lasts firstBlock; a second failure doubles it.
	clk.Advance(firstBlock + time.Second)
	_, err = p.Get(ctx, "a")
	wantKind(t, err, errs.Upstream, "Get after the block, still failing")
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2 (retried after the block)", n)
	}
	clk.Advance(firstBlock + time.Second)
	_, err = p.Get(ctx, "a")
	wantKind(t, err, errs.Upstream, "Get within the doubled block")
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times within the doubled block, want 2", n)
	}

	fail.Store(false)
	clk.Advance(firstBlock)
	if body, _ := read(t, ctx, p, "a"); body != "back" {
		t.Fatalf("Get after recovery = %q", body)
	}
	if s := p.Status(); s.Blocked {
		t.Fatalf("still blocked after success: %+v", s)
	}
	// A success resets the backoff: the next failure blocks for firstBlock.
	fail.Store(true)
	_, err = p.Get(ctx, "b")
	wantKind(t, err, errs.Upstream, "new failure")
	clk.Advance(firstBlock + time.Second)
	fail.Store(false)
	if body, _ := read(t, ctx, p, "b"); body != "back" {
		t.Fatalf("Get = %q", body)
	}
}

func TestProxyBlockedByConfiguration(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.HTTPClient = &HTTPClient{Blocked: true}
	})
	for range 3 {
		_, err := p.Get(ctx, "a")
		wantKind(t, err, errs.Upstream, "Get from a blocked proxy")
	}
	if n := up.hits.Load(); n != 0 {
		t.Fatalf("blocked proxy called its upstream %d times", n)
	}
	if s := p.Status(); !s.Blocked {
		t.Fatalf("Status = %+v, want blocked", s)
	}
}

func TestProxyBasicAuth(t *testing.T) {
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		u, pw, ok := r.BasicAuth()
		if !ok || u != "bob" || pw != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "secret content")
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "Username", Username: "bob", Password: "s3cret"}}
	})
	if body, _ := read(t, context.Background(), p, "a"); body != "secret content" {
		t.Fatalf("Get = %q", body)
	}
	if typ := p.Config().HTTPClient.Authentication.Type; typ != "username" {
		t.Fatalf("authentication type = %q, want it lower-cased", typ)
	}
}

func TestProxyRevalidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var conditional atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, "version one")
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.Proxy.ContentMaxAge = 60
		c.Proxy.MetadataMaxAge = -1
	})

	read(t, ctx, p, "a.bin")
	first, err := p.Stat(ctx, "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	read(t, ctx, p, "a.bin")
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("fresh asset revalidated: %d upstream hits", n)
	}

	clk.Advance(31 * time.Minute)
	body, stored := read(t, ctx, p, "a.bin")
	if body != "version one" || !stored {
		t.Fatalf("revalidated Get = %q (stored %v)", body, stored)
	}
	if n, c := up.hits.Load(), conditional.Load(); n != 2 || c != 1 {
		t.Fatalf("upstream hits %d, conditional %d; want 2, 1", n, c)
	}
	after, err := p.Stat(ctx, "a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if after.ID != first.ID || after.Blob != first.Blob {
		t.Fatalf("304 replaced the asset: %+v -> %+v", first, after)
	}
	if !after.LastVerified.Equal(clk.Now()) {
		t.Fatalf("LastVerified = %v, want %v", after.LastVerified, clk.Now())
	}
	// Verified again: fresh for another contentMaxAge.
	clk.Advance(59 * time.Minute)
	read(t, ctx, p, "a.bin")
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2", n)
	}
}

func TestProxyMetadataMaxAge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var version atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s v%d", r.URL.Path, version.Load())
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.Proxy.ContentMaxAge = -1
		c.Proxy.MetadataMaxAge = 10
	})
	read(t, ctx, p, "pkg/x.meta")
	read(t, ctx, p, "pkg/x.bin")
	version.Store(1)
	clk.Advance(11 * time.Minute)
	if body, _ := read(t, ctx, p, "pkg/x.bin"); body != "/pkg/x.bin v0" {
		t.Fatalf("content = %q, want the cached copy (kept forever)", body)
	}
	if body, _ := read(t, ctx, p, "pkg/x.meta"); body != "/pkg/x.meta v1" {
		t.Fatalf("metadata = %q, want it fetched again", body)
	}
	if n := up.hits.Load(); n != 3 {
		t.Fatalf("upstream hit %d times, want 3", n)
	}
	clk.Advance(1000 * 24 * time.Hour)
	if body, _ := read(t, ctx, p, "pkg/x.bin"); body != "/pkg/x.bin v0" {
		t.Fatalf("content = %q", body)
	}
	if n := up.hits.Load(); n != 3 {
		t.Fatalf("content with maxAge -1 revalidated (%d hits)", n)
	}
}

func TestProxyTruncatedDownload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var truncate atomic.Bool
	truncate.Store(true)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if !truncate.Load() {
			io.WriteString(w, "the whole thing")
			return
		}
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "only part")
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)

	// The failure shows in the Get, or in the read if the caller came
	// first; either way no caller takes the part for the whole.
	if c, err := p.Get(ctx, "a"); err == nil {
		_, err = io.ReadAll(c.Body)
		c.Body.Close()
		if err == nil {
			t.Fatal("reading a truncated download succeeded")
		}
	}
	waitIdle(t, p)
	if _, err := p.Stat(ctx, "a"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("truncated download cached: %v", err)
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Fatalf("truncated download left blob files %v", files)
	}
	truncate.Store(false)
	if body, _ := read(t, ctx, p, "a"); body != "the whole thing" {
		t.Fatalf("retry = %q", body)
	}
	if n := up.hits.Load(); n != 2 {
		t.Fatalf("upstream hit %d times, want 2 (retried)", n)
	}
}

func TestProxyClientHangUpStillCaches(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	payload := bytes.Repeat([]byte("x"), 4<<20)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)

	cctx, cancel := context.WithCancel(ctx)
	c, err := p.Get(cctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(c.Body, buf); err != nil {
		t.Fatal(err)
	}
	c.Body.Close()
	cancel()

	waitFor(t, "the download to be cached", func() bool {
		_, err := p.Stat(ctx, "big")
		return err == nil
	})
	body, stored := read(t, ctx, p, "big")
	if !stored || body != string(payload) {
		t.Fatalf("cached copy: %d bytes (stored %v), want %d", len(body), stored, len(payload))
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times, want 1", n)
	}
}

// A client that stops reading (but keeps its stream open) must not hold
// the download, nor be cut off: the download is cached at the upstream's
// pace, other clients get it from the cache, and the stalled client reads
// the rest whenever it goes on.
func TestProxyStalledClientDoesNotHoldTheDownload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	payload := bytes.Repeat([]byte("y"), 16<<20)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)

	stalled, err := p.Get(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	if _, err := io.ReadFull(stalled.Body, buf); err != nil {
		t.Fatal(err)
	}
	// Not reading any further, not closing yet.
	waitFor(t, "the download to be cached while its first client stalls", func() bool {
		_, err := p.Stat(ctx, "big")
		return err == nil
	})
	body, stored := read(t, ctx, p, "big")
	if !stored || body != string(payload) {
		t.Fatalf("second client got %d bytes (stored %v), want the cached %d", len(body), stored, len(payload))
	}
	rest, err := io.ReadAll(stalled.Body)
	stalled.Body.Close()
	if err != nil || !bytes.Equal(append(buf, rest...), payload) {
		t.Fatalf("stalled client read %d more bytes, err %v; want all %d", len(rest), err, len(payload))
	}
	if n := up.hits.Load(); n != 1 {
		t.Fatalf("upstream hit %d times, want 1", n)
	}
}
