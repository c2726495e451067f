package meta

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"time"

	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
)

// Blob is the record of stored bytes: their size, checksums and how many
// assets reference them.
type Blob struct {
	Digest    digest.Digest     `json:"digest"`
	Size      int64             `json:"size"`
	Refs      int64             `json:"refs"`
	Checksums map[string]string `json:"checksums"`
	Created   time.Time         `json:"created"`
}

// BlobRecord returns the record of digest d, or errs.NotFound.
func (db *DB) BlobRecord(d digest.Digest) (*Blob, error) {
	var rec Blob
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) (err error) {
		found, err = getJSON(tx.Bucket(bucketBlobs), blobKey(d), &rec)
		return err
	})
	if err == nil && !found {
		err = notFound("blob", d.String())
	}
	return &rec, err
}

// SetBlobChecksums stores checksums computed after the write (algorithm to
// hex value), on the blob and on every asset that will be read from now on.
func (db *DB) SetBlobChecksums(d digest.Digest, sums map[string]string) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		var rec Blob
		found, err := getJSON(b, blobKey(d), &rec)
		if err != nil || !found {
			return err
		}
		if rec.Checksums == nil {
			rec.Checksums = map[string]string{}
		}
		maps.Copy(rec.Checksums, sums)
		return putJSON(b, blobKey(d), &rec)
	})
}

// ReleaseBlob deletes the record of d if nothing references it and reports
// whether it did; the caller then frees the bytes.
func (db *DB) ReleaseBlob(d digest.Digest) (bool, error) {
	var released bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		var rec Blob
		found, err := getJSON(b, blobKey(d), &rec)
		if err != nil {
			return err
		}
		if found && rec.Refs > 0 {
			return nil
		}
		released = true
		if found {
			if err := addBlobUsage(tx, -1, -rec.Size); err != nil {
				return err
			}
		}
		return b.Delete(blobKey(d))
	})
	return released, err
}

// The blob records' count and total size are kept in the transactions
// that create and delete records, so BlobUsage is one lookup, whatever the
// store holds.
var keyBlobUsage = []byte("blob_usage")

func decodeBlobUsage(v []byte) (count, bytes int64) {
	if len(v) != 16 {
		return 0, 0
	}
	return int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:]))
}

// addBlobUsage adds count records of bytes to the totals.
func addBlobUsage(tx *bolt.Tx, count, bytes int64) error {
	b := tx.Bucket(bucketSystem)
	c, n := decodeBlobUsage(b.Get(keyBlobUsage))
	v := binary.BigEndian.AppendUint64(nil, uint64(c+count))
	return b.Put(keyBlobUsage, binary.BigEndian.AppendUint64(v, uint64(n+bytes)))
}

// BlobUsage returns the number of blob records and their total size.
func (db *DB) BlobUsage() (count, bytes int64, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		count, bytes = decodeBlobUsage(tx.Bucket(bucketSystem).Get(keyBlobUsage))
		return nil
	})
	return count, bytes, err
}

// countBlobs computes the totals from the stored records, for a database
// from before they were kept (schema 3).
func countBlobs(tx *bolt.Tx) error {
	if err := tx.Bucket(bucketSystem).Delete(keyBlobUsage); err != nil {
		return err
	}
	var count, bytes int64
	if err := tx.Bucket(bucketBlobs).ForEach(func(_, v []byte) error {
		var rec Blob
		if err := json.Unmarshal(v, &rec); err != nil {
			return err
		}
		count++
		bytes += rec.Size
		return nil
	}); err != nil {
		return err
	}
	return addBlobUsage(tx, count, bytes)
}

// UnreferencedBlobs returns blobs with no reference left; a crash between a
// delete and the release of its bytes leaves such records behind.
func (db *DB) UnreferencedBlobs() ([]digest.Digest, error) {
	var out []digest.Digest
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(_, v []byte) error {
			var rec Blob
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if rec.Refs <= 0 {
				out = append(out, rec.Digest)
			}
			return nil
		})
	})
	return out, err
}

// HasBlob reports whether d has a record.
func (db *DB) HasBlob(d digest.Digest) (bool, error) {
	var ok bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketBlobs).Get(blobKey(d)) != nil
		return nil
	})
	return ok, err
}
