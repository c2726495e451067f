package meta

import (
	"bytes"
	"context"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// ListAssets returns up to limit assets of repo whose path starts with
// prefix, in path order, starting after the path after. next is the path to
// pass as after for the following page, empty at the end.
func (db *DB) ListAssets(repo, prefix, after string, limit int) (assets []*Asset, next string, err error) {
	var afterKey string
	if after != "" {
		afterKey = string(assetPathKey(repo, after))
	}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		nextKey, err := scan(tx.Bucket(bucketAssetPaths), assetPathKey(repo, prefix), afterKey, limit, func(v []byte) (bool, error) {
			a, err := assetByID(tx, v)
			if a != nil {
				assets = append(assets, a)
			}
			return a != nil, err
		})
		if nextKey != "" {
			next = nextKey[len(assetPathKey(repo, "")):]
		}
		return err
	})
	return assets, next, err
}

// scan visits the values of bucket whose keys start with prefix, in key
// order, from the key after after. add reports whether it kept a value;
// after limit kept values (0: no limit) scan stops, and if more keys
// follow it returns the key of the last kept value, to resume after.
func scan(b *bolt.Bucket, prefix []byte, after string, limit int, add func(v []byte) (bool, error)) (next string, err error) {
	c := b.Cursor()
	k, v := c.Seek(prefix)
	if after != "" {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	kept, last := 0, ""
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if limit > 0 && kept == limit {
			return last, nil
		}
		ok, err := add(v)
		if err != nil {
			return "", err
		}
		if ok {
			kept++
			last = string(k)
		}
	}
	return "", nil
}

// ListComponents returns up to limit components of repo (all repositories
// when repo is empty) that match keep, in (repository, group, name, version)
// order, starting after the component key after. next is the key for the
// following page, empty at the end. A filter that keeps little makes this
// a walk of every component, so it stops with ctx's error once ctx ends.
func (db *DB) ListComponents(ctx context.Context, repo, after string, limit int, keep func(*Component) bool) (comps []*Component, next string, err error) {
	var base []byte
	if repo != "" {
		base = []byte(repo + "\x00")
	}
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		next, err = scan(tx.Bucket(bucketComponentKeys), base, after, limit, func(v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			var comp Component
			found, err := getJSON(tx.Bucket(bucketComponents), v, &comp)
			if err != nil || !found || (keep != nil && !keep(&comp)) {
				return false, err
			}
			comps = append(comps, &comp)
			return true, nil
		})
		return err
	})
	return comps, next, err
}

// ListAllAssets is ListAssets across repositories (repo empty) or one
// repository, filtered by keep, paginated by the internal path key. Like
// ListComponents it stops with ctx's error once ctx ends.
func (db *DB) ListAllAssets(ctx context.Context, repo, after string, limit int, keep func(*Asset) bool) (assets []*Asset, next string, err error) {
	var base []byte
	if repo != "" {
		base = assetPathKey(repo, "")
	}
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		next, err = scan(tx.Bucket(bucketAssetPaths), base, after, limit, func(v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			a, err := assetByID(tx, v)
			if err != nil || a == nil || (keep != nil && !keep(a)) {
				return false, err
			}
			assets = append(assets, a)
			return true, nil
		})
		return err
	})
	return assets, next, err
}

// DefaultPageSize is the page of a listing asked for with no limit.
const DefaultPageSize = 1000

// Child is one child of a folder: a folder (Dir, no Asset) or an asset.
type Child struct {
	Name  string
	Dir   bool
	Asset *Asset
}

// SortKey is the child's place in a listing: its name, with a trailing
// slash for a folder, which is where the folder's keys sort ("a.txt"
// before the folder "a/"). A listing's next token is a SortKey.
func (c Child) SortKey() string {
	if c.Dir {
		return c.Name + "/"
	}
	return c.Name
}

// ListChildren returns up to limit children of the folder prefix of repo
// ("" is the root, else a folder ending in "/"), in SortKey order, starting
// after the child whose SortKey is after ("" from the start). next is the
// SortKey to pass as after for the following page, "" at the end. After a
// folder child the cursor seeks past the folder's keys, so a page costs
// O(limit) cursor moves whatever the folders below hold. A folder prefix
// holding nothing is errs.NotFound.
func (db *DB) ListChildren(repo, prefix, after string, limit int) (children []Child, next string, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		children, next, err = listChildren(tx, repo, prefix, after, limit, nil)
		return err
	})
	return children, next, err
}

// pastFolder is the least key after every key of folder dir (which ends
// in "/"): '0' is the byte after '/'.
func pastFolder(dir []byte) []byte {
	return append(dir[:len(dir)-1:len(dir)-1], '0')
}

// listChildren is ListChildren in tx; step, when set (tests), is called on
// every cursor move.
func listChildren(tx *bolt.Tx, repo, prefix, after string, limit int, step func()) ([]Child, string, error) {
	if limit <= 0 {
		limit = DefaultPageSize
	}
	if step == nil {
		step = func() {}
	}
	if strings.Contains(strings.TrimSuffix(after, "/"), "/") {
		return nil, "", errs.New(errs.Invalid, "after %q names no child of a folder: a child's name, with a trailing / for a folder", after)
	}
	base := assetPathKey(repo, prefix)
	c := tx.Bucket(bucketAssetPaths).Cursor()
	k, v := c.Seek(base)
	step()
	if prefix != "" && (k == nil || !bytes.HasPrefix(k, base)) {
		return nil, "", notFound("folder", strings.TrimSuffix(prefix, "/"))
	}
	if after != "" {
		from := append(base[:len(base):len(base)], after...)
		if strings.HasSuffix(after, "/") {
			// The key past the folder may be a child's own ("a0"
			// after "a/"): it is the next child, not the one listed.
			k, v = c.Seek(pastFolder(from))
			step()
		} else {
			k, v = c.Seek(from)
			step()
			if k != nil && bytes.Equal(k, from) {
				k, v = c.Next()
				step()
			}
		}
	}
	var children []Child
	for ; k != nil && bytes.HasPrefix(k, base); step() {
		if len(children) == limit {
			return children, children[len(children)-1].SortKey(), nil
		}
		rest := k[len(base):]
		if i := bytes.IndexByte(rest, '/'); i >= 0 {
			children = append(children, Child{Name: string(rest[:i]), Dir: true})
			k, v = c.Seek(pastFolder(k[:len(base)+i+1]))
			continue
		}
		a, err := assetByID(tx, v)
		if err != nil {
			return nil, "", err
		}
		if a != nil {
			children = append(children, Child{Name: string(rest), Asset: a})
		}
		k, v = c.Next()
	}
	return children, "", nil
}
