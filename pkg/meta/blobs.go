package meta

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"maps"
	"time"

	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// Blob is the record of stored bytes in one blob store: their size,
// checksums and how many assets reference them.
type Blob struct {
	Digest    digest.Digest     `json:"digest"`
	Size      int64             `json:"size"`
	Refs      int64             `json:"refs"`
	Checksums map[string]string `json:"checksums"`
	Created   time.Time         `json:"created"`
}

// BlobRef names a blob: its store and digest.
type BlobRef struct {
	Store  string
	Digest digest.Digest
}

// BlobRecord returns the record of digest d in store, or errs.NotFound.
func (db *DB) BlobRecord(store string, d digest.Digest) (*Blob, error) {
	var rec Blob
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucketBlobs), blobKey(store, d), &rec)
		return err
	})
	if err == nil && !found {
		err = notFound("blob", store+"/"+d.String())
	}
	return &rec, err
}

// SetBlobChecksums stores checksums computed after the write (algorithm to
// hex value), on the blob and on every asset that will be read from now on.
func (db *DB) SetBlobChecksums(store string, d digest.Digest, sums map[string]string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		var rec Blob
		found, err := getJSON(b, blobKey(store, d), &rec)
		if err != nil || !found {
			return err
		}
		if rec.Checksums == nil {
			rec.Checksums = map[string]string{}
		}
		maps.Copy(rec.Checksums, sums)
		return putJSON(b, blobKey(store, d), &rec)
	})
}

// ReleaseBlob deletes the record of d in store if nothing references it and
// reports whether it did; the caller then frees the bytes.
func (db *DB) ReleaseBlob(store string, d digest.Digest) (bool, error) {
	var released bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		var rec Blob
		found, err := getJSON(b, blobKey(store, d), &rec)
		if err != nil {
			return err
		}
		if found && rec.Refs > 0 {
			return nil
		}
		released = true
		if found {
			if err := addBlobUsage(tx, store, -1, -rec.Size); err != nil {
				return err
			}
		}
		return b.Delete(blobKey(store, d))
	})
	return released, err
}

// Each store's record count and total size are kept in the transactions
// that create and delete records, so BlobUsage is one lookup, whatever the
// store holds.
func blobUsageKey(store string) []byte { return []byte("blob_usage\x00" + store) }

func decodeBlobUsage(v []byte) (count, bytes int64) {
	if len(v) != 16 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))
}

// addBlobUsage adds count records of bytes to store's totals.
func addBlobUsage(tx *bolt.Tx, store string, count, bytes int64) error {
	b := tx.Bucket(bucketSystem)
	c, n := decodeBlobUsage(b.Get(blobUsageKey(store)))
	v := binary.BigEndian.AppendUint64(nil, uint64(c+count))
	return b.Put(blobUsageKey(store), binary.BigEndian.AppendUint64(v, uint64(n+bytes)))
}

// BlobUsage returns the number of blob records of store and their total size.
func (db *DB) BlobUsage(store string) (count, bytes int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		count, bytes = decodeBlobUsage(tx.Bucket(bucketSystem).Get(blobUsageKey(store)))
		return nil
	})
	return count, bytes, err
}

// UnreferencedBlobs returns the blobs of store with no reference left; a
// crash between a delete and the release of its bytes leaves such records
// behind.
func (db *DB) UnreferencedBlobs(store string) ([]digest.Digest, error) {
	var out []digest.Digest
	err := db.bolt.View(func(tx *bolt.Tx) error {
		prefix := []byte(store + "\x00")
		c := tx.Bucket(bucketBlobs).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var rec Blob
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Refs <= 0 {
				out = append(out, rec.Digest)
			}
		}
		return nil
	})
	return out, err
}

// HasBlob reports whether d has a record in store.
func (db *DB) HasBlob(store string, d digest.Digest) (bool, error) {
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketBlobs).Get(blobKey(store, d)) != nil
		return nil
	})
	return ok, err
}
