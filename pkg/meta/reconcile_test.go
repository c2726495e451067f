package meta

import (
	"testing"

	bolt "go.etcd.io/bbolt"
)

// Reconciling corrects reference counts that drifted (too high, too low,
// a record lost) from the assets, and names the blobs nothing references.
func TestReconcileBlobRefs(t *testing.T) {
	db, _ := openAssetsDB(t)
	putSized(t, db, "r", "a", "aaaa")
	putSized(t, db, "r", "b", "aaaa")
	putSized(t, db, "r", "c", "cc")
	putSized(t, db, "r", "d", "ddd")
	putSized(t, db, "r", "e", "orphan")
	if _, err := db.DeleteAssetByPath("r", "e"); err != nil { // its record stays until released
		t.Fatal(err)
	}
	setRefs := func(d string, n int64) {
		t.Helper()
		if err := db.bolt.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucketBlobs)
			var rec Blob
			if _, err := getJSON(b, blobKey("", dg(d)), &rec); err != nil {
				return err
			}
			rec.Refs = n
			return putJSON(b, blobKey("", dg(d)), &rec)
		}); err != nil {
			t.Fatal(err)
		}
	}
	setRefs("aaaa", 5)
	setRefs("cc", 0)
	if err := db.bolt.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketBlobs).Delete(blobKey("", dg("ddd"))) }); err != nil {
		t.Fatal(err)
	}

	fixed, released, err := db.ReconcileBlobRefs()
	if err != nil {
		t.Fatal(err)
	}
	if fixed != 3 || len(released) != 1 || released[0].Digest != dg("orphan") {
		t.Fatalf("fixed %d, released %v; want 3 records fixed and the orphan released", fixed, released)
	}
	for d, want := range map[string]int64{"aaaa": 2, "cc": 1, "ddd": 1, "orphan": 0} {
		if got := refsOf(t, db, dg(d)); got != want {
			t.Errorf("refs of %s = %d, want %d", d, got, want)
		}
	}
	wantBlobUsage(t, db, "after reconciling", 4, 4+2+3+6)
	if fixed, _, _ := db.ReconcileBlobRefs(); fixed != 0 {
		t.Errorf("a second reconcile fixed %d", fixed)
	}
}
