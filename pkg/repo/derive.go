package repo

import (
	"container/list"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"sync"

	"golang.org/x/sync/singleflight"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// MetadataRewriter is implemented by formats whose metadata names
// locations that must point at the repository the client addressed (npm
// tarball URLs): hosted, proxy and group repositories alike serve their
// metadata rewritten for base, that repository's URL, a group after its
// merge. Stored metadata is never rewritten; what Rewrite returns is kept
// in memory by the digest of its input and base (see Derive), so a
// document is rewritten once per change, not once per request.
type MetadataRewriter interface {
	Rewrite(ctx context.Context, path string, body []byte, base *url.URL) ([]byte, error)
}

// rewrite serves metadata at p rewritten for the URL the client
// addressed, if the format rewrites it.
func (b *base) rewrite(ctx context.Context, p string, c *Content) (*Content, error) {
	if !b.rewrites(ctx, p) {
		return c, nil
	}
	rw, u := b.format.(MetadataRewriter), BaseURL(ctx)
	return Derive(ctx, c, "rewrite\x00"+u.String(), func(body []byte) ([]byte, error) {
		return rw.Rewrite(ctx, p, body, u)
	})
}

// rewrites reports whether what Get serves at p differs from what is
// stored: its checksums are then those of the rewritten bytes.
func (b *base) rewrites(ctx context.Context, p string) bool {
	_, ok := b.format.(MetadataRewriter)
	return ok && BaseURL(ctx) != nil && b.format.IsMetadata(p)
}

// locateServed is the asset Get serves at p, for Locate where that is not
// the stored one.
func locateServed(ctx context.Context, r Repository, p string) (*Content, error) {
	c, err := r.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	c.Body.Close()
	return c, nil
}

// Derive returns what fn makes of c's bytes, for a variant of content
// that formats serve besides what is stored (a rewritten, abbreviated or
// compressed document). Results are kept in memory, by the sha256 of
// their input and variant, and shared by concurrent callers: while the
// input is unchanged fn runs once, however many requests ask. Derive
// closes c's body. The result's asset is c's with the size and checksums
// (sha1, sha256) of the derived bytes and no blob, as they are stored
// nowhere.
func Derive(ctx context.Context, c *Content, variant string, fn func([]byte) ([]byte, error)) (*Content, error) {
	defer c.Body.Close()
	var input []byte
	id := c.Asset.Checksums["sha256"]
	if id == "" {
		// A download being streamed: known once it is all there.
		b, err := readMetadata(c)
		if err != nil {
			return nil, err
		}
		input, id = b, sha256Hex(b)
	}
	key := id + "\x00" + variant
	d, ok := derived.get(key)
	if !ok {
		v, err, _ := derived.flight.Do(key, func() (any, error) {
			if d, ok := derived.get(key); ok {
				return d, nil
			}
			if input == nil {
				b, err := readMetadata(c)
				if err != nil {
					return nil, err
				}
				input = b
			}
			out, err := fn(input)
			if err != nil {
				return nil, err
			}
			d := &derivedBytes{key: key, body: out, sha256: sha256Hex(out)}
			s := sha1.Sum(out)
			d.sha1 = hex.EncodeToString(s[:])
			derived.put(d)
			return d, nil
		})
		if err != nil {
			return nil, err
		}
		d = v.(*derivedBytes)
	}
	a := *c.Asset
	a.Blob, a.Size = "", int64(len(d.body))
	a.Checksums = map[string]string{"sha1": d.sha1, "sha256": d.sha256}
	// Serving what is derived from an asset is a download of the asset.
	return &Content{Asset: &a, Body: BytesBody(d.body), Downloaded: c.Downloaded}, nil
}

// readMetadata reads the bytes of c, metadata, into memory.
func readMetadata(c *Content) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(c.Body, MaxMetadataSize+1))
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "reading %s", c.Asset.Path)
	}
	if len(b) > MaxMetadataSize {
		return nil, errs.New(errs.TooLarge, "metadata %s exceeds %d bytes", c.Asset.Path, MaxMetadataSize)
	}
	return b, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// derivedLimit bounds the bytes the cache of derived content holds. The
// largest documents (npm packuments of tens of MiB) are kept with their
// variants; least recently used ones go first.
const derivedLimit = 512 << 20

// derived is the process's cache of derived content: keyed by digests,
// it can be shared by every repository, and never serves stale bytes.
var derived = newDerivedCache(derivedLimit)

type derivedBytes struct {
	key          string
	body         []byte
	sha1, sha256 string
}

type derivedCache struct {
	flight singleflight.Group

	mu    sync.Mutex
	limit int
	size  int
	lru   *list.List // of *derivedBytes, most recent first
	items map[string]*list.Element
}

func newDerivedCache(limit int) *derivedCache {
	return &derivedCache{limit: limit, lru: list.New(), items: map[string]*list.Element{}}
}

func (c *derivedCache) get(key string) (*derivedBytes, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*derivedBytes), true
}

// put keeps d unless it alone would take more than a quarter of the
// cache, evicting the least recently used entries to make room.
func (c *derivedCache) put(d *derivedBytes) {
	n := len(d.body)
	if n > c.limit/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[d.key]; ok {
		return
	}
	for c.size+n > c.limit {
		last := c.lru.Back()
		old := last.Value.(*derivedBytes)
		c.lru.Remove(last)
		delete(c.items, old.key)
		c.size -= len(old.body)
	}
	c.items[d.key] = c.lru.PushFront(d)
	c.size += n
}
