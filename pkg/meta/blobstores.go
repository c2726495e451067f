package meta

import (
	"encoding/json"
	"sort"

	bolt "go.etcd.io/bbolt"
)

var bucketBlobStores = []byte("blob_stores")

// DefaultBlobStore is the file blob store a new database starts with (and
// that holds everything of a database from before there were several).
const DefaultBlobStore = "default"

// BlobStoreConfig is a blob store's stored configuration, in Nexus's terms.
type BlobStoreConfig struct {
	Name string `json:"name"`
	Type string `json:"type"` // "File"
	// Path is the store's directory: absolute, or relative to the data
	// directory's blobs/.
	Path      string     `json:"path"`
	SoftQuota *SoftQuota `json:"softQuota,omitempty"`
}

// SoftQuota is a limit that warns, never refuses: Type is
// "spaceRemainingQuota" or "spaceUsedQuota", Limit in bytes.
type SoftQuota struct {
	Type  string `json:"type"`
	Limit int64  `json:"limit"`
}

// BlobStoreConfigs returns every blob store, ordered by name.
func (db *DB) BlobStoreConfigs() ([]BlobStoreConfig, error) {
	var out []BlobStoreConfig
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobStores).ForEach(func(_, v []byte) error {
			var c BlobStoreConfig
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// PutBlobStoreConfig creates or replaces the blob store c.Name.
func (db *DB) PutBlobStoreConfig(c BlobStoreConfig) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return putJSON(tx.Bucket(bucketBlobStores), []byte(c.Name), &c)
	})
}

// DeleteBlobStoreConfig deletes the blob store name and its usage totals.
func (db *DB) DeleteBlobStoreConfig(name string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketSystem).Delete(blobUsageKey(name)); err != nil {
			return err
		}
		return tx.Bucket(bucketBlobStores).Delete([]byte(name))
	})
}

// addDefaultBlobStore records the default store, in <data-dir>/blobs/default.
func addDefaultBlobStore(tx *bolt.Tx) error {
	c := BlobStoreConfig{Name: DefaultBlobStore, Type: "File", Path: DefaultBlobStore}
	return putJSON(tx.Bucket(bucketBlobStores), []byte(c.Name), &c)
}

// blobsPerStore moves a schema 4 database, whose one store was the default,
// to blob records keyed by store and digest: every record and asset goes to
// the default store, whose totals are counted from its records.
func blobsPerStore(tx *bolt.Tx) error {
	blobs := tx.Bucket(bucketBlobs)
	type kv struct{ k, v []byte }
	var recs []kv
	if err := blobs.ForEach(func(k, v []byte) error {
		recs = append(recs, kv{append([]byte(nil), k...), append([]byte(nil), v...)})
		return nil
	}); err != nil {
		return err
	}
	var count, size int64
	for _, r := range recs {
		var rec Blob
		if err := json.Unmarshal(r.v, &rec); err != nil {
			return err
		}
		if err := blobs.Delete(r.k); err != nil {
			return err
		}
		if err := blobs.Put(blobKey(DefaultBlobStore, rec.Digest), r.v); err != nil {
			return err
		}
		count++
		size += rec.Size
	}
	sys := tx.Bucket(bucketSystem)
	if err := sys.Delete([]byte("blob_usage")); err != nil { // schema 4's one total
		return err
	}
	if err := addBlobUsage(tx, DefaultBlobStore, count, size); err != nil {
		return err
	}

	assets := tx.Bucket(bucketAssets)
	var moved []kv
	if err := assets.ForEach(func(k, v []byte) error {
		var a Asset
		if err := json.Unmarshal(v, &a); err != nil {
			return err
		}
		a.BlobStore = DefaultBlobStore
		raw, err := json.Marshal(&a)
		moved = append(moved, kv{append([]byte(nil), k...), raw})
		return err
	}); err != nil {
		return err
	}
	for _, a := range moved {
		if err := assets.Put(a.k, a.v); err != nil {
			return err
		}
	}
	return addDefaultBlobStore(tx)
}
