package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ReconcileBlobRefs recounts, in one transaction, every blob's references
// from the assets that name it (store and digest), and corrects the records
// that disagree (a record missing for an asset is made again, from the
// asset), and each store's usage totals. It returns how many records it
// corrected and the blobs nothing references any more, which the caller
// releases from their stores.
func (db *DB) ReconcileBlobRefs() (fixed int, released []BlobRef, err error) {
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		fixed, released = 0, nil
		refs := map[BlobRef]*Blob{}
		if err := tx.Bucket(bucketAssets).ForEach(func(_, v []byte) error {
			var a Asset
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			ref := BlobRef{Store: a.BlobStore, Digest: a.Blob}
			if rec := refs[ref]; rec != nil {
				rec.Refs++
			} else {
				refs[ref] = &Blob{Digest: a.Blob, Size: a.Size, Refs: 1, Checksums: a.Checksums, Created: a.Created}
			}
			return nil
		}); err != nil {
			return err
		}
		b := tx.Bucket(bucketBlobs)
		type stored struct {
			ref BlobRef
			rec Blob
		}
		var recs []stored
		if err := b.ForEach(func(k, v []byte) error {
			var rec Blob
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			store, _, _ := bytes.Cut(k, []byte{0})
			recs = append(recs, stored{BlobRef{Store: string(store), Digest: rec.Digest}, rec})
			return nil
		}); err != nil {
			return err
		}
		for _, s := range recs {
			want := int64(0)
			if counted := refs[s.ref]; counted != nil {
				want = counted.Refs
				delete(refs, s.ref)
			}
			if want == 0 {
				released = append(released, s.ref)
			}
			if s.rec.Refs == want {
				continue
			}
			fixed++
			s.rec.Refs = want
			if err := putJSON(b, blobKey(s.ref.Store, s.ref.Digest), &s.rec); err != nil {
				return err
			}
		}
		for ref, rec := range refs {
			fixed++
			if rec.Created.IsZero() {
				rec.Created = time.Now().UTC()
			}
			if err := putJSON(b, blobKey(ref.Store, ref.Digest), rec); err != nil {
				return err
			}
		}
		return recountBlobUsage(tx)
	})
	return fixed, released, err
}

// recountBlobUsage sets every store's totals from its blob records.
func recountBlobUsage(tx *bolt.Tx) error {
	type total struct{ count, bytes int64 }
	totals := map[string]*total{}
	if err := tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
		var rec Blob
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		store, _, _ := bytes.Cut(k, []byte{0})
		t := totals[string(store)]
		if t == nil {
			t = &total{}
			totals[string(store)] = t
		}
		t.count++
		t.bytes += rec.Size
		return nil
	}); err != nil {
		return err
	}
	sys := tx.Bucket(bucketSystem)
	prefix := blobUsageKey("")
	var stale [][]byte
	c := sys.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		stale = append(stale, append([]byte(nil), k...))
	}
	for _, k := range stale {
		if err := sys.Delete(k); err != nil {
			return err
		}
	}
	for store, t := range totals {
		v := binary.BigEndian.AppendUint64(nil, uint64(t.count))
		if err := sys.Put(blobUsageKey(store), binary.BigEndian.AppendUint64(v, uint64(t.bytes))); err != nil {
			return err
		}
	}
	return nil
}
