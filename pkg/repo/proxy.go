package repo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/blob"
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
	finished     atomic.Uint64 // downloads ended, changed under mu
	negative     map[string]time.Time
	failures     int
	blockedUntil time.Time
	lastError    string
	rateLimit    string
	// invalidated is when the cache was last invalidated (Unix ns, 0 for
	// never): content verified before then is stale.
	invalidated atomic.Int64
}

// fetch is one upstream download that concurrent misses of a path share.
// Its fields are set before ready is closed and never change after.
type fetch struct {
	ready     chan struct{}
	err       error       // the upstream failed or has no such path
	confirmed *meta.Asset // the cached asset, still current upstream
	tail      *blob.Tail  // else the download, being written
	asset     *meta.Asset // and what is known of it
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
	if client != nil {
		metered := *client
		metered.Transport = &meteredTransport{next: client.Transport, repository: b.cfg.Name, meter: b.meter}
		client = &metered
	}
	if up, ok := b.format.(UpstreamTransporter); ok && client != nil {
		wrapped := *client
		wrapped.Transport = up.UpstreamTransport(b.cfg, client.Transport)
		client = &wrapped
	}
	return &proxyRepo{base: b, remote: u, client: client, now: time.Now,
		inflight: map[string]*fetch{}, negative: map[string]time.Time{}}, nil
}

func (p *proxyRepo) Get(ctx context.Context, path string) (*Content, error) {
	if err := p.serving(path); err != nil {
		return nil, err
	}
	c, err := p.get(ctx, path, true)
	if err != nil {
		return nil, err
	}
	return p.rewrite(ctx, path, c)
}

func (p *proxyRepo) Locate(ctx context.Context, path string) (*meta.Asset, error) {
	if err := p.serving(path); err != nil {
		return nil, err
	}
	if cached, err := p.db.AssetByPath(p.cfg.Name, path); err == nil && p.fresh(cached, path) && !p.rewrites(ctx, path) {
		p.meter.ProxyLookup(p.cfg.Name, true)
		return cached, nil
	}
	// A download goes on without this reader; what is known of it is
	// known now (its checksums once it is stored).
	c, err := locateServed(ctx, p, path)
	if err != nil {
		return nil, err
	}
	return c.Asset, nil
}

// get returns path from the cache or the upstream; with negative false, a
// 404 remembered for path does not stop it from asking again.
func (p *proxyRepo) get(ctx context.Context, path string, negative bool) (*Content, error) {
	gen := p.finished.Load()
	cached, err := p.db.AssetByPath(p.cfg.Name, path)
	if err != nil && errs.KindOf(err) != errs.NotFound {
		return nil, err
	}
	if cached != nil && p.fresh(cached, path) {
		p.meter.ProxyLookup(p.cfg.Name, true)
		return p.open(ctx, cached)
	}
	if negative && cached == nil && p.negativeHit(path) {
		p.meter.ProxyLookup(p.cfg.Name, true)
		return nil, errs.New(errs.NotFound, "%s not found upstream (cached)", path)
	}
	// From here on the upstream is needed: a miss, whether or not it can
	// be asked.
	p.meter.ProxyLookup(p.cfg.Name, false)
	if err := p.withoutUpstream(); err != nil {
		if cached != nil {
			return p.open(ctx, cached)
		}
		return nil, err
	}
	c, err := p.fetch(ctx, path, cached, gen)
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

func (p *proxyRepo) fresh(a *meta.Asset, path string) bool {
	maxAge := p.cfg.Proxy.ContentMaxAge
	if p.format.IsMetadata(path) {
		maxAge = p.cfg.Proxy.MetadataMaxAge
	} else if im, ok := p.format.(ImmutableContent); ok && im.Immutable(path) {
		return true
	}
	verified := a.LastVerified
	if verified.IsZero() {
		verified = a.Created
	}
	if inv := p.invalidated.Load(); inv != 0 && !verified.After(time.Unix(0, inv)) {
		return false
	}
	if maxAge < 0 {
		return true
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

func (p *proxyRepo) forgetMissing(path string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.negative, path)
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
		s.AutoBlocked = p.cfg.HTTPClient == nil || !p.cfg.HTTPClient.Blocked
		s.Reason = why
	}
	if err := p.unusable(); err != nil {
		s.Reason = errs.Message(err)
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

// fetch downloads path once for all concurrent callers. Every caller, the
// first and any that join, reads the download from the blob being written,
// at its own pace (see blob.Tail): none is cut for being slow, none waits
// for the whole download, and the last byte is held back until the content
// is verified. Callers wait only as long as their own context lasts: the
// download runs on a context detached from them, so a client hanging up
// costs nothing and does not abort caching.
func (p *proxyRepo) fetch(ctx context.Context, path string, cached *meta.Asset, gen uint64) (*Content, error) {
	for {
		p.mu.Lock()
		if f, ok := p.inflight[path]; ok {
			p.mu.Unlock()
			return p.join(ctx, path, f)
		}
		if g := p.finished.Load(); g != gen {
			// A download ended since the caller looked at the cache: it
			// may have stored path, so look again (outside the lock)
			// rather than download it twice.
			p.mu.Unlock()
			gen = g
			if a, err := p.db.AssetByPath(p.cfg.Name, path); err == nil && p.fresh(a, path) {
				return p.open(ctx, a)
			}
			continue
		}
		f := &fetch{ready: make(chan struct{})}
		p.inflight[path] = f
		p.mu.Unlock()
		go p.download(context.WithoutCancel(ctx), path, cached, f)
		return p.join(ctx, path, f)
	}
}

// join waits for the upstream's answer to f and serves it: the download as
// it is written, the cached asset the upstream confirmed, or the error.
func (p *proxyRepo) join(ctx context.Context, path string, f *fetch) (*Content, error) {
	select {
	case <-f.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	switch {
	case f.err != nil:
		return nil, f.err
	case f.confirmed != nil:
		return p.open(ctx, f.confirmed)
	}
	body, err := f.tail.Open(ctx)
	if errors.Is(err, blob.ErrTailGone) {
		return p.cached(ctx, path) // over and stored since
	}
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "download from upstream of %s failed", p.cfg.Name)
	}
	a := *f.asset
	a.Checksums = map[string]string{}
	// Recorded by path: the asset is stored once the download is over.
	return &Content{Asset: &a, Body: body, Downloaded: p.downloaded(&a)}, nil
}

// download fetches path from the upstream into the cache. It sets f's
// answer and closes f.ready as soon as the upstream has answered, and ends
// f once the download is over.
func (p *proxyRepo) download(ctx context.Context, path string, cached *meta.Asset, f *fetch) {
	over, answered := false, false
	end := func() {
		over = true
		p.mu.Lock()
		delete(p.inflight, path)
		p.finished.Add(1)
		p.mu.Unlock()
	}
	// answer gives the callers f's outcome. Any but a download to follow
	// is final: the fetch is over first, so that a caller who asks again
	// starts a new one rather than getting this answer twice.
	answer := func(err error) {
		if f.tail == nil {
			end()
		}
		f.err = err
		answered = true
		close(f.ready)
	}
	defer func() {
		if !answered {
			answer(errs.New(errs.Internal, "proxy download of %s ended without an answer", path))
		}
		if !over {
			end()
		}
	}()
	confirmed := func() {
		if err := p.db.UpdateAsset(cached.ID, func(a *meta.Asset) { a.LastVerified = p.now().UTC() }); err != nil {
			answer(err)
			return
		}
		f.confirmed = cached
		answer(nil)
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
		answer(errs.Wrap(errs.Upstream, err, "upstream of %s failed", p.cfg.Name))
		return
	}
	defer resp.Body.Close()
	if fb, ok := p.format.(UpstreamFallback); ok && fb.Lacks(path, resp) {
		// Not a missing path but a missing endpoint: nothing for the
		// negative cache, the format builds the answer instead.
		p.upstreamOK()
		a, err := p.fallback(ctx, path, fb)
		if err != nil {
			answer(err)
			return
		}
		f.confirmed = a
		answer(nil)
		return
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && cached != nil:
		p.upstreamOK()
		confirmed()
		return
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		p.upstreamOK()
		p.rememberMissing(path)
		answer(errs.New(errs.NotFound, "%s not found upstream", path))
		return
	case resp.StatusCode != http.StatusOK:
		why := fmt.Sprintf("upstream answered %s", resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			p.upstreamFailed(why)
		}
		answer(errs.New(errs.Upstream, "%s", why))
		return
	}
	p.upstreamOK()
	maxSize, err := p.sizeBound(path, resp.ContentLength)
	if err != nil {
		answer(err)
		return
	}
	if err := p.frozen.refuseFrozen(); err != nil {
		answer(err) // frozen since get looked: the download could not be cached
		return
	}
	p.forgetMissing(path) // whatever was remembered, it is here now
	streamBody(resp)

	opts := PutOptions{
		ContentType:  resp.Header.Get("Content-Type"),
		Size:         resp.ContentLength,
		Expected:     p.expected(path),
		Component:    p.format.Component(path),
		LastVerified: p.now().UTC(),
		Attributes:   map[string]string{},
		Tail:         blob.NewTail(resp.ContentLength),
		Verify:       p.verifyDownload(ctx, path),
	}
	if t := formatContentType(p.format, path); t != "" {
		opts.ContentType = t
	} else if opts.ContentType == "" {
		opts.ContentType = contentTypeByExt(p.format, path)
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
	f.tail = opts.Tail
	// Metadata is small: its readers wait for the commit too, so that a
	// client that read a tag and asks again finds it cached. Content is
	// released once verified, the fsync is not worth a client's wait.
	metadata := p.format.IsMetadata(path)
	if metadata {
		f.tail.UntilStored()
	}
	// Forgotten before its readers hear the end when they would ask
	// again at once: after a failure, or for stored metadata.
	f.tail.BeforeEnd(func(err error) error {
		if err != nil || metadata {
			end()
		}
		if k := errs.KindOf(err); k == errs.Invalid || k == errs.TooLarge {
			// Bytes cut short, too many or not the digest: the upstream's
			// fault, never the client's.
			err = errs.Wrap(errs.Upstream, err, "download from upstream of %s failed", p.cfg.Name)
		}
		return err
	})
	f.asset = &meta.Asset{Repository: p.cfg.Name, Path: path, Size: resp.ContentLength,
		ContentType: opts.ContentType, LastModified: modified}
	answer(nil)
	if _, err := p.store(ctx, path, resp.Body, opts, nil, maxSize); err != nil {
		p.log.Warn("proxy download not cached", "path", path, "err", err)
	}
}

// currentByHead asks the upstream, with a HEAD, whether a stale cached
// asset is still current, for formats that can tell (Docker compares the
// digest of a tag; registries count GETs, not HEADs, against rate limits).
func (p *proxyRepo) currentByHead(ctx context.Context, path string, cached *meta.Asset) (bool, error) {
	up, ok := p.format.(HeadRevalidator)
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
	if ed, ok := p.format.(ExpectedDigester); ok {
		return ed.ExpectedDigest(path)
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
	p.authenticate(req)
	if ur, ok := p.format.(UpstreamRequester); ok {
		if err := ur.UpstreamRequest(p.cfg, path, req); err != nil {
			return nil, err
		}
	}
	return req, nil
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

func (p *proxyRepo) List(ctx context.Context, dir, after string, limit int) ([]Entry, string, error) {
	if err := p.online(); err != nil {
		return nil, "", err
	}
	return p.listStored(dir, after, limit)
}
