package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// toSchema4 rewrites db as schema 4 stored it: blob records keyed by
// digest alone, assets naming no store, one total (stale if given), no
// blob store records, and schema version v (3 or 4).
func toSchema4(t *testing.T, db *DB, stale []byte, v byte) {
	t.Helper()
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs)
		type kv struct{ k, v []byte }
		var recs, assets []kv
		if err := blobs.ForEach(func(k, v []byte) error {
			recs = append(recs, kv{bytes.Clone(k), bytes.Clone(v)})
			return nil
		}); err != nil {
			return err
		}
		for _, r := range recs {
			blobs.Delete(r.k)
			blobs.Put(r.k[bytes.IndexByte(r.k, 0)+1:], r.v)
		}
		if err := tx.Bucket(bucketAssets).ForEach(func(k, v []byte) error {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			delete(m, "blobStore")
			raw, err := json.Marshal(m)
			assets = append(assets, kv{bytes.Clone(k), raw})
			return err
		}); err != nil {
			return err
		}
		for _, a := range assets {
			tx.Bucket(bucketAssets).Put(a.k, a.v)
		}
		tx.DeleteBucket(bucketBlobStores)
		tx.CreateBucket(bucketBlobStores)
		sys := tx.Bucket(bucketSystem)
		sys.Delete(blobUsageKey(DefaultBlobStore))
		if stale != nil {
			sys.Put([]byte("blob_usage"), stale)
		}
		return sys.Put(keySchema, []byte{0, 0, 0, v})
	}); err != nil {
		t.Fatal(err)
	}
}

// A schema 4 (or 3) database, whose one store was the default, opens with
// everything in the default store: records keyed by store, assets naming
// it, totals counted from the records (whatever was kept), the store
// recorded; references and dedup work on as before.
func TestBlobsPerStoreMigration(t *testing.T) {
	for _, tc := range []struct {
		schema byte
		stale  []byte
	}{{4, nil}, {4, binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 99), 99)}, {3, nil}} {
		t.Run(fmt.Sprintf("schema%d-%x", tc.schema, tc.stale), func(t *testing.T) {
			db, path := openAssetsDB(t)
			put := func(p, content string) {
				t.Helper()
				if _, _, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: "r", Path: p, BlobStore: DefaultBlobStore,
					Blob: dg(content), Size: int64(len(content))}}); err != nil {
					t.Fatal(err)
				}
			}
			put("a", "aaaa")
			put("b", "aaaa")
			put("c", "ccccccc")
			toSchema4(t, db, tc.stale, tc.schema)
			db.Close()
			var err error
			if db, err = Open(path); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if v := storedSchema(t, db); v != SchemaVersion {
				t.Fatalf("schema after migration %d, want %d", v, SchemaVersion)
			}
			if c, b, err := db.BlobUsage(DefaultBlobStore); err != nil || c != 2 || b != 11 {
				t.Fatalf("default store's usage = %d, %d, %v; want 2, 11", c, b, err)
			}
			rec, err := db.BlobRecord(DefaultBlobStore, dg("aaaa"))
			if err != nil || rec.Refs != 2 {
				t.Fatalf("aaaa's record in the default store = %+v, %v", rec, err)
			}
			a, err := db.AssetByPath("r", "a")
			if err != nil || a.BlobStore != DefaultBlobStore {
				t.Fatalf("asset a = %+v, %v; want it in the default store", a, err)
			}
			cfgs, err := db.BlobStoreConfigs()
			if err != nil || len(cfgs) != 1 || cfgs[0] != (BlobStoreConfig{Name: "default", Type: "File", Path: "default"}) {
				t.Fatalf("blob stores = %+v, %v", cfgs, err)
			}
			put("d", "aaaa") // dedup on the migrated record
			if c, _, _ := db.BlobUsage(DefaultBlobStore); c != 2 {
				t.Fatalf("%d blobs after storing aaaa again, want 2", c)
			}
			released, err := db.DeleteAsset(a.ID)
			if err != nil || len(released) != 0 {
				t.Fatalf("deleting a (aaaa still on b, d) released %v, %v", released, err)
			}
			c, _ := db.AssetByPath("r", "c")
			released, err = db.DeleteAsset(c.ID)
			if err != nil || len(released) != 1 || released[0] != (BlobRef{Store: DefaultBlobStore, Digest: dg("ccccccc")}) {
				t.Fatalf("deleting c released %v, %v", released, err)
			}
		})
	}
}

// The same bytes in two stores are two blobs: each counted, referenced and
// released on its own.
func TestBlobsKeyedByStore(t *testing.T) {
	db, _ := openAssetsDB(t)
	put := func(repo, store string) *Asset {
		t.Helper()
		a, _, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: repo, Path: "f", BlobStore: store, Blob: dg("same"), Size: 4}})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	put("r1", "one")
	a2 := put("r2", "two")
	for _, s := range []string{"one", "two"} {
		if c, b, _ := db.BlobUsage(s); c != 1 || b != 4 {
			t.Fatalf("store %s holds %d blobs of %d bytes, want 1 of 4", s, c, b)
		}
	}
	released, err := db.DeleteAsset(a2.ID)
	if err != nil || len(released) != 1 || released[0].Store != "two" {
		t.Fatalf("deleting r2's asset released %v, %v; want the blob of store two", released, err)
	}
	if ok, _ := db.ReleaseBlob("two", dg("same")); !ok {
		t.Fatal("store two's blob not released")
	}
	if ok, _ := db.HasBlob("one", dg("same")); !ok {
		t.Fatal("store one's blob went with store two's")
	}
	if c, _, _ := db.BlobUsage("two"); c != 0 {
		t.Fatalf("store two still counts %d blobs", c)
	}
	if un, _ := db.UnreferencedBlobs("one"); len(un) != 0 {
		t.Fatalf("store one has unreferenced blobs %v", un)
	}
}

// Blob store records round-trip and go with their totals.
func TestBlobStoreConfigs(t *testing.T) {
	db, _ := openAssetsDB(t)
	c := BlobStoreConfig{Name: "b", Type: "File", Path: "/x", SoftQuota: &SoftQuota{Type: "spaceUsedQuota", Limit: 10}}
	if err := db.PutBlobStoreConfig(c); err != nil {
		t.Fatal(err)
	}
	cfgs, err := db.BlobStoreConfigs()
	if err != nil || len(cfgs) != 2 || cfgs[0].Name != "b" || *cfgs[0].SoftQuota != *c.SoftQuota || cfgs[1].Name != "default" {
		t.Fatalf("configs = %+v, %v", cfgs, err)
	}
	if _, _, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: "r", Path: "f", BlobStore: "b", Blob: dg("x"), Size: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteBlobStoreConfig("b"); err != nil {
		t.Fatal(err)
	}
	if cfgs, _ := db.BlobStoreConfigs(); len(cfgs) != 1 {
		t.Fatalf("configs after delete = %+v", cfgs)
	}
	if n, _, _ := db.BlobUsage("b"); n != 0 {
		t.Fatalf("deleted store still counts %d blobs", n)
	}
}
