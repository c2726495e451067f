package meta

import (
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func folders(t *testing.T, db *DB, repo, prefix string) []string {
	t.Helper()
	var all []string
	after := ""
	for {
		page, next, err := db.Folders(repo, prefix, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		after = next
	}
}

// The folder index follows every write and delete, per repository.
func TestFolderIndex(t *testing.T) {
	db, _ := openAssetsDB(t)
	for _, p := range []string{"v2/a/blobs/1", "v2/a/blobs/2", "v2/a/manifests/x", "v2/a/b/manifests/y", "top"} {
		putAsset(t, db, "r", p, dg(p), nil)
	}
	putAsset(t, db, "r", "v2/a/blobs/1", dg("rewritten"), nil) // same path: no new entry
	putAsset(t, db, "r2", "v2/other/manifests/z", dg("z"), nil)

	want := []string{"", "v2/a/b/manifests", "v2/a/blobs", "v2/a/manifests"}
	if got := folders(t, db, "r", ""); !slices.Equal(got, want) {
		t.Fatalf("folders = %q, want %q", got, want)
	}
	if got := folders(t, db, "r", "v2/a/b"); !slices.Equal(got, []string{"v2/a/b/manifests", "v2/a/blobs"}) {
		t.Fatalf("folders under v2/a/b = %q", got)
	}

	// A folder goes with its last asset.
	if _, err := db.DeleteAssetByPath("r", "v2/a/blobs/1"); err != nil {
		t.Fatal(err)
	}
	if got := folders(t, db, "r", "v2/a/blobs"); !slices.Equal(got, []string{"v2/a/blobs"}) {
		t.Fatalf("after deleting one of two blobs: %q", got)
	}
	if _, err := db.DeleteAssetByPath("r", "v2/a/blobs/2"); err != nil {
		t.Fatal(err)
	}
	if got := folders(t, db, "r", "v2/a/blobs"); len(got) != 0 {
		t.Fatalf("after deleting both blobs: %q", got)
	}
	for more := true; more; {
		var err error
		if _, more, err = db.DeleteRepositoryContent("r", 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := folders(t, db, "r", ""); len(got) != 0 {
		t.Fatalf("after deleting the repository's content: %q", got)
	}
	if got := folders(t, db, "r2", ""); !slices.Equal(got, []string{"v2/other/manifests"}) {
		t.Fatalf("another repository's folders: %q", got)
	}
}

// A schema 1 database gets its folder index built when opened.
func TestFolderIndexMigration(t *testing.T) {
	db, path := openAssetsDB(t)
	putAsset(t, db, "r", "v2/a/manifests/x", dg("x"), nil)
	putAsset(t, db, "r", "v2/a/blobs/1", dg("1"), nil)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketFolders); err != nil {
			return err
		}
		return tx.Bucket(bucketSystem).Put(keySchema, []byte{0, 0, 0, 1})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if v := storedSchema(t, db); v != SchemaVersion {
		t.Fatalf("schema after migration %d, want %d", v, SchemaVersion)
	}
	if got := folders(t, db, "r", ""); !slices.Equal(got, []string{"v2/a/blobs", "v2/a/manifests"}) {
		t.Fatalf("folders after migration = %q", got)
	}
}
