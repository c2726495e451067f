package meta

import (
	"encoding/json"
	"maps"
	"sync"
)

// assetCacheBytes bounds the stored records the asset cache keeps.
const assetCacheBytes = 4 << 20

// assetCache keeps decoded asset records, keyed by the stored bytes
// themselves: a changed record is other bytes, so an entry is never stale
// and nothing needs invalidating. It spares the hot reads (a manifest GET
// looks its asset up on every request) the JSON decoding. When full it
// starts over, which bounds its memory with no bookkeeping per read.
type assetCache struct {
	mu    sync.Mutex
	size  int
	items map[string]*Asset
}

// decode returns the asset stored as raw, a copy the caller may change.
func (c *assetCache) decode(raw []byte) (*Asset, error) {
	c.mu.Lock()
	a, ok := c.items[string(raw)]
	c.mu.Unlock()
	if !ok {
		a = new(Asset)
		if err := json.Unmarshal(raw, a); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.items == nil || c.size+len(raw) > assetCacheBytes {
			c.items, c.size = map[string]*Asset{}, 0
		}
		if len(raw) <= assetCacheBytes/64 {
			c.items[string(raw)] = a
			c.size += len(raw)
		}
		c.mu.Unlock()
	}
	cp := *a
	cp.Checksums = maps.Clone(a.Checksums)
	cp.Attributes = maps.Clone(a.Attributes)
	return &cp, nil
}
