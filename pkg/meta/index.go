package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// The component index lets a search seek instead of visiting every
// component. One bucket holds, for each component, one key per indexed
// field: kind byte, value, 0, component key (repository, group, name,
// version); the value is the component's ID. Keys are written when the
// component is created and deleted with it in the same transaction
// (attachAsset, detachAsset), and a component's fields never change, so
// the index always agrees with the components bucket.
var bucketComponentIndex = []byte("component_index")

// IndexKind names an ordering a search can seek in.
type IndexKind byte

// The orderings of components: by repository (the component keys
// themselves), and the index's by format, lower-cased name, version and
// group (Maven groupId, npm scope).
const (
	ByRepository IndexKind = 'r'
	ByFormat     IndexKind = 'f'
	ByName       IndexKind = 'n'
	ByVersion    IndexKind = 'v'
	ByGroup      IndexKind = 'g'
)

// indexValue is the value c is indexed under in kind.
func indexValue(kind IndexKind, c *Component) string {
	switch kind {
	case ByFormat:
		return c.Format
	case ByName:
		return strings.ToLower(c.Name)
	case ByVersion:
		return c.Version
	case ByGroup:
		return c.Group
	}
	return ""
}

var indexKinds = []IndexKind{ByFormat, ByName, ByVersion, ByGroup}

func indexKey(kind IndexKind, value string, ck []byte) []byte {
	k := make([]byte, 0, 2+len(value)+len(ck))
	k = append(k, byte(kind))
	k = append(k, value...)
	k = append(k, 0)
	return append(k, ck...)
}

// indexComponent adds (delta 1) or removes (delta -1) c's index keys.
func indexComponent(tx *bolt.Tx, c *Component, delta int) error {
	b := tx.Bucket(bucketComponentIndex)
	ck := componentKey(c)
	for _, kind := range indexKinds {
		k := indexKey(kind, indexValue(kind, c), ck)
		var err error
		if delta > 0 {
			err = b.Put(k, []byte(c.ID))
		} else {
			err = b.Delete(k)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// buildComponentIndex indexes every stored component, for a database from
// before the index existed (schema 2).
func buildComponentIndex(tx *bolt.Tx) error {
	return tx.Bucket(bucketComponents).ForEach(func(_, v []byte) error {
		var c Component
		if err := json.Unmarshal(v, &c); err != nil {
			return err
		}
		return indexComponent(tx, &c, 1)
	})
}

// Seek selects the index entries a search visits: those of ordering Kind
// whose value starts with Prefix (for ByRepository, the repository named
// Prefix when Exact), or equals it when Exact. ByName prefixes are
// lower-cased here, as the index keeps names.
type Seek struct {
	Kind   IndexKind
	Prefix string
	Exact  bool
	// Match, when set, is checked on the fields an entry's key holds before
	// its component is read: a scan rejects most entries without decoding.
	Match func(repository, group, name, version string) bool
}

// keyFields are the repository, group, name and version in an entry's key.
func (s Seek) keyFields(k []byte) (f [4]string, ok bool) {
	if s.Kind != ByRepository {
		_, rest, found := bytes.Cut(k, []byte{0})
		if !found {
			return f, false
		}
		k = rest
	}
	parts := strings.Split(string(k), "\x00")
	if len(parts) != 4 {
		return f, false // a field holding a 0 byte: let the component decide
	}
	return [4]string(parts), true
}

// start is the key prefix every entry the seek visits has.
func (s Seek) start() []byte {
	p := s.Prefix
	if s.Kind == ByName {
		p = strings.ToLower(p)
	}
	if s.Kind == ByRepository {
		if s.Exact {
			p += "\x00"
		}
		return []byte(p)
	}
	k := append([]byte{byte(s.Kind)}, p...)
	if s.Exact {
		k = append(k, 0)
	}
	return k
}

// ComponentVisit is called by ScanComponents for each component visited:
// key is the cursor to resume after it, assets loads its assets (in path
// order, in the scan's transaction). It returns whether to go on.
type ComponentVisit func(key string, c *Component, assets func() ([]*Asset, error)) (bool, error)

// ScanComponents visits the components the seek selects, in its order,
// starting after the entry key after ("" from the start; at it, when
// inclusive), until visit returns false or the entries end. It returns how
// many index entries it visited, so callers and tests can see what a
// search cost. A cursor the seek cannot have issued is errs.Invalid. It
// stops with ctx's error once ctx ends.
func (db *DB) ScanComponents(ctx context.Context, seek Seek, after string, inclusive bool, visit ComponentVisit) (visited int, err error) {
	start := seek.start()
	if after != "" && !strings.HasPrefix(after, string(start)) {
		return 0, errs.New(errs.Invalid, "the cursor does not belong to this search")
	}
	bucket := bucketComponentIndex
	if seek.Kind == ByRepository {
		bucket = bucketComponentKeys
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		comps := tx.Bucket(bucketComponents)
		c := tx.Bucket(bucket).Cursor()
		k, v := c.Seek(start)
		if after != "" {
			k, v = c.Seek([]byte(after))
			if k != nil && !inclusive && string(k) == after {
				k, v = c.Next()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, start); k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			visited++
			if seek.Match != nil {
				if f, ok := seek.keyFields(k); ok && !seek.Match(f[0], f[1], f[2], f[3]) {
					continue
				}
			}
			var comp Component
			found, err := getJSON(comps, v, &comp)
			if err != nil {
				return err
			}
			if !found {
				continue
			}
			more, err := visit(string(k), &comp, func() ([]*Asset, error) { return componentAssetsTx(tx, &comp) })
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
	return visited, err
}

// componentAssetsTx returns c's assets in path order.
func componentAssetsTx(tx *bolt.Tx, c *Component) ([]*Asset, error) {
	var out []*Asset
	for _, id := range c.Assets {
		a, err := assetByID(tx, []byte(id))
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
