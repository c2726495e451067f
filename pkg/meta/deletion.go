package meta

import (
	"bytes"

	bolt "go.etcd.io/bbolt"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Deleting a repository takes many transactions, so that a large one never
// holds the database (and its writers) for long:
//
//  1. StartDeleteRepository moves the record to the deletion bucket in one
//     transaction: the repository is gone for writes
//     (PutAssetRequest.RequireRepository) and the marker survives a crash.
//  2. DeleteRepositoryContent, repeated, deletes a bounded batch of assets.
//  3. FinishDeleteRepository removes the marker.
//
// DeletingRepositories lists the markers, so start-up finishes what a crash
// interrupted.

// StartDeleteRepository takes the repository out of the stored configuration
// and marks it as being deleted, or returns errs.NotFound.
func (db *DB) StartDeleteRepository(repo string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		repos := tx.Bucket(bucketRepositories)
		cfg := repos.Get([]byte(repo))
		if cfg == nil {
			return notFound("repository", repo)
		}
		if err := tx.Bucket(bucketDeleting).Put([]byte(repo), cfg); err != nil {
			return err
		}
		if err := recordEvent(tx, Event{Type: EventRepository, Action: ActionDeleted, Repository: repo,
			Initiator: db.initiatorName(), Config: cfg}); err != nil {
			return err
		}
		return repos.Delete([]byte(repo))
	})
}

// DeletingRepositories returns the names of repositories whose deletion was
// started and not finished.
func (db *DB) DeletingRepositories() ([]string, error) {
	var out []string
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeleting).ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	return out, err
}

// DeleteRepositoryContent deletes at most limit assets of repo (and the
// components they empty) in one transaction. It returns the digests that
// lost their last reference, which the caller must release, and whether
// assets are left.
func (db *DB) DeleteRepositoryContent(repo string, limit int) (released []BlobRef, more bool, err error) {
	if limit <= 0 {
		return nil, false, errs.New(errs.Invalid, "batch limit %d", limit)
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		prefix := assetPathKey(repo, "")
		var ids [][]byte
		c := tx.Bucket(bucketAssetPaths).Cursor()
		k, v := c.Seek(prefix)
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(ids) < limit; k, v = c.Next() {
			ids = append(ids, bytes.Clone(v))
		}
		more = k != nil && bytes.HasPrefix(k, prefix)
		released, err = deleteAssets(tx, ids, "") // the repository's own event reports them
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return released, more, nil
}

// FinishDeleteRepository removes the deletion marker of repo.
func (db *DB) FinishDeleteRepository(repo string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeleting).Delete([]byte(repo))
	})
}
