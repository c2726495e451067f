package meta

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// deleteContent deletes all of repo's content, two assets a batch.
func deleteContent(t *testing.T, db *DB, repo string) ([]BlobRef, error) {
	t.Helper()
	var all []BlobRef
	for {
		released, more, err := db.DeleteRepositoryContent(repo, 2)
		if err != nil {
			return nil, err
		}
		all = append(all, released...)
		if !more {
			return all, nil
		}
	}
}

// fillRepository stores n assets in repo, 5,000 a transaction (one blob for
// every ten assets, a component for every asset), much faster than n puts.
func fillRepository(t *testing.T, db *DB, repo string, n int) {
	t.Helper()
	for from := 0; from < n; from += 5000 {
		fillRange(t, db, repo, from, min(from+5000, n))
	}
}

func fillRange(t *testing.T, db *DB, repo string, from, to int) {
	t.Helper()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		now := time.Now().UTC()
		for i := from; i < to; i++ {
			a := Asset{ID: uuid.NewString(), Repository: repo, Path: "p/" + strconv.Itoa(i),
				Blob: dg(repo + strconv.Itoa(i/10)), Size: 1, Created: now, LastModified: now}
			if err := ref(tx, &a); err != nil {
				return err
			}
			id, err := attachAsset(tx, &Component{Repository: repo, Name: a.Path}, a.ID, now, "system")
			if err != nil {
				return err
			}
			a.ComponentID = id
			if err := putJSON(tx.Bucket(bucketAssets), []byte(a.ID), &a); err != nil {
				return err
			}
			if err := tx.Bucket(bucketAssetPaths).Put(assetPathKey(repo, a.Path), []byte(a.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A repository's deletion is three steps; writes into it are refused from
// the first, its name cannot be stored again until the last, and the
// marker survives a reopen.
func TestRepositoryDeletionSteps(t *testing.T) {
	db, path := openAssetsDB(t)
	req := PutAssetRequest{Asset: Asset{Repository: "gone", Path: "a", Blob: dg("a"), Size: 1}, RequireRepository: true}
	if _, _, err := db.PutAsset(req); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("write into a missing repository: err = %v, want NotFound", err)
	}
	if err := db.PutRepository("r", []byte(`{"name":"r"}`)); err != nil {
		t.Fatal(err)
	}
	req.Asset.Repository = "r"
	if _, _, err := db.PutAsset(req); err != nil {
		t.Fatal(err)
	}
	if err := db.StartDeleteRepository("r"); err != nil {
		t.Fatal(err)
	}
	if err := db.StartDeleteRepository("r"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("second start: err = %v, want NotFound", err)
	}
	if recs, _ := db.Repositories(); len(recs) != 0 {
		t.Fatalf("repository record left: %v", recs)
	}
	if _, _, err := db.PutAsset(req); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("write after the deletion started: err = %v, want NotFound", err)
	}
	if err := db.PutRepository("r", []byte(`{}`)); errs.KindOf(err) != errs.Conflict {
		t.Fatalf("reusing the name mid-deletion: err = %v, want Conflict", err)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if names, err := db.DeletingRepositories(); err != nil || len(names) != 1 || names[0] != "r" {
		t.Fatalf("deletions after reopen = %v, %v; want [r]", names, err)
	}
	released, more, err := db.DeleteRepositoryContent("r", 10)
	if err != nil || more || len(released) != 1 || released[0].Digest != dg("a") {
		t.Fatalf("DeleteRepositoryContent = %v, %v, %v; want the blob released, nothing more", released, more, err)
	}
	if _, err := db.AssetByPath("r", "a"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("asset left: %v", err)
	}
	if err := db.FinishDeleteRepository("r"); err != nil {
		t.Fatal(err)
	}
	if names, _ := db.DeletingRepositories(); len(names) != 0 {
		t.Fatalf("deletions after finish = %v", names)
	}
	if err := db.PutRepository("r", []byte(`{}`)); err != nil {
		t.Fatalf("reusing the name after the deletion: %v", err)
	}
}

// A large repository is deleted in bounded transactions, between which
// other repositories are read and written.
func TestDeleteRepositoryContentBatches(t *testing.T) {
	db, _ := openAssetsDB(t)
	n, batch := 50000, 1000
	if raceEnabled {
		n = 5000
	}
	fillRepository(t, db, "big", n)
	putAsset(t, db, "other", "kept", dg("big0"), nil) // shares a blob with big

	batches, releasedTotal := 0, 0
	var longest time.Duration
	for more := true; more; {
		start := time.Now()
		released, m, err := db.DeleteRepositoryContent("big", batch)
		if err != nil {
			t.Fatal(err)
		}
		longest = max(longest, time.Since(start))
		more = m
		batches++
		releasedTotal += len(released)
		// Between batches the database serves other repositories.
		if _, err := db.AssetByPath("other", "kept"); err != nil {
			t.Fatalf("other repository mid-deletion: %v", err)
		}
		putAsset(t, db, "other", "b"+strconv.Itoa(batches), dg("x"), nil)
	}
	t.Logf("%d assets deleted in %d transactions, the longest %v", n, batches, longest)
	if batches != n/batch {
		t.Fatalf("%d batches, want %d", batches, n/batch)
	}
	// Every blob but the shared one lost its last reference.
	if releasedTotal != n/10-1 {
		t.Fatalf("%d blobs released, want %d", releasedTotal, n/10-1)
	}
	if got := refsOf(t, db, dg("big0")); got != 1 {
		t.Fatalf("shared blob refs = %d, want 1", got)
	}
	if as, _, _ := db.ListAssets("big", "", "", 0); len(as) != 0 {
		t.Fatalf("%d assets left", len(as))
	}
	if comps, _, _ := db.ListComponents(t.Context(), "big", "", 10, nil); len(comps) != 0 {
		t.Fatalf("%d components left", len(comps))
	}
}
