package meta

import (
	"fmt"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// keysOf lists children by their SortKeys.
func keysOf(children []Child) []string {
	var out []string
	for _, c := range children {
		out = append(out, c.SortKey())
	}
	return out
}

func TestListChildrenPages(t *testing.T) {
	db, _ := openAssetsDB(t)
	// "a" is an asset and a folder; "a.txt" and "a-b" sort between the
	// asset "a" and the folder "a/" ('-' and '.' are below '/').
	for _, p := range []string{"a", "a-b", "a.txt", "a/x", "a/y/z", "b/c", "c", "d/e/f", "dir/f"} {
		putAsset(t, db, "r", p, dg(p), nil)
	}
	putAsset(t, db, "r2", "a0", dg("other repository"), nil)
	putAsset(t, db, "r", "dir/g", dg("g"), nil)
	want := []string{"a", "a-b", "a.txt", "a/", "b/", "c", "d/", "dir/"}
	for _, limit := range []int{1, 2, 3, 7, 8, 100} {
		var got []string
		after := ""
		for page := 0; ; page++ {
			if page > len(want) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			children, next, err := db.ListChildren("r", "", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(children) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(children))
			}
			got = append(got, keysOf(children)...)
			if next == "" {
				break
			}
			if next != children[len(children)-1].SortKey() {
				t.Fatalf("limit %d: next %q after %v", limit, next, keysOf(children))
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: listed %v, want %v", limit, got, want)
		}
	}

	children, _, err := db.ListChildren("r", "a/", "", 0)
	if err != nil || !slices.Equal(keysOf(children), []string{"x", "y/"}) {
		t.Fatalf("ListChildren(a/) = %v, %v", keysOf(children), err)
	}
	if children[0].Asset == nil || children[0].Asset.Path != "a/x" || children[1].Asset != nil {
		t.Fatalf("children of a/: %+v", children)
	}
	// After a name that is not a child, the page starts where it would sort.
	children, _, err = db.ListChildren("r", "", "b", 0)
	if err != nil || !slices.Equal(keysOf(children), []string{"b/", "c", "d/", "dir/"}) {
		t.Fatalf("ListChildren(after b) = %v, %v", keysOf(children), err)
	}
	for _, missing := range []string{"nope/", "c/", "d/e/f/"} {
		_, _, err := db.ListChildren("r", missing, "", 0)
		wantNotFound(t, err, "ListChildren("+missing+")")
	}
	if _, _, err := db.ListChildren("r", "", "a/x", 0); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("after a grandchild: %v, want invalid", err)
	}
	if children, next, err := db.ListChildren("empty", "", "", 0); err != nil || len(children) != 0 || next != "" {
		t.Fatalf("root of an empty repository: %v %q %v", children, next, err)
	}
}

// TestListChildrenSkipsSubtrees: a folder holding 100,000 assets costs its
// parent's page one cursor seek, not a visit of its assets.
func TestListChildrenSkipsSubtrees(t *testing.T) {
	db, _ := openAssetsDB(t)
	const n = 100_000
	// Written as the asset records and path keys alone: a full PutAsset
	// each would make the test slow, and listing reads nothing else.
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i := range n {
			a := Asset{ID: fmt.Sprintf("id-%06d", i), Repository: "r", Path: fmt.Sprintf("big/%06d", i), Blob: dg("b"), Size: 1}
			if err := putJSON(tx.Bucket(bucketAssets), []byte(a.ID), &a); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAssetPaths).Put(assetPathKey(a.Repository, a.Path), []byte(a.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "big.txt", "c", "d/e"} {
		putAsset(t, db, "r", p, dg(p), nil)
	}
	steps := 0
	var children []Child
	var next string
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		children, next, err = listChildren(tx, "r", "", "", 3, func() { steps++ })
		return err
	})
	if err != nil || !slices.Equal(keysOf(children), []string{"a", "big.txt", "big/"}) || next != "big/" {
		t.Fatalf("first page = %v next %q, %v", keysOf(children), next, err)
	}
	if steps > 10 {
		t.Fatalf("a page of 3 took %d cursor moves: the folder's assets were visited", steps)
	}
	steps = 0
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		children, next, err = listChildren(tx, "r", "", next, 3, func() { steps++ })
		return err
	})
	if err != nil || !slices.Equal(keysOf(children), []string{"c", "d/"}) || next != "" {
		t.Fatalf("second page = %v next %q, %v", keysOf(children), next, err)
	}
	if steps > 10 {
		t.Fatalf("resuming after the folder took %d cursor moves", steps)
	}
	// A page inside the big folder is the page, not the folder.
	steps = 0
	err = db.bolt.View(func(tx *bolt.Tx) (err error) {
		children, next, err = listChildren(tx, "r", "big/", "050000", 2, func() { steps++ })
		return err
	})
	if err != nil || !slices.Equal(keysOf(children), []string{"050001", "050002"}) || next != "050002" || steps > 10 {
		t.Fatalf("page in big/ = %v next %q (%d moves), %v", keysOf(children), next, steps, err)
	}
}
