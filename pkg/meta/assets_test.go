package meta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func openAssetsDB(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func dg(s string) digest.Digest { return digest.FromString(s) }

func putAsset(t *testing.T, db *DB, repo, path string, d digest.Digest, comp *Component) (*Asset, []digest.Digest) {
	t.Helper()
	a, released, err := db.PutAsset(PutAssetRequest{
		Asset:     Asset{Repository: repo, Path: path, Blob: d, Size: 3, Checksums: map[string]string{"sha1": "s-" + d.Encoded()[:8]}},
		Component: comp,
	})
	if err != nil {
		t.Fatalf("PutAsset(%s, %s): %v", repo, path, err)
	}
	return a, digestsOf(released)
}

// digestsOf returns the digests of refs, all of the tests' store "".
func digestsOf(refs []BlobRef) []digest.Digest {
	var out []digest.Digest
	for _, r := range refs {
		out = append(out, r.Digest)
	}
	return out
}

func refsOf(t *testing.T, db *DB, d digest.Digest) int64 {
	t.Helper()
	rec, err := db.BlobRecord("", d)
	if err != nil {
		t.Fatalf("BlobRecord(%s): %v", d, err)
	}
	return rec.Refs
}

func wantNotFound(t *testing.T, err error, what string) {
	t.Helper()
	if errs.KindOf(err) != errs.NotFound {
		t.Fatalf("%s: err = %v, want NotFound", what, err)
	}
}

// sameDigests compares digests, or the digests of refs, as sets.
func sameDigests[T digest.Digest | BlobRef](got []T, want []digest.Digest) bool {
	var g []digest.Digest
	for _, x := range got {
		switch v := any(x).(type) {
		case digest.Digest:
			g = append(g, v)
		case BlobRef:
			g = append(g, v.Digest)
		}
	}
	w := slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// storedSchema reads the schema version a database stores.
func storedSchema(t *testing.T, db *DB) int {
	t.Helper()
	var v int
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		v = int(binary.BigEndian.Uint32(tx.Bucket(bucketSystem).Get(keySchema)))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchema(t *testing.T) {
	db, _ := openAssetsDB(t)
	if v := storedSchema(t, db); v != SchemaVersion {
		t.Fatalf("stored schema %d, want %d", v, SchemaVersion)
	}
}

func TestPutAssetRefCounts(t *testing.T) {
	db, _ := openAssetsDB(t)
	d1, d2 := dg("one"), dg("two")

	a, released := putAsset(t, db, "r", "a.txt", d1, nil)
	if len(released) != 0 {
		t.Fatalf("released = %v on first put", released)
	}
	if a.ID == "" || a.Created.IsZero() || a.LastModified.IsZero() {
		t.Fatalf("stored asset lacks id or times: %+v", a)
	}
	if got := refsOf(t, db, d1); got != 1 {
		t.Fatalf("refs = %d, want 1", got)
	}
	rec, _ := db.BlobRecord("", d1)
	if rec.Digest != d1 || rec.Size != 3 || rec.Checksums["sha1"] == "" {
		t.Fatalf("blob record = %+v", rec)
	}

	// A second asset on the same blob shares the record.
	b, released := putAsset(t, db, "r", "b.txt", d1, nil)
	if len(released) != 0 || b.ID == a.ID {
		t.Fatalf("second asset: released %v, id %s (first %s)", released, b.ID, a.ID)
	}
	if got := refsOf(t, db, d1); got != 2 {
		t.Fatalf("refs = %d, want 2", got)
	}

	// Re-putting the same blob at the same path does not move counts.
	again, released := putAsset(t, db, "r", "a.txt", d1, nil)
	if len(released) != 0 || again.ID != a.ID || !again.Created.Equal(a.Created) {
		t.Fatalf("re-put: released %v, asset %+v", released, again)
	}
	if got := refsOf(t, db, d1); got != 2 {
		t.Fatalf("refs after re-put = %d, want 2", got)
	}

	// Replacing a's blob moves one reference.
	a2, released := putAsset(t, db, "r", "a.txt", d2, nil)
	if len(released) != 0 {
		t.Fatalf("released %v while b still references d1", released)
	}
	if a2.ID != a.ID || !a2.Created.Equal(a.Created) || a2.Blob != d2 {
		t.Fatalf("replaced asset = %+v; want same id/created, blob d2", a2)
	}
	if r1, r2 := refsOf(t, db, d1), refsOf(t, db, d2); r1 != 1 || r2 != 1 {
		t.Fatalf("refs d1=%d d2=%d, want 1 1", r1, r2)
	}

	// Replacing b's blob drops d1's last reference.
	_, released = putAsset(t, db, "r", "b.txt", d2, nil)
	if !sameDigests(released, []digest.Digest{d1}) {
		t.Fatalf("released = %v, want [%s]", released, d1)
	}
	if r1, r2 := refsOf(t, db, d1), refsOf(t, db, d2); r1 != 0 || r2 != 2 {
		t.Fatalf("refs d1=%d d2=%d, want 0 2", r1, r2)
	}
	// The zero-ref record stays until ReleaseBlob.
	if ok, _ := db.HasBlob("", d1); !ok {
		t.Fatal("zero-ref record vanished before ReleaseBlob")
	}
	un, err := db.UnreferencedBlobs("")
	if err != nil || !sameDigests(un, []digest.Digest{d1}) {
		t.Fatalf("UnreferencedBlobs = %v, %v; want [%s]", un, err, d1)
	}
	count, size, err := db.BlobUsage("")
	if err != nil || count != 2 || size != 6 {
		t.Fatalf("BlobUsage = %d, %d, %v; want 2, 6", count, size, err)
	}
}

func TestReleaseBlob(t *testing.T) {
	db, _ := openAssetsDB(t)
	d := dg("x")
	a, _ := putAsset(t, db, "r", "x", d, nil)
	ok, err := db.ReleaseBlob("", d)
	if err != nil || ok {
		t.Fatalf("ReleaseBlob of referenced blob = %v, %v; want false", ok, err)
	}
	if got := refsOf(t, db, d); got != 1 {
		t.Fatalf("refs = %d after refused release", got)
	}
	released, err := db.DeleteAsset(a.ID)
	if err != nil || !sameDigests(released, []digest.Digest{d}) {
		t.Fatalf("DeleteAsset = %v, %v", released, err)
	}
	ok, err = db.ReleaseBlob("", d)
	if err != nil || !ok {
		t.Fatalf("ReleaseBlob of unreferenced blob = %v, %v; want true", ok, err)
	}
	_, err = db.BlobRecord("", d)
	wantNotFound(t, err, "BlobRecord after release")
	if has, _ := db.HasBlob("", d); has {
		t.Fatal("HasBlob after release")
	}
}

func TestDeleteReturnsReleased(t *testing.T) {
	db, _ := openAssetsDB(t)
	shared, solo1, solo2, other := dg("shared"), dg("solo1"), dg("solo2"), dg("other")

	a1, _ := putAsset(t, db, "r", "a1", shared, nil)
	putAsset(t, db, "r", "a2", shared, nil)
	putAsset(t, db, "r", "s1", solo1, nil)
	putAsset(t, db, "r", "s2", solo2, nil)
	putAsset(t, db, "r2", "x", shared, nil) // another repository holds shared too
	putAsset(t, db, "r2", "y", other, nil)

	// DeleteAsset of one of two references releases nothing.
	released, err := db.DeleteAsset(a1.ID)
	if err != nil || len(released) != 0 {
		t.Fatalf("DeleteAsset(shared) = %v, %v; want nothing released", released, err)
	}
	_, err = db.Asset(a1.ID)
	wantNotFound(t, err, "Asset after delete")
	_, err = db.AssetByPath("r", "a1")
	wantNotFound(t, err, "AssetByPath after delete")
	_, err = db.DeleteAsset(a1.ID)
	wantNotFound(t, err, "second DeleteAsset")

	// DeleteAssetByPath of the last reference releases the blob.
	released, err = db.DeleteAssetByPath("r", "s1")
	if err != nil || !sameDigests(released, []digest.Digest{solo1}) {
		t.Fatalf("DeleteAssetByPath(s1) = %v, %v; want [solo1]", released, err)
	}
	_, err = db.DeleteAssetByPath("r", "s1")
	wantNotFound(t, err, "second DeleteAssetByPath")
	_, err = db.DeleteAssetByPath("r", "nope")
	wantNotFound(t, err, "DeleteAssetByPath of missing path")

	// Repository content: a2 (shared, still in r2) and s2 (solo2).
	released, err = deleteContent(t, db, "r")
	if err != nil || !sameDigests(released, []digest.Digest{solo2}) {
		t.Fatalf("DeleteRepositoryContent(r) = %v, %v; want [solo2]", released, err)
	}
	if as, _, _ := db.ListAssets("r", "", "", 0); len(as) != 0 {
		t.Fatalf("r still has %d assets", len(as))
	}
	if as, _, _ := db.ListAssets("r2", "", "", 0); len(as) != 2 {
		t.Fatalf("r2 has %d assets, want 2 (untouched)", len(as))
	}
	if got := refsOf(t, db, shared); got != 1 {
		t.Fatalf("shared refs = %d, want 1", got)
	}
	released, err = deleteContent(t, db, "r2")
	if err != nil || !sameDigests(released, []digest.Digest{shared, other}) {
		t.Fatalf("DeleteRepositoryContent(r2) = %v, %v; want [shared other]", released, err)
	}
	released, err = deleteContent(t, db, "empty")
	if err != nil || len(released) != 0 {
		t.Fatalf("DeleteRepositoryContent(empty) = %v, %v", released, err)
	}
}

func TestDeleteRepositoryContentPrefixIsolation(t *testing.T) {
	db, _ := openAssetsDB(t)
	putAsset(t, db, "r", "a", dg("a"), nil)
	putAsset(t, db, "r2", "a", dg("b"), nil)
	putAsset(t, db, "r-x", "a", dg("c"), nil)
	if _, err := deleteContent(t, db, "r"); err != nil {
		t.Fatal(err)
	}
	for _, repo := range []string{"r2", "r-x"} {
		if _, err := db.AssetByPath(repo, "a"); err != nil {
			t.Fatalf("%s/a deleted with r: %v", repo, err)
		}
	}
}

func TestCheckAbortsWrite(t *testing.T) {
	db, _ := openAssetsDB(t)
	d1, d2 := dg("one"), dg("two")
	orig, _ := putAsset(t, db, "r", "a", d1, &Component{Repository: "r", Name: "a"})

	boom := errors.New("refused")
	var seen *Asset
	_, released, err := db.PutAsset(PutAssetRequest{
		Asset:     Asset{Repository: "r", Path: "a", Blob: d2, Size: 3},
		Component: &Component{Repository: "r", Name: "other"},
		Check: func(existing *Asset) error {
			seen = existing
			return boom
		},
	})
	if !errors.Is(err, boom) || released != nil {
		t.Fatalf("PutAsset = %v, %v; want the check's error", released, err)
	}
	if seen == nil || seen.ID != orig.ID {
		t.Fatalf("Check saw %+v, want the existing asset", seen)
	}
	got, err := db.AssetByPath("r", "a")
	if err != nil || got.Blob != d1 || got.ComponentID != orig.ComponentID {
		t.Fatalf("asset changed by aborted write: %+v, %v", got, err)
	}
	if r := refsOf(t, db, d1); r != 1 {
		t.Fatalf("d1 refs = %d, want 1", r)
	}
	if has, _ := db.HasBlob("", d2); has {
		t.Fatal("aborted write left a blob record")
	}
	comps, _, _ := db.ListComponents(t.Context(), "r", "", 0, nil)
	if len(comps) != 1 || comps[0].Name != "a" {
		t.Fatalf("components after aborted write = %+v", comps)
	}

	// Check sees nil for a new path, and an error leaves nothing behind.
	var called bool
	_, _, err = db.PutAsset(PutAssetRequest{
		Asset: Asset{Repository: "r", Path: "new", Blob: d2},
		Check: func(existing *Asset) error {
			called = true
			if existing != nil {
				t.Errorf("existing = %+v for new path", existing)
			}
			return boom
		},
	})
	if !called || !errors.Is(err, boom) {
		t.Fatalf("check called=%v err=%v", called, err)
	}
	_, err = db.AssetByPath("r", "new")
	wantNotFound(t, err, "asset of aborted write")
}

func TestComponents(t *testing.T) {
	db, _ := openAssetsDB(t)
	comp := func() *Component {
		return &Component{Repository: "r", Format: "raw", Group: "g", Name: "n", Version: "1"}
	}
	a, _ := putAsset(t, db, "r", "n-1.jar", dg("jar"), comp())
	b, _ := putAsset(t, db, "r", "n-1.pom", dg("pom"), comp())
	if a.ComponentID == "" || a.ComponentID != b.ComponentID {
		t.Fatalf("component ids %q %q; want one shared id", a.ComponentID, b.ComponentID)
	}
	c, err := db.Component(a.ComponentID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "n" || c.Group != "g" || c.Version != "1" || c.Format != "raw" || c.Created.IsZero() {
		t.Fatalf("component = %+v", c)
	}
	if !sameStrings(c.Assets, []string{a.ID, b.ID}) {
		t.Fatalf("component assets = %v, want %s %s", c.Assets, a.ID, b.ID)
	}
	assets, err := db.ComponentAssets(c)
	if err != nil || len(assets) != 2 || assets[0].Path != "n-1.jar" || assets[1].Path != "n-1.pom" {
		t.Fatalf("ComponentAssets = %v, %v", assets, err)
	}

	// Another version, group or repository is another component.
	v2, _ := putAsset(t, db, "r", "n-2.jar", dg("jar2"), &Component{Repository: "r", Group: "g", Name: "n", Version: "2"})
	g2, _ := putAsset(t, db, "r", "h-1.jar", dg("h"), &Component{Repository: "r", Group: "h", Name: "n", Version: "1"})
	r2, _ := putAsset(t, db, "r2", "n-1.jar", dg("jar"), &Component{Repository: "r2", Group: "g", Name: "n", Version: "1"})
	ids := map[string]bool{a.ComponentID: true, v2.ComponentID: true, g2.ComponentID: true, r2.ComponentID: true}
	if len(ids) != 4 {
		t.Fatalf("component ids not distinct: %v", ids)
	}

	// Re-putting an asset with the same component keeps one membership.
	putAsset(t, db, "r", "n-1.jar", dg("jar-new"), comp())
	c, _ = db.Component(a.ComponentID)
	if len(c.Assets) != 2 {
		t.Fatalf("component assets after re-put = %v", c.Assets)
	}

	// Moving an asset to another component detaches it from the first.
	moved, _ := putAsset(t, db, "r", "n-1.pom", dg("pom"), &Component{Repository: "r", Group: "g", Name: "n", Version: "2"})
	if moved.ComponentID != v2.ComponentID {
		t.Fatalf("moved asset component = %s, want %s", moved.ComponentID, v2.ComponentID)
	}
	c, _ = db.Component(a.ComponentID)
	if !sameStrings(c.Assets, []string{a.ID}) {
		t.Fatalf("old component assets = %v, want [%s]", c.Assets, a.ID)
	}

	// Deleting the last asset deletes the component, and its key: the same
	// coordinates then make a new component.
	if _, err := db.DeleteAsset(a.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.Component(a.ComponentID)
	wantNotFound(t, err, "component after its last asset went")
	again, _ := putAsset(t, db, "r", "n-1.jar", dg("jar"), comp())
	if again.ComponentID == "" || again.ComponentID == a.ComponentID {
		t.Fatalf("recreated component id = %q (old %q)", again.ComponentID, a.ComponentID)
	}

	// Putting without a component detaches (and here deletes) it.
	plain, _ := putAsset(t, db, "r", "n-1.jar", dg("jar"), nil)
	if plain.ComponentID != "" {
		t.Fatalf("asset put without component has %q", plain.ComponentID)
	}
	_, err = db.Component(again.ComponentID)
	wantNotFound(t, err, "component after its asset was detached")
}

func TestDeleteComponent(t *testing.T) {
	db, _ := openAssetsDB(t)
	comp := &Component{Repository: "r", Name: "c"}
	shared, solo := dg("shared"), dg("solo")
	a, _ := putAsset(t, db, "r", "c/a", shared, comp)
	b, _ := putAsset(t, db, "r", "c/b", solo, &Component{Repository: "r", Name: "c"})
	keep, _ := putAsset(t, db, "r", "keep", shared, nil)
	released, err := db.DeleteComponent(a.ComponentID)
	if err != nil || !sameDigests(released, []digest.Digest{solo}) {
		t.Fatalf("DeleteComponent = %v, %v; want [solo]", released, err)
	}
	for _, id := range []string{a.ID, b.ID} {
		_, err := db.Asset(id)
		wantNotFound(t, err, "asset of deleted component")
	}
	if _, err := db.Asset(keep.ID); err != nil {
		t.Fatalf("unrelated asset deleted: %v", err)
	}
	if r := refsOf(t, db, shared); r != 1 {
		t.Fatalf("shared refs = %d, want 1", r)
	}
	_, err = db.Component(a.ComponentID)
	wantNotFound(t, err, "deleted component")
	_, err = db.DeleteComponent(a.ComponentID)
	wantNotFound(t, err, "second DeleteComponent")
}

func TestUpdateAsset(t *testing.T) {
	db, _ := openAssetsDB(t)
	a, _ := putAsset(t, db, "r", "x", dg("x"), nil)
	if err := db.UpdateAsset(a.ID, func(a *Asset) { a.Attributes = map[string]string{"etag": "v"} }); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Asset(a.ID)
	if got.Attributes["etag"] != "v" {
		t.Fatalf("attributes = %v", got.Attributes)
	}
	wantNotFound(t, db.UpdateAsset("nope", func(*Asset) {}), "UpdateAsset of missing id")
}

func TestListAssetsPrefixPagination(t *testing.T) {
	db, _ := openAssetsDB(t)
	var want []string
	for i := range 23 {
		p := fmt.Sprintf("dir/f%02d", i)
		want = append(want, p)
		putAsset(t, db, "r", p, dg(p), nil)
	}
	putAsset(t, db, "r", "dir2/x", dg("x"), nil)
	putAsset(t, db, "r", "a", dg("a"), nil)
	putAsset(t, db, "r", "zz", dg("z"), nil)
	putAsset(t, db, "rr", "dir/f00", dg("other repo"), nil)

	for _, limit := range []int{1, 5, 23, 100} {
		var got []string
		after := ""
		for page := 0; ; page++ {
			if page > 30 {
				t.Fatalf("limit %d: pagination does not end", limit)
			}
			assets, next, err := db.ListAssets("r", "dir/", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(assets) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(assets))
			}
			for _, a := range assets {
				if a.Repository != "r" {
					t.Fatalf("asset of repo %s listed", a.Repository)
				}
				got = append(got, a.Path)
			}
			if next == "" {
				break
			}
			if len(assets) == 0 || next != assets[len(assets)-1].Path {
				t.Fatalf("limit %d: next = %q after page %v", limit, next, assets)
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: listed %v, want %v", limit, got, want)
		}
	}

	all, next, err := db.ListAssets("r", "", "", 0)
	if err != nil || next != "" || len(all) != 26 {
		t.Fatalf("ListAssets(r, all) = %d assets, next %q, %v", len(all), next, err)
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Path < all[j].Path }) {
		t.Fatal("assets not in path order")
	}
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestListComponentsPagination(t *testing.T) {
	db, _ := openAssetsDB(t)
	var wantR []string
	for i := range 9 {
		name := fmt.Sprintf("c%d", i)
		wantR = append(wantR, name)
		putAsset(t, db, "r", name, dg(name), &Component{Repository: "r", Name: name, Version: "1"})
	}
	putAsset(t, db, "r2", "c0", dg("r2"), &Component{Repository: "r2", Name: "c0"})
	putAsset(t, db, "rr", "c0", dg("rr"), &Component{Repository: "rr", Name: "c0"})

	collect := func(repo string, limit int, keep func(*Component) bool) []string {
		t.Helper()
		var out []string
		after := ""
		for page := 0; ; page++ {
			if page > 30 {
				t.Fatal("pagination does not end")
			}
			comps, next, err := db.ListComponents(t.Context(), repo, after, limit, keep)
			if err != nil {
				t.Fatal(err)
			}
			if limit > 0 && len(comps) > limit {
				t.Fatalf("page of %d > limit %d", len(comps), limit)
			}
			for _, c := range comps {
				out = append(out, c.Repository+"/"+c.Name)
			}
			if next == "" {
				return out
			}
			after = next
		}
	}
	prefixed := func(repo string, names []string) []string {
		var out []string
		for _, n := range names {
			out = append(out, repo+"/"+n)
		}
		return out
	}
	for _, limit := range []int{0, 1, 2, 4, 9, 50} {
		if got := collect("r", limit, nil); !slices.Equal(got, prefixed("r", wantR)) {
			t.Fatalf("limit %d: %v, want %v", limit, got, wantR)
		}
	}
	// Filtered: even-numbered components only.
	even := func(c *Component) bool { return (c.Name[1]-'0')%2 == 0 }
	want := prefixed("r", []string{"c0", "c2", "c4", "c6", "c8"})
	for _, limit := range []int{1, 2, 3} {
		if got := collect("r", limit, even); !slices.Equal(got, want) {
			t.Fatalf("filtered, limit %d: %v, want %v", limit, got, want)
		}
	}
	// Every repository.
	all := collect("", 2, nil)
	if len(all) != 11 || !slices.Contains(all, "r2/c0") || !slices.Contains(all, "rr/c0") {
		t.Fatalf("all components = %v", all)
	}
	if got := collect("r2", 1, nil); !slices.Equal(got, []string{"r2/c0"}) {
		t.Fatalf("r2 components = %v", got)
	}
}

func TestListAllAssetsPagination(t *testing.T) {
	db, _ := openAssetsDB(t)
	var want []string
	for _, repo := range []string{"a", "b", "c"} {
		for i := range 4 {
			p := fmt.Sprintf("p%d.%s", i, map[bool]string{true: "jar", false: "pom"}[i%2 == 0])
			putAsset(t, db, repo, p, dg(repo+p), nil)
			want = append(want, repo+"/"+p)
		}
	}
	collect := func(repo string, limit int, keep func(*Asset) bool) []string {
		t.Helper()
		var out []string
		after := ""
		for page := 0; ; page++ {
			if page > 30 {
				t.Fatal("pagination does not end")
			}
			assets, next, err := db.ListAllAssets(t.Context(), repo, after, limit, keep)
			if err != nil {
				t.Fatal(err)
			}
			if limit > 0 && len(assets) > limit {
				t.Fatalf("page of %d > limit %d", len(assets), limit)
			}
			for _, a := range assets {
				out = append(out, a.Repository+"/"+a.Path)
			}
			if next == "" {
				return out
			}
			after = next
		}
	}
	for _, limit := range []int{0, 1, 5, 12} {
		if got := collect("", limit, nil); !slices.Equal(got, want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
	}
	if got := collect("b", 3, nil); !slices.Equal(got, want[4:8]) {
		t.Fatalf("repo b: %v, want %v", got, want[4:8])
	}
	jars := func(a *Asset) bool { return filepath.Ext(a.Path) == ".jar" }
	var wantJars []string
	for _, w := range want {
		if filepath.Ext(w) == ".jar" {
			wantJars = append(wantJars, w)
		}
	}
	for _, limit := range []int{1, 2, 4} {
		if got := collect("", limit, jars); !slices.Equal(got, wantJars) {
			t.Fatalf("jars, limit %d: %v, want %v", limit, got, wantJars)
		}
	}
}

func TestSetBlobChecksums(t *testing.T) {
	db, _ := openAssetsDB(t)
	d := dg("x")
	putAsset(t, db, "r", "x", d, nil)
	if err := db.SetBlobChecksums("", d, map[string]string{"md5": "abc", "sha512": "def"}); err != nil {
		t.Fatal(err)
	}
	rec, _ := db.BlobRecord("", d)
	if rec.Checksums["md5"] != "abc" || rec.Checksums["sha512"] != "def" || rec.Checksums["sha1"] == "" {
		t.Fatalf("checksums = %v", rec.Checksums)
	}
	// A later asset on the blob inherits what the blob knows.
	b, _, err := db.PutAsset(PutAssetRequest{Asset: Asset{Repository: "r", Path: "y", Blob: d}})
	if err != nil || b.Checksums["md5"] != "abc" {
		t.Fatalf("asset checksums = %v, %v", b.Checksums, err)
	}
}

func TestDataSurvivesReopen(t *testing.T) {
	db, path := openAssetsDB(t)
	a, _ := putAsset(t, db, "r", "x/y", dg("x"), &Component{Repository: "r", Name: "y"})
	if err := db.PutRepository("r", []byte(`{"name":"r"}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if v := storedSchema(t, db2); v != SchemaVersion {
		t.Fatalf("schema after reopen = %d", v)
	}
	got, err := db2.AssetByPath("r", "x/y")
	if err != nil || got.ID != a.ID || got.Blob != a.Blob || got.ComponentID != a.ComponentID {
		t.Fatalf("asset after reopen = %+v, %v; want %+v", got, err, a)
	}
	if r := refsOf(t, db2, a.Blob); r != 1 {
		t.Fatalf("refs after reopen = %d", r)
	}
	if _, err := db2.Component(a.ComponentID); err != nil {
		t.Fatalf("component after reopen: %v", err)
	}
	recs, err := db2.Repositories()
	if err != nil || len(recs) != 1 || recs[0].Name != "r" || string(recs[0].Config) != `{"name":"r"}` {
		t.Fatalf("repositories after reopen = %+v, %v", recs, err)
	}
}

// PutAssets writes every asset or, when one fails its check, none: no
// asset, no reference and no component of the others is left.
func TestPutAssetsAllOrNothing(t *testing.T) {
	db, _ := openAssetsDB(t)
	d := dg("manifest")
	req := func(path string, check func(*Asset) error) PutAssetRequest {
		return PutAssetRequest{
			Asset:     Asset{Repository: "r", Path: path, Blob: d, Size: 3},
			Component: &Component{Repository: "r", Format: "docker", Name: "app", Version: path},
			Check:     check,
		}
	}
	refuse := func(*Asset) error { return errs.New(errs.Invalid, "refused") }
	_, _, err := db.PutAssets([]PutAssetRequest{req("m", nil), req("a", nil), req("b", refuse)})
	if errs.KindOf(err) != errs.Invalid {
		t.Fatalf("PutAssets with a refused asset = %v, want Invalid", err)
	}
	for _, p := range []string{"m", "a", "b"} {
		if _, err := db.AssetByPath("r", p); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("asset %s after a refused PutAssets: %v", p, err)
		}
	}
	if _, err := db.BlobRecord("", d); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("blob record after a refused PutAssets: %v", err)
	}

	stored, released, err := db.PutAssets([]PutAssetRequest{req("m", nil), req("a", nil), req("b", nil)})
	if err != nil || len(stored) != 3 || len(released) != 0 {
		t.Fatalf("PutAssets = %d assets, released %v, %v", len(stored), released, err)
	}
	for i, p := range []string{"m", "a", "b"} {
		if stored[i].Path != p || stored[i].ComponentID == "" {
			t.Fatalf("stored[%d] = %+v", i, stored[i])
		}
	}
	if got := refsOf(t, db, d); got != 3 {
		t.Fatalf("refs = %d, want 3", got)
	}
}
