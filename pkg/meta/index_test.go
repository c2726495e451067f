package meta

import (
	"context"
	"fmt"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// scanNames returns the names (name@version) a seek visits, in order, and
// how many index entries it visited.
func scanNames(t *testing.T, db *DB, seek Seek) ([]string, int) {
	t.Helper()
	var got []string
	n, err := db.ScanComponents(context.Background(), seek, "", false, func(_ string, c *Component, _ func() ([]*Asset, error)) (bool, error) {
		got = append(got, c.Name+"@"+c.Version)
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, n
}

// indexEntries counts the keys of the component index.
func indexEntries(t *testing.T, db *DB) int {
	t.Helper()
	n := 0
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketComponentIndex).Stats().KeyN
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// The index follows component writes and deletes: a component is found by
// each of its fields from its first asset on, and by none once its last
// asset is gone.
func TestComponentIndexFollowsWrites(t *testing.T) {
	db, _ := openAssetsDB(t)
	lib := &Component{Repository: "m", Format: "maven2", Group: "org.example", Name: "Lib", Version: "1.0"}
	putAsset(t, db, "m", "org/example/lib/1.0/lib-1.0.jar", dg("jar"), lib)
	putAsset(t, db, "m", "org/example/lib/1.0/lib-1.0.pom", dg("pom"), lib)
	putAsset(t, db, "r", "file.txt", dg("raw"), &Component{Repository: "r", Format: "raw", Name: "file.txt"})
	for _, tc := range []struct {
		seek Seek
		want []string
	}{
		{Seek{Kind: ByName, Prefix: "li"}, []string{"Lib@1.0"}},
		{Seek{Kind: ByName, Prefix: "LIB", Exact: true}, []string{"Lib@1.0"}},
		{Seek{Kind: ByName, Prefix: "li", Exact: true}, nil},
		{Seek{Kind: ByGroup, Prefix: "org."}, []string{"Lib@1.0"}},
		{Seek{Kind: ByVersion, Prefix: "1.0", Exact: true}, []string{"Lib@1.0"}},
		{Seek{Kind: ByFormat, Prefix: "raw", Exact: true}, []string{"file.txt@"}},
		{Seek{Kind: ByRepository, Prefix: "m", Exact: true}, []string{"Lib@1.0"}},
		{Seek{Kind: ByRepository}, []string{"Lib@1.0", "file.txt@"}},
	} {
		if got, _ := scanNames(t, db, tc.seek); !slices.Equal(got, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.seek, got, tc.want)
		}
	}
	if n := indexEntries(t, db); n != 2*len(indexKinds) {
		t.Fatalf("%d index entries for 2 components", n)
	}
	// Moving the raw file's asset to no component drops its component.
	putAsset(t, db, "r", "file.txt", dg("raw2"), nil)
	if got, _ := scanNames(t, db, Seek{Kind: ByFormat, Prefix: "raw", Exact: true}); len(got) != 0 {
		t.Fatalf("raw components after detaching the asset: %q", got)
	}
	if _, err := db.DeleteAssetByPath("m", "org/example/lib/1.0/lib-1.0.jar"); err != nil {
		t.Fatal(err)
	}
	if got, _ := scanNames(t, db, Seek{Kind: ByName, Prefix: "lib"}); len(got) != 1 {
		t.Fatalf("the component lost one of two assets and is gone from the index: %q", got)
	}
	if _, err := db.DeleteAssetByPath("m", "org/example/lib/1.0/lib-1.0.pom"); err != nil {
		t.Fatal(err)
	}
	if n := indexEntries(t, db); n != 0 {
		t.Fatalf("%d index entries left with no component", n)
	}
}

// A seek on a literal prefix visits the entries with that prefix and no
// others, however many components the database holds.
func TestScanComponentsVisitsOnlyThePrefix(t *testing.T) {
	db, _ := openAssetsDB(t)
	for i := range 300 {
		name := fmt.Sprintf("other-%03d", i)
		if i%30 == 0 {
			name = fmt.Sprintf("wanted-%03d", i)
		}
		putAsset(t, db, "r", name, dg(name), &Component{Repository: "r", Format: "raw", Name: name})
	}
	got, visited := scanNames(t, db, Seek{Kind: ByName, Prefix: "wanted-"})
	if len(got) != 10 || visited != 10 {
		t.Fatalf("prefix wanted-: %d components, %d entries visited; want 10 and 10", len(got), visited)
	}
	// Match decides on the key's fields, before a component is read.
	calls := 0
	for _, kind := range []IndexKind{ByRepository, ByFormat} {
		seek := Seek{Kind: kind, Match: func(repo, group, name, version string) bool {
			calls++
			return repo == "r" && group == "" && name == "wanted-030" && version == ""
		}}
		if got, visited := scanNames(t, db, seek); !slices.Equal(got, []string{"wanted-030@"}) || visited != 300 {
			t.Fatalf("kind %c with Match: %q, %d visited", kind, got, visited)
		}
	}
	if calls != 600 {
		t.Fatalf("Match called %d times for 2 scans of 300 entries", calls)
	}
	if _, err := db.ScanComponents(context.Background(), Seek{Kind: ByName, Prefix: "wanted-"}, "nother cursor", false, nil); err == nil {
		t.Fatal("a cursor of another seek was accepted")
	}
}

// Statistics follow puts, replaces, deletes and a repository's deletion.
func TestRepositoryStats(t *testing.T) {
	db, _ := openAssetsDB(t)
	stats := func(repo string) Stats {
		t.Helper()
		s, err := statsOf(db, repo)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	put := func(repo, path string, size int64, comp *Component) {
		t.Helper()
		if _, _, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: repo, Path: path, Blob: dg(path + fmt.Sprint(size)), Size: size}, Component: comp}); err != nil {
			t.Fatal(err)
		}
	}
	c1 := &Component{Repository: "r", Format: "raw", Name: "a"}
	put("r", "a/1", 10, c1)
	put("r", "a/2", 20, c1)
	put("r", "b", 5, &Component{Repository: "r", Format: "raw", Name: "b"})
	put("other", "x", 7, nil)
	if got, want := stats("r"), (Stats{Assets: 3, Bytes: 35, Components: 2}); got != want {
		t.Fatalf("after puts: %+v, want %+v", got, want)
	}
	put("r", "a/1", 100, c1) // replaced: same asset, new size
	if got, want := stats("r"), (Stats{Assets: 3, Bytes: 125, Components: 2}); got != want {
		t.Fatalf("after a replace: %+v, want %+v", got, want)
	}
	if _, err := db.DeleteAssetByPath("r", "b"); err != nil {
		t.Fatal(err)
	}
	if got, want := stats("r"), (Stats{Assets: 2, Bytes: 120, Components: 1}); got != want {
		t.Fatalf("after a delete: %+v, want %+v", got, want)
	}
	c, err := db.Component(mustComponentID(t, db, "r", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteComponent(c.ID); err != nil {
		t.Fatal(err)
	}
	if got := stats("r"); got != (Stats{}) {
		t.Fatalf("after deleting the last component: %+v", got)
	}
	put("r", "c", 1, nil)
	for more := true; more; {
		if _, more, err = db.DeleteRepositoryContent("r", 1); err != nil {
			t.Fatal(err)
		}
	}
	if got := stats("r"); got != (Stats{}) {
		t.Fatalf("after deleting the repository: %+v", got)
	}
	if got, want := stats("other"), (Stats{Assets: 1, Bytes: 7}); got != want {
		t.Fatalf("another repository: %+v, want %+v", got, want)
	}
}

func mustComponentID(t *testing.T, db *DB, repo, name string) string {
	t.Helper()
	var id string
	if _, err := db.ScanComponents(context.Background(), Seek{Kind: ByRepository, Prefix: repo, Exact: true}, "", false,
		func(_ string, c *Component, _ func() ([]*Asset, error)) (bool, error) {
			if c.Name == name {
				id = c.ID
			}
			return id == "", nil
		}); err != nil {
		t.Fatal(err)
	}
	if id == "" {
		t.Fatalf("no component %s in %s", name, repo)
	}
	return id
}

// A schema 2 database (no component index, no statistics) gets both when
// opened, equal to what the writes themselves keep.
func TestIndexAndStatsMigration(t *testing.T) {
	db, path := openAssetsDB(t)
	putAsset(t, db, "m", "g/a/1/a-1.jar", dg("1"), &Component{Repository: "m", Format: "maven2", Group: "g", Name: "a", Version: "1"})
	putAsset(t, db, "m", "g/a/1/a-1.pom", dg("2"), &Component{Repository: "m", Format: "maven2", Group: "g", Name: "a", Version: "1"})
	putAsset(t, db, "n", "p/-/p-2.tgz", dg("3"), &Component{Repository: "n", Format: "npm", Name: "p", Version: "2"})
	wantM, _ := statsOf(db, "m")
	wantN, _ := statsOf(db, "n")
	entries := indexEntries(t, db)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketComponentIndex, bucketRepositoryStats} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketSystem).Put(keySchema, []byte{0, 0, 0, 2})
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = Open(path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if v := storedSchema(t, db); v != SchemaVersion {
		t.Fatalf("schema after migration %d, want %d", v, SchemaVersion)
	}
	if n := indexEntries(t, db); n != entries || n == 0 {
		t.Fatalf("%d index entries after migration, want %d", n, entries)
	}
	if got, _ := scanNames(t, db, Seek{Kind: ByFormat, Prefix: "npm", Exact: true}); !slices.Equal(got, []string{"p@2"}) {
		t.Fatalf("npm components after migration: %q", got)
	}
	for repo, want := range map[string]Stats{"m": wantM, "n": wantN} {
		if got, _ := statsOf(db, repo); got != want || got.Assets == 0 {
			t.Fatalf("%s stats after migration %+v, want %+v", repo, got, want)
		}
	}
}

// statsOf is repo's entry of AllRepositoryStats.
func statsOf(db *DB, repo string) (Stats, error) {
	all, err := db.AllRepositoryStats()
	return all[repo], err
}
