package meta

import (
	"encoding/json"
	"time"

	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// ReconcileBlobRefs recounts, in one transaction, every blob's references
// from the assets that name it, and corrects the records that disagree (a
// record missing for an asset is made again, from the asset), and the usage
// totals. It returns how many records it corrected and the digests nothing
// references any more, which the caller releases from the blob store.
func (db *DB) ReconcileBlobRefs() (fixed int, released []digest.Digest, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		fixed, released = 0, nil
		refs := map[digest.Digest]*Blob{}
		if err := tx.Bucket(bucketAssets).ForEach(func(_, v []byte) error {
			var a Asset
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if rec := refs[a.Blob]; rec != nil {
				rec.Refs++
			} else {
				refs[a.Blob] = &Blob{Digest: a.Blob, Size: a.Size, Refs: 1, Checksums: a.Checksums, Created: a.Created}
			}
			return nil
		}); err != nil {
			return err
		}
		b := tx.Bucket(bucketBlobs)
		var recs []Blob
		if err := b.ForEach(func(_, v []byte) error {
			var rec Blob
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			recs = append(recs, rec)
			return nil
		}); err != nil {
			return err
		}
		for _, rec := range recs {
			want := int64(0)
			if counted := refs[rec.Digest]; counted != nil {
				want = counted.Refs
				delete(refs, rec.Digest)
			}
			if want == 0 {
				released = append(released, rec.Digest)
			}
			if rec.Refs == want {
				continue
			}
			fixed++
			rec.Refs = want
			if err := putJSON(b, blobKey(rec.Digest), &rec); err != nil {
				return err
			}
		}
		for _, rec := range refs {
			fixed++
			if rec.Created.IsZero() {
				rec.Created = time.Now().UTC()
			}
			if err := putJSON(b, blobKey(rec.Digest), rec); err != nil {
				return err
			}
		}
		return countBlobs(tx)
	})
	return fixed, released, err
}
