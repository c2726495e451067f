package meta

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// walkBlobUsage counts the blob records one by one: what BlobUsage's kept
// totals must always equal.
func walkBlobUsage(t *testing.T, db *DB) (count, bytes int64) {
	t.Helper()
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(_, v []byte) error {
			var rec Blob
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			count++
			bytes += rec.Size
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return count, bytes
}

func wantBlobUsage(t *testing.T, db *DB, what string, count, bytes int64) {
	t.Helper()
	wc, wb := walkBlobUsage(t, db)
	if wc != count || wb != bytes {
		t.Fatalf("%s: the records hold %d blobs of %d bytes, the test expects %d of %d", what, wc, wb, count, bytes)
	}
	c, b, err := db.BlobUsage("")
	if err != nil || c != count || b != bytes {
		t.Fatalf("%s: BlobUsage = %d, %d, %v; want %d, %d", what, c, b, err, count, bytes)
	}
}

func putSized(t *testing.T, db *DB, repo, path, content string) []string {
	t.Helper()
	_, released, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: repo, Path: path, Blob: dg(content), Size: int64(len(content))}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range released {
		out = append(out, d.Digest.String())
	}
	return out
}

// The totals follow record creation and deletion: a shared blob counts
// once, a blob whose last reference went counts until ReleaseBlob, a
// release of a referenced or unknown blob changes nothing, and batched
// concurrent writes add up.
func TestBlobUsageKept(t *testing.T) {
	db, _ := openAssetsDB(t)
	wantBlobUsage(t, db, "empty", 0, 0)
	putSized(t, db, "r", "a", "aaaa")
	putSized(t, db, "r", "b", "aaaa") // same bytes: one record
	putSized(t, db, "r2", "c", "aaaa")
	putSized(t, db, "r", "d", "dd")
	wantBlobUsage(t, db, "after puts and dedupes", 2, 6)

	if ok, err := db.ReleaseBlob("", dg("aaaa")); err != nil || ok {
		t.Fatalf("release of a referenced blob = %v, %v", ok, err)
	}
	if ok, err := db.ReleaseBlob("", dg("never stored")); err != nil || !ok {
		t.Fatalf("release of an unknown blob = %v, %v", ok, err)
	}
	wantBlobUsage(t, db, "after refused releases", 2, 6)

	if released := putSized(t, db, "r", "d", "eee"); len(released) != 1 { // replaces dd
		t.Fatalf("replacing d released %v", released)
	}
	wantBlobUsage(t, db, "before the release of a replaced blob", 3, 9)
	if ok, err := db.ReleaseBlob("", dg("dd")); err != nil || !ok {
		t.Fatalf("release of dd = %v, %v", ok, err)
	}
	wantBlobUsage(t, db, "after the release", 2, 7)
	if ok, _ := db.ReleaseBlob("", dg("dd")); !ok {
		t.Fatal("a second release refused")
	}
	wantBlobUsage(t, db, "after a second release", 2, 7)

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			putSized(t, db, "r", fmt.Sprintf("p%d", i), fmt.Sprintf("c%02d", i%10))
		}()
	}
	wg.Wait()
	wantBlobUsage(t, db, "after concurrent puts", 12, 7+10*3)

	if err := db.PutRepository("r", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := db.StartDeleteRepository("r"); err != nil {
		t.Fatal(err)
	}
	released, more, err := db.DeleteRepositoryContent("r", 1000)
	if err != nil || more {
		t.Fatalf("DeleteRepositoryContent: %v, %v", more, err)
	}
	for _, d := range released {
		if _, err := db.ReleaseBlob(d.Store, d.Digest); err != nil {
			t.Fatal(err)
		}
	}
	wantBlobUsage(t, db, "after deleting r (r2 keeps aaaa)", 1, 4)
}

// BlobUsage reads the kept totals, not the records: one it cannot decode
// does not matter to it.
func TestBlobUsageReadsNoRecord(t *testing.T) {
	db, _ := openAssetsDB(t)
	putSized(t, db, "r", "a", "aaaa")
	if err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).Put([]byte("not-json"), []byte("{"))
	}); err != nil {
		t.Fatal(err)
	}
	if c, b, err := db.BlobUsage(""); err != nil || c != 1 || b != 4 {
		t.Fatalf("BlobUsage = %d, %d, %v; want 1, 4 without reading the records", c, b, err)
	}
}
