package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/keylock"
	"github.com/opencontainers/go-digest"
)

// Store is a named content-addressed blob store over a Driver. It hashes and
// verifies what it writes, and serializes commits and releases of the same
// digest so that reference bookkeeping in callers cannot race with deletion.
type Store struct {
	name  string
	d     Driver
	locks keylock.Map

	// ulocks serialises the calls on one upload. uploads holds the sha256
	// state of uploads this Store has touched, so that committing one
	// needs no second read; an entry is read and written only under its
	// id's ulock, and mu guards the map itself.
	ulocks  keylock.Map
	mu      sync.Mutex
	uploads map[string]*uploadState

	minFree atomic.Int64 // see SetMinFree
}

// NewStore returns a Store named name over d.
func NewStore(name string, d Driver) *Store {
	return &Store{name: name, d: d}
}

// Name returns the store's name.
func (s *Store) Name() string { return s.name }

// PutOptions tune a Put. Note that the zero value demands an empty stream:
// set ExpectedSize to -1 when the length is unknown.
type PutOptions struct {
	// Algorithms lists checksums to compute while streaming, besides
	// sha256, which is always computed.
	Algorithms []Algorithm
	// Expected, if set, is the digest the content must have (sha256 or
	// sha512); on mismatch Put returns errs.Invalid and commits nothing.
	Expected digest.Digest
	// ExpectedSize, if >= 0, is the exact length the stream must have;
	// otherwise Put returns errs.Invalid and commits nothing. Negative
	// means unknown.
	ExpectedSize int64
	// MaxSize, if > 0, caps the stream; a longer one makes Put return
	// errs.TooLarge and commit nothing.
	MaxSize int64
	// Tail, if set, lets readers follow the write as it happens.
	Tail *Tail
	// Verify, if set, is a last check of the bytes by their size and
	// checksums, before any reader may see the end of them or they are
	// committed; its error is Put's, and nothing is committed.
	Verify func(Info) error
}

// copyBufSize is the chunk size for streaming; larger than io.Copy's 32 KiB
// default to cut per-chunk overhead in the hashes and syscalls.
const copyBufSize = 256 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// Put streams r into a temporary write while computing, in one pass, sha256
// and the requested checksums. It then verifies size and digest and, holding
// the digest's lock, commits the blob and calls onCommit (if not nil), which
// is where callers record their reference to it. If onCommit fails, Put
// returns its error and the committed blob stays for the orphan sweep. A read
// error from r (a hung-up or truncated upload) commits nothing; it is
// returned as is if it already has an errs kind, and as errs.Invalid
// otherwise (errs.TooLarge for *http.MaxBytesError).
func (s *Store) Put(ctx context.Context, r io.Reader, opts PutOptions, onCommit func(Info) error) (_ Info, err error) {
	// A write that fails before it begins ends its tail too: readers
	// already following it (a proxy's clients) must hear why.
	failed := func(err error) (Info, error) {
		if opts.Tail != nil {
			opts.Tail.end(err)
		}
		return Info{}, err
	}
	hashes, expAlg, err := opts.hashes()
	if err != nil {
		return failed(err)
	}
	if opts.MaxSize > 0 && opts.ExpectedSize > opts.MaxSize {
		return failed(errs.New(errs.TooLarge, "blob of %d bytes exceeds the limit of %d", opts.ExpectedSize, opts.MaxSize))
	}

	w, err := s.d.Create(ctx)
	if err != nil {
		return failed(err)
	}
	defer w.Cancel() // no-op once committed
	var dst io.Writer = w
	if t := opts.Tail; t != nil {
		t.attach(openTempReader(w))
		defer func() { t.end(err) }()
		dst = &tailWriter{w: w, t: t}
	}

	// Read at most one byte past any bound, enough to tell that the
	// stream overran without swallowing an unbounded one.
	var src io.Reader = &ctxReader{ctx: ctx, r: r}
	limit := int64(-1)
	if opts.MaxSize > 0 {
		limit = opts.MaxSize + 1
	}
	if opts.ExpectedSize >= 0 && (limit < 0 || opts.ExpectedSize+1 < limit) {
		limit = opts.ExpectedSize + 1
	}
	if limit >= 0 {
		src = io.LimitReader(src, limit)
	}
	// Tell read errors from write errors: they are the client's fault, not ours.
	er := &errReader{r: src}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(hashingWriter(dst, hashes), er, *buf)
	copyBufs.Put(buf)
	if er.err != nil {
		return Info{}, readError(er.err)
	}
	if err != nil {
		return Info{}, errs.Wrap(errs.Internal, err, "writing blob")
	}

	if opts.MaxSize > 0 && n > opts.MaxSize {
		return Info{}, errs.New(errs.TooLarge, "blob exceeds the limit of %d bytes", opts.MaxSize)
	}
	if opts.ExpectedSize >= 0 && n != opts.ExpectedSize {
		return Info{}, errs.New(errs.Invalid, "size mismatch: expected %d bytes, got %d", opts.ExpectedSize, n)
	}
	info := Info{Size: n, Checksums: make(map[Algorithm]string, len(hashes))}
	for alg, h := range hashes {
		info.Checksums[alg] = hex.EncodeToString(h.Sum(nil))
	}
	info.Digest = digest.NewDigestFromEncoded(digest.SHA256, info.Checksums[SHA256])
	if expAlg != "" {
		if got := info.Checksums[expAlg]; got != opts.Expected.Encoded() {
			return Info{}, errs.New(errs.Invalid, "digest mismatch: expected %s, got %s:%s", opts.Expected, expAlg, got)
		}
		if !opts.wants(expAlg) {
			delete(info.Checksums, expAlg) // computed only to verify
		}
	}
	if opts.Verify != nil {
		if err := opts.Verify(info); err != nil {
			return Info{}, err
		}
	}
	if opts.Tail != nil {
		opts.Tail.verify(func(ctx context.Context) (ReadSeekCloser, error) { return s.Open(ctx, info.Digest) })
	}

	return s.commit(ctx, w, info, onCommit)
}

// commit makes w's bytes the blob info.Digest and calls onCommit, both
// under the digest's lock, so that recording the reference cannot race a
// Release of the same digest.
func (s *Store) commit(ctx context.Context, w TempWriter, info Info, onCommit func(Info) error) (Info, error) {
	key := info.Digest.Encoded()
	unlock := s.locks.Lock(key)
	defer unlock()
	if err := w.Commit(ctx, key); err != nil {
		return Info{}, err
	}
	if onCommit != nil {
		if err := onCommit(info); err != nil {
			return Info{}, err
		}
	}
	return info, nil
}

// hashes returns a hash for sha256, each requested algorithm and the
// algorithm of Expected, plus that algorithm ("" if Expected is unset).
func (o PutOptions) hashes() (map[Algorithm]hash.Hash, Algorithm, error) {
	hs := map[Algorithm]hash.Hash{SHA256: sha256.New()}
	add := func(alg Algorithm) error {
		if _, ok := hs[alg]; ok {
			return nil
		}
		h, ok := alg.NewHash()
		if !ok {
			return errs.New(errs.Invalid, "unknown checksum algorithm %q", alg)
		}
		hs[alg] = h
		return nil
	}
	for _, alg := range o.Algorithms {
		if err := add(alg); err != nil {
			return nil, "", err
		}
	}
	var expAlg Algorithm
	if o.Expected != "" {
		alg, err := expectedAlg(o.Expected)
		if err != nil {
			return nil, "", err
		}
		if err := add(alg); err != nil {
			return nil, "", err
		}
		expAlg = alg
	}
	return hs, expAlg, nil
}

// expectedAlg returns the algorithm of an expected digest, which must be a
// valid sha256 or sha512 digest.
func expectedAlg(d digest.Digest) (Algorithm, error) {
	if err := d.Validate(); err != nil {
		return "", errs.Wrap(errs.Invalid, err, "invalid expected digest %q", d)
	}
	switch d.Algorithm() {
	case digest.SHA256:
		return SHA256, nil
	case digest.SHA512:
		return SHA512, nil
	}
	return "", errs.New(errs.Invalid, "unsupported digest algorithm %q", d.Algorithm())
}

func (o PutOptions) wants(alg Algorithm) bool {
	if alg == SHA256 {
		return true
	}
	for _, a := range o.Algorithms {
		if a == alg {
			return true
		}
	}
	return false
}

func readError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errs.KindOf(err) != errs.Internal:
		return err
	case errors.As(err, &mbe):
		return errs.Wrap(errs.TooLarge, err, "blob exceeds the limit of %d bytes", mbe.Limit)
	}
	return errs.Wrap(errs.Invalid, err, "reading blob content")
}

// Release deletes blob d if it is unreferenced: holding d's lock, it calls
// unreferenced and deletes the bytes if that returns true. Serializing with
// Put's commit+onCommit means a reference recorded by a concurrent Put is
// either seen by unreferenced or made after the delete, when Put has
// written the blob anew.
func (s *Store) Release(ctx context.Context, d digest.Digest, unreferenced func() (bool, error)) error {
	key, err := keyOf(d)
	if err != nil {
		return err
	}
	unlock := s.locks.Lock(key)
	defer unlock()
	ok, err := unreferenced()
	if err != nil || !ok {
		return err
	}
	return s.d.Delete(ctx, key)
}

// Open returns the content of blob d; errs.NotFound if absent.
func (s *Store) Open(ctx context.Context, d digest.Digest) (ReadSeekCloser, error) {
	key, err := keyOf(d)
	if err != nil {
		return nil, err
	}
	return s.d.Open(ctx, key)
}

// Stat returns the size of blob d; errs.NotFound if absent.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	key, err := keyOf(d)
	if err != nil {
		return 0, err
	}
	return s.d.Stat(ctx, key)
}

// Checksums computes the algs checksums of blob d, for checksums nobody
// asked for at write time: all in one read of the blob (sha256, its key,
// in none).
func (s *Store) Checksums(ctx context.Context, d digest.Digest, algs []Algorithm) (map[Algorithm]string, error) {
	key, err := keyOf(d)
	if err != nil {
		return nil, err
	}
	out := make(map[Algorithm]string, len(algs))
	hashes := make(map[Algorithm]hash.Hash, len(algs))
	for _, alg := range algs {
		h, ok := alg.NewHash()
		switch {
		case !ok:
			return nil, errs.New(errs.Invalid, "unknown checksum algorithm %q", alg)
		case alg == SHA256:
			out[alg] = key
		default:
			hashes[alg] = h
		}
	}
	if len(hashes) == 0 {
		// Just check the blob exists.
		if _, err := s.d.Stat(ctx, key); err != nil {
			return nil, err
		}
		return out, nil
	}
	rc, err := s.d.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(hashingWriter(io.Discard, hashes), &ctxReader{ctx: ctx, r: rc}, *buf); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "reading blob %s", d)
	}
	for alg, h := range hashes {
		out[alg] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
}

// Walk calls fn for every committed blob.
func (s *Store) Walk(ctx context.Context, fn func(d digest.Digest, size int64, modTime time.Time) error) error {
	return s.d.Walk(ctx, func(key string, size int64, modTime time.Time) error {
		return fn(digest.NewDigestFromEncoded(digest.SHA256, key), size, modTime)
	})
}

// CleanTemp removes temporary writes older than age and returns how many.
func (s *Store) CleanTemp(ctx context.Context, age time.Duration) (int, error) {
	return s.d.CleanTemp(ctx, age)
}

// Space returns the bytes available to the store, or -1 if unknown.
func (s *Store) Space(ctx context.Context) (int64, error) {
	return s.d.Space(ctx)
}

// MinFree is the free space at or below which SpaceLow reports the store
// short of space.
func (s *Store) MinFree() int64 { return s.minFree.Load() }

// Writable checks that the store takes writes now: it starts a temporary
// write of one byte and discards it, as a health check (nothing is
// committed, nothing fsynced).
func (s *Store) Writable(ctx context.Context) error {
	w, err := s.d.Create(ctx)
	if err != nil {
		return err
	}
	_, err = w.Write([]byte{0})
	if cerr := w.Cancel(); err == nil {
		err = cerr
	}
	return err
}

// SetMinFree sets the free space at or below which SpaceLow reports the
// store as short of space (0: only when none is left).
func (s *Store) SetMinFree(bytes int64) { s.minFree.Store(bytes) }

// SpaceLow returns the bytes available and whether they are at or below
// the store's minimum; unknown space is never low.
func (s *Store) SpaceLow(ctx context.Context) (free int64, low bool, err error) {
	free, err = s.d.Space(ctx)
	if err != nil {
		return free, false, err
	}
	return free, free >= 0 && free <= s.minFree.Load(), nil
}

// keyOf returns the driver key of d, which must be a valid sha256 digest.
func keyOf(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
		return "", errs.New(errs.Invalid, "invalid blob digest %q: want sha256", d)
	}
	return d.Encoded(), nil
}

// ctxReader stops a copy promptly once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// errReader remembers the first non-EOF error of r.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}
