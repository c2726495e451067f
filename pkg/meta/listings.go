package meta

import (
	"bytes"
	"context"

	bolt "go.etcd.io/bbolt"
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
