package docker

import (
	"container/list"
	"sync"

	digest "github.com/opencontainers/go-digest"
)

// manifestCacheBytes bounds the memory of cached manifests.
const manifestCacheBytes = 32 << 20

// byteCache keeps recently served manifests in memory, least recently used
// out first. It is keyed by the blob's digest: content-addressed bytes never
// change, so entries never need invalidating.
type byteCache struct {
	mu    sync.Mutex
	max   int
	size  int
	order *list.List // front: most recent; values are *cacheEntry
	items map[digest.Digest]*list.Element
}

type cacheEntry struct {
	key  digest.Digest
	body []byte
}

func newByteCache(max int) *byteCache {
	return &byteCache{max: max, order: list.New(), items: map[digest.Digest]*list.Element{}}
}

func (c *byteCache) get(key digest.Digest) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return e.Value.(*cacheEntry).body, true
}

func (c *byteCache) put(key digest.Digest, body []byte) {
	if len(body) > c.max/8 {
		return // a few huge manifests must not push out all the others
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[key]; ok {
		return
	}
	c.items[key] = c.order.PushFront(&cacheEntry{key: key, body: body})
	c.size += len(body)
	for c.size > c.max {
		last := c.order.Back()
		e := last.Value.(*cacheEntry)
		c.order.Remove(last)
		delete(c.items, e.key)
		c.size -= len(e.body)
	}
}
