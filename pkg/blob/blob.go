// Package blob is a content-addressed blob store. Blobs are keyed by the
// lowercase hex of their sha256 and written through a small Driver: a write
// goes to a temporary object and becomes visible only once it is complete,
// verified and durable, so a crash or a dropped upload never leaves a partial
// blob behind.
package blob

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"io"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Algorithm names a checksum algorithm.
type Algorithm string

// The checksum algorithms a Store can compute.
const (
	SHA256 Algorithm = "sha256"
	SHA1   Algorithm = "sha1"
	MD5    Algorithm = "md5"
	SHA512 Algorithm = "sha512"
)

// NewHash returns a fresh hash for alg, or false if alg is unknown.
func (a Algorithm) NewHash() (hash.Hash, bool) {
	switch a {
	case SHA256:
		return sha256.New(), true
	case SHA1:
		return sha1.New(), true
	case MD5:
		return md5.New(), true
	case SHA512:
		return sha512.New(), true
	}
	return nil, false
}

// Size is the length in bytes of alg's digests, 0 if alg is unknown.
func (a Algorithm) Size() int {
	if h, ok := a.NewHash(); ok {
		return h.Size()
	}
	return 0
}

// ParseChecksumFile reads the digest of a checksum file of alg: its first
// field (sha1sum's "<hex>  <name>" and bare digests alike), in lower case;
// "" if it is not one.
func ParseChecksumFile(s string, alg Algorithm) string {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return ""
	}
	sum := strings.ToLower(fields[0])
	if b, err := hex.DecodeString(sum); err != nil || len(b) != alg.Size() {
		return ""
	}
	return sum
}

// Info describes a committed blob.
type Info struct {
	// Digest is always the sha256 digest, "sha256:<hex>".
	Digest digest.Digest
	// Size is the length of the blob in bytes.
	Size int64
	// Checksums holds lowercase hex checksums keyed by algorithm. It always
	// includes SHA256, plus whatever PutOptions.Algorithms asked for.
	Checksums map[Algorithm]string
}

// ReadSeekCloser is what opening a blob returns.
type ReadSeekCloser = io.ReadSeekCloser

// Driver stores bytes under keys, which are the lowercase hex of a sha256.
// It is deliberately small so that backends other than the filesystem (such
// as S3-compatible object stores) are easy to add.
type Driver interface {
	// Create starts a temporary write; nothing is visible under any key until Commit.
	Create(ctx context.Context) (TempWriter, error)
	// Open returns the committed bytes of key; errs.NotFound if absent.
	Open(ctx context.Context, key string) (ReadSeekCloser, error)
	// Stat returns the size of key; errs.NotFound if absent.
	Stat(ctx context.Context, key string) (int64, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// Walk calls fn for every committed key. An error from fn stops the
	// walk and is returned.
	Walk(ctx context.Context, fn func(key string, size int64, modTime time.Time) error) error
	// CleanTemp removes temporary writes older than age (orphans of a crash)
	// and returns how many it removed.
	CleanTemp(ctx context.Context, age time.Duration) (int, error)
	// Space returns the bytes available to the store, or -1 if unknown.
	Space(ctx context.Context) (int64, error)

	// Resume opens upload id for appending, creating it empty if absent,
	// and returns its current size. Uploads are resumable writes that
	// outlive a request and a restart; CleanTemp leaves them alone. Ids are
	// lowercase canonical uuids, and drivers must reject any other with
	// errs.Invalid before touching storage.
	Resume(ctx context.Context, id string) (w UploadWriter, size int64, err error)
	// Uploads calls fn for every upload. An error from fn stops the
	// listing and is returned.
	Uploads(ctx context.Context, fn func(id string, size int64, modTime time.Time) error) error
	// OpenUpload returns the bytes of upload id so far; errs.NotFound if absent.
	OpenUpload(ctx context.Context, id string) (ReadSeekCloser, error)
}

// TempWriter is a temporary write started by Driver.Create.
type TempWriter interface {
	io.Writer
	// Commit makes the written bytes durable (fsync) and visible under key
	// (rename). If key already exists the temp is discarded (dedupe).
	Commit(ctx context.Context, key string) error
	// Cancel discards the temp write; it is safe to call after Commit (a
	// no-op then) and more than once.
	Cancel() error
}

// UploadWriter is an open upload, returned by Driver.Resume. Writes append.
// Commit makes the upload durable and moves it under key without copying
// (dedupe as for TempWriter; a failed Commit keeps the upload so the client
// can retry); Cancel deletes the upload.
type UploadWriter interface {
	TempWriter
	// Truncate cuts the upload back to size bytes, to undo a failed append.
	Truncate(size int64) error
	// Close releases the writer and keeps the upload for a later Resume.
	// After Close, Commit fails and Cancel is a no-op; Close after Commit
	// or Cancel is a no-op.
	Close() error
}

// validKey reports whether key is exactly 64 lowercase hex characters. Drivers
// must check it before touching storage: it is what keeps a key from ever
// naming a path outside the store.
func validKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validUploadID reports whether id is a canonical lowercase uuid
// (8-4-4-4-12 hex digits). Like validKey, it keeps an id from naming a
// path outside the store.
func validUploadID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}
