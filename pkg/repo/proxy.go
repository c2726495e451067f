package repo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Auto-blocking waits this long after the first upstream failure, doubling
// for each further one up to maxBlock.
const (
	firstBlock = 10 * time.Second
	maxBlock   = 20 * time.Minute
	// negativeCacheLimit bounds remembered 404s; past it expired entries go.
	negativeCacheLimit = 10000
)

// proxyRepo caches an upstream repository.
type proxyRepo struct {
	base
	remote *url.URL
	client *http.Client
	now    func() time.Time

	mu           sync.Mutex
	inflight     map[string]*fetch
	negative     map[string]time.Time
	failures     int
	blockedUntil time.Time
	lastError    string
	rateLimit    string
}

// fetch is one upstream download that concurrent misses of a path share.
type fetch struct {
	done chan struct{}
	err  error
}

// newProxy builds a proxy whose requests go through client, wrapped by the
// format's transport if it has one (a nil client only validates).
func newProxy(b base, client *http.Client) (*proxyRepo, error) {
	if b.cfg.Proxy == nil {
		return nil, errs.New(errs.Invalid, "proxy settings missing")
	}
	u, err := url.Parse(b.cfg.Proxy.RemoteURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.New(errs.Invalid, "remoteUrl must be an http(s) URL")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	if up, ok := b.format.(Upstream); ok && client != nil {
		wrapped := *client
		wrapped.Transport = up.UpstreamTransport(b.cfg, client.Transport)
		client = &wrapped
	}
	return &proxyRepo{base: b, remote: u, client: client, now: time.Now,
		inflight: map[string]*fetch{}, negative: map[string]time.Time{}}, nil
}

func (p *proxyRepo) Get(ctx context.Context, path string) (*Content, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	c, err := p.get(ctx, path, true)
	if err != nil {
		return nil, err
	}
	return p.rewrite(ctx, path, c)
}

// get returns path from the cache or the upstream; with negative false, a
// 404 remembered for path does not stop it from asking again.
func (p *proxyRepo) get(ctx context.Context, path string, negative bool) (*Content, error) {
	cached, err := p.db.AssetByPath(p.cfg.Name, path)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return nil, err
	}
	if cached != nil && p.fresh(cached, path) {
		return p.open(ctx, cached)
	}
	if negative && cached == nil && p.negativeHit(path) {
		return nil, errs.New(errs.NotFound, "%s not found upstream (cached)", path)
	}
	if blocked, _ := p.blocked(); blocked {
		if cached != nil {
			return p.open(ctx, cached)
		}
		// The reason (upstream address, network error) is for admins, in
		// the repository status, not for every client.
		return nil, errs.New(errs.Upstream, "upstream of %s is blocked", p.cfg.Name)
	}
	c, err := p.fetch(ctx, path, cached)
	if err != nil && cached != nil {
		switch errs.KindOf(err) {
		case errs.Upstream, errs.NotFound:
			// The upstream failed, or lost what it served before (often a
			// misconfigured or broken upstream): the copy we have keeps
			// builds working, which is what a cache is for.
			p.log.Warn("serving cached content the upstream did not confirm", "path", path, "err", err)
			return p.open(ctx, cached)
		}
	}
	return c, err
}

// rewrite lets the format point proxied metadata at the repository the
// client addressed.
func (p *proxyRepo) rewrite(ctx context.Context, path string, c *Content) (*Content, error) {
	rw, ok := p.format.(ProxyRewriter)
	base := BaseURL(ctx)
	if !ok || base == nil || !p.format.IsMetadata(path) {
		return c, nil
	}
	return rw.Rewrite(ctx, path, c, base)
}

func (p *proxyRepo) fresh(a *meta.Asset, path string) bool {
	maxAge := p.cfg.Proxy.ContentMaxAge
	if p.format.IsMetadata(path) {
		maxAge = p.cfg.Proxy.MetadataMaxAge
	}
	if maxAge < 0 {
		return true
	}
	verified := a.LastVerified
	if verified.IsZero() {
		verified = a.Created
	}
	return p.now().Sub(verified) < time.Duration(maxAge)*time.Minute
}

func (p *proxyRepo) negativeHit(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.negative[path]
	if ok && p.now().After(until) {
		delete(p.negative, path)
		return false
	}
	return ok
}

func (p *proxyRepo) rememberMissing(path string) {
	nc := p.cfg.NegativeCache
	if nc == nil || !nc.Enabled || nc.TimeToLive == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if len(p.negative) >= negativeCacheLimit {
		for k, until := range p.negative {
			if now.After(until) {
				delete(p.negative, k)
			}
		}
		if len(p.negative) >= negativeCacheLimit {
			p.negative = map[string]time.Time{}
		}
	}
	ttl := time.Duration(nc.TimeToLive) * time.Minute
	if nc.TimeToLive < 0 {
		ttl = 100 * 365 * 24 * time.Hour
	}
	p.negative[path] = now.Add(ttl)
}

func (p *proxyRepo) blocked() (bool, string) {
	if hc := p.cfg.HTTPClient; hc != nil && hc.Blocked {
		return true, "blocked by configuration"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Before(p.blockedUntil) {
		return true, fmt.Sprintf("auto-blocked until %s after: %s", p.blockedUntil.UTC().Format(time.RFC3339), p.lastError)
	}
	return false, ""
}

// upstreamFailed records a failure and, with autoBlock on, stops calling the
// upstream for a while.
func (p *proxyRepo) upstreamFailed(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures++
	p.lastError = why
	if hc := p.cfg.HTTPClient; hc != nil && hc.AutoBlock {
		d := firstBlock << min(p.failures-1, 10)
		p.blockedUntil = p.now().Add(min(d, maxBlock))
		p.log.Warn("proxy upstream auto-blocked", "until", p.blockedUntil, "reason", why)
	}
}

func (p *proxyRepo) upstreamOK() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = 0
	p.blockedUntil = time.Time{}
}

func (p *proxyRepo) Status() Status {
	s := p.base.Status()
	if blocked, why := p.blocked(); blocked {
		s.Blocked = true
		s.Reason = why
	}
	p.mu.Lock()
	s.RateLimitRemaining = p.rateLimit
	p.mu.Unlock()
	return s
}

// noteRateLimit keeps and logs the upstream's remaining request allowance,
// so admins see a rate limit coming before it blocks builds.
func (p *proxyRepo) noteRateLimit(resp *http.Response) {
	v := resp.Header.Get("RateLimit-Remaining")
	if v == "" {
		return
	}
	p.mu.Lock()
	changed := p.rateLimit != v
	p.rateLimit = v
	p.mu.Unlock()
	if changed {
		p.log.Info("upstream rate limit", "remaining", v, "limit", resp.Header.Get("RateLimit-Limit"))
	}
}

// fetch downloads path once for all concurrent callers. The first caller
// gets a stream that is written to the cache at the same time; the others
// wait and read the cached copy. Every caller waits only as long as its
// own context lasts: the download runs on a context detached from them,
// so a client hanging up does not abort caching.
func (p *proxyRepo) fetch(ctx context.Context, path string, cached *meta.Asset) (*Content, error) {
	p.mu.Lock()
	if f, ok := p.inflight[path]; ok {
		p.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err != nil {
			return nil, f.err
		}
		return p.cached(ctx, path)
	}
	// A download that finished since the caller looked at the cache has
	// stored path: serve that rather than download it again.
	if a, err := p.db.AssetByPath(p.cfg.Name, path); err == nil && p.fresh(a, path) {
		p.mu.Unlock()
		return p.open(ctx, a)
	}
	f := &fetch{done: make(chan struct{})}
	p.inflight[path] = f
	p.mu.Unlock()

	first := make(chan firstAnswer)
	go p.download(context.WithoutCancel(ctx), path, cached, f, first, ctx.Done())
	select {
	case a := <-first:
		if a.cached != nil {
			return p.open(ctx, a.cached)
		}
		return a.content, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// firstAnswer is what the first caller of a fetch gets: the stream of the
// download, the cached asset the upstream confirmed, or an error.
type firstAnswer struct {
	content *Content
	cached  *meta.Asset
	err     error
}

// download fetches path from the upstream into the cache and ends f. It
// hands the first caller its answer on first, unless the caller left
// (gone closed) before the upstream answered; the download then goes on
// without it.
func (p *proxyRepo) download(ctx context.Context, path string, cached *meta.Asset, f *fetch, first chan<- firstAnswer, gone <-chan struct{}) {
	finish := func(err error) {
		f.err = err
		p.mu.Lock()
		delete(p.inflight, path)
		p.mu.Unlock()
		close(f.done)
	}
	answer := func(a firstAnswer) bool {
		select {
		case first <- a:
			return true
		case <-gone:
			return false
		}
	}
	confirmed := func() {
		err := p.db.UpdateAsset(cached.ID, func(a *meta.Asset) { a.LastVerified = p.now().UTC() })
		finish(err)
		if err != nil {
			answer(firstAnswer{err: err})
			return
		}
		answer(firstAnswer{cached: cached})
	}
	fail := func(err error) {
		finish(err)
		answer(firstAnswer{err: err})
	}

	if cached != nil {
		if current, err := p.currentByHead(ctx, path, cached); err == nil && current {
			confirmed()
			return
		}
	}
	resp, err := p.request(ctx, http.MethodGet, path, cached)
	if err != nil {
		p.upstreamFailed(err.Error())
		fail(errs.Wrap(errs.Upstream, err, "upstream of %s failed", p.cfg.Name))
		return
	}
	if fb, ok := p.format.(UpstreamFallback); ok && fb.Lacks(path, resp) {
		// Not a missing path but a missing endpoint: nothing for the
		// negative cache, the format builds the answer instead.
		resp.Body.Close()
		p.upstreamOK()
		a, err := p.fallback(ctx, path, fb)
		if err != nil {
			fail(err)
			return
		}
		finish(nil)
		answer(firstAnswer{cached: a})
		return
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		resp.Body.Close()
		p.upstreamOK()
		confirmed()
		return
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		resp.Body.Close()
		p.upstreamOK()
		p.rememberMissing(path)
		fail(errs.New(errs.NotFound, "%s not found upstream", path))
		return
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		why := fmt.Sprintf("upstream answered %s", resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			p.upstreamFailed(why)
		}
		fail(errs.New(errs.Upstream, "%s", why))
		return
	}
	p.upstreamOK()
	defer resp.Body.Close()
	if ctx, err = p.sizeBound(ctx, path, resp.ContentLength); err != nil {
		fail(err)
		return
	}
	streamBody(resp)

	opts := PutOptions{
		ContentType:  resp.Header.Get("Content-Type"),
		Size:         resp.ContentLength,
		Expected:     p.expected(path),
		Component:    p.format.Component(path),
		LastVerified: p.now().UTC(),
		Attributes:   map[string]string{},
	}
	if opts.ContentType == "" {
		opts.ContentType = contentTypeByExt(path)
	}
	for attr, header := range map[string]string{"etag": "ETag", "lastModified": "Last-Modified"} {
		if v := resp.Header.Get(header); v != "" {
			opts.Attributes[attr] = v
		}
	}
	modified, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
	if modified.IsZero() {
		modified = p.now().UTC()
	}
	pr, pw := io.Pipe()
	client := newClientFeed(pw)
	if !answer(firstAnswer{content: &Content{
		Asset: &meta.Asset{Repository: p.cfg.Name, Path: path, Size: resp.ContentLength,
			ContentType: opts.ContentType, LastModified: modified, Checksums: map[string]string{}},
		Body: pr,
	}}) {
		pr.Close() // nobody reads the stream: the feed cuts itself off
	}
	_, err = p.store(ctx, path, io.TeeReader(resp.Body, client), opts, nil)
	if err != nil {
		p.log.Warn("proxy download not cached", "path", path, "err", err)
		err = errs.Wrap(errs.Upstream, err, "download from upstream of %s failed", p.cfg.Name)
	}
	// Finish before ending the stream, so that a caller who read it to
	// the end (or to the error) and asks again starts a new fetch rather
	// than joining this one.
	finish(err)
	client.end(err)
}

// currentByHead asks the upstream, with a HEAD, whether a stale cached
// asset is still current, for formats that can tell (Docker compares the
// digest of a tag; registries count GETs, not HEADs, against rate limits).
func (p *proxyRepo) currentByHead(ctx context.Context, path string, cached *meta.Asset) (bool, error) {
	up, ok := p.format.(Upstream)
	if !ok {
		return false, nil
	}
	resp, err := p.request(ctx, http.MethodHead, path, nil)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, nil
	}
	current, known := up.Current(resp, cached)
	return known && current, nil
}

func (p *proxyRepo) expected(path string) digest.Digest {
	if up, ok := p.format.(Upstream); ok {
		return up.ExpectedDigest(path)
	}
	return ""
}

func (p *proxyRepo) request(ctx context.Context, method, path string, cached *meta.Asset) (*http.Response, error) {
	req, err := p.newRequest(ctx, method, path, "")
	if err != nil {
		return nil, err
	}
	if cached != nil {
		if v := cached.Attributes["etag"]; v != "" {
			req.Header.Set("If-None-Match", v)
		}
		if v := cached.Attributes["lastModified"]; v != "" {
			req.Header.Set("If-Modified-Since", v)
		}
	}
	resp, err := p.client.Do(req)
	if err == nil {
		p.noteRateLimit(resp)
	}
	return resp, err
}

// newRequest is a request of path (and rawQuery) to the upstream, with the
// configured credentials and the format's adjustments.
func (p *proxyRepo) newRequest(ctx context.Context, method, path, rawQuery string) (*http.Request, error) {
	target, err := p.remote.Parse(EscapePath(path))
	if err != nil {
		return nil, err
	}
	target.RawQuery = rawQuery
	req, err := http.NewRequestWithContext(ctx, method, target.String(), nil)
	if err != nil {
		return nil, err
	}
	if hc := p.cfg.HTTPClient; hc != nil && hc.Authentication != nil && hc.Authentication.Type == "username" {
		req.SetBasicAuth(hc.Authentication.Username, hc.Authentication.Password)
	}
	if up, ok := p.format.(Upstream); ok {
		if err := up.UpstreamRequest(p.cfg, path, req); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// clientFeedBytes bounds how far the first client of a download may fall
// behind before it is cut off (and how much memory that may take);
// feedBufSize is the size of the buffers the download is fed in.
const (
	clientFeedBytes = 8 << 20
	feedBufSize     = 256 << 10
)

var feedBufs = sync.Pool{New: func() any { b := make([]byte, 0, feedBufSize); return &b }}

// clientFeed forwards a download to its first client without ever making
// the download wait: the bytes are gathered into buffers that go through a
// bounded queue, which a goroutine of its own writes to the client. A
// client that is gone, or too slow to keep up, is cut off (it sees a
// truncated transfer and can retry from the cache); the download into the
// cache goes on either way. The last buffer is held back until the content
// has been verified and stored, so a client never receives a complete
// response whose bytes failed verification.
type clientFeed struct {
	queue  chan *[]byte
	queued atomic.Int64 // bytes in queue
	cur    *[]byte      // being filled; never empty once data arrived
	cut    atomic.Bool
	err    error // how the download ended, read by the pump after queue closes
}

func newClientFeed(pw *io.PipeWriter) *clientFeed {
	f := &clientFeed{queue: make(chan *[]byte, clientFeedBytes/feedBufSize+1)}
	go func() {
		for buf := range f.queue {
			f.queued.Add(-int64(len(*buf)))
			if !f.cut.Load() {
				if _, err := pw.Write(*buf); err != nil {
					f.cut.Store(true)
				}
			}
			*buf = (*buf)[:0]
			feedBufs.Put(buf)
		}
		if f.cut.Load() && f.err == nil {
			f.err = errClientCut
		}
		pw.CloseWithError(f.err)
	}()
	return f
}

var errClientCut = errs.New(errs.Upstream, "client fell too far behind the download")

// Write gathers b into buffers; a full buffer is queued only when more
// bytes follow it, so the last one is always held back.
func (f *clientFeed) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 && !f.cut.Load() {
		if f.cur != nil && len(*f.cur) == cap(*f.cur) {
			f.send(f.cur)
			f.cur = nil
		}
		if f.cur == nil {
			f.cur = feedBufs.Get().(*[]byte)
		}
		k := min(len(b), cap(*f.cur)-len(*f.cur))
		*f.cur = append(*f.cur, b[:k]...)
		b = b[k:]
	}
	return n, nil
}

func (f *clientFeed) send(buf *[]byte) {
	if f.queued.Add(int64(len(*buf))) > clientFeedBytes {
		f.queued.Add(-int64(len(*buf)))
		f.cut.Store(true)
		return
	}
	select {
	case f.queue <- buf:
	default:
		f.queued.Add(-int64(len(*buf)))
		f.cut.Store(true)
	}
}

// end closes the feed: the held buffer goes out only if the download was
// verified and stored (err nil); the client's stream then ends with err.
func (f *clientFeed) end(err error) {
	if err == nil && !f.cut.Load() && f.cur != nil {
		f.send(f.cur)
	}
	f.err = err
	close(f.queue)
}

func (p *proxyRepo) Put(ctx context.Context, path string, body io.Reader, opts PutOptions) (*meta.Asset, error) {
	return nil, errs.New(errs.Unsupported, "repository %s is a proxy: it cannot be uploaded to", p.cfg.Name)
}

// Delete removes a cached asset; the next request fetches it again.
func (p *proxyRepo) Delete(ctx context.Context, path string) error {
	if err := p.online(); err != nil {
		return err
	}
	return p.deletePath(ctx, path)
}

func (p *proxyRepo) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	return p.listStored(dir)
}
