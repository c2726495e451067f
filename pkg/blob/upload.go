package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/opencontainers/go-digest"
)

// RangeError is returned by AppendUpload when a chunk does not start where
// the upload ends. Size is how many bytes the upload holds, which a registry
// reports in its 416 response's Range header. It is of kind errs.Conflict
// (the request is well-formed but disagrees with the server's state, as when
// two appends race), so errs.KindOf and errors.Is(err, errs.ErrConflict)
// see it; use errors.As to get Size.
type RangeError struct {
	Size int64
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("upload offset mismatch: the upload holds %d bytes", e.Size)
}

// Unwrap gives the error its errs kind.
func (e *RangeError) Unwrap() error {
	return &errs.Error{Kind: errs.Conflict, Message: e.Error()}
}

// uploadState is the sha256 of an upload's first size bytes, which, when
// size matches the upload's length, is the digest of the whole upload.
type uploadState struct {
	h    hash.Hash
	size int64
}

func checkUploadID(id string) error {
	if !validUploadID(id) {
		return errs.New(errs.Invalid, "invalid upload id %q", id)
	}
	return nil
}

// NewUpload starts an empty upload and returns its id, a uuid.
func (s *Store) NewUpload(ctx context.Context) (string, error) {
	id := uuid.NewString()
	w, _, err := s.d.Resume(ctx, id)
	if err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	s.setState(id, &uploadState{h: sha256.New()})
	return id, nil
}

// UploadSize returns how many bytes upload id holds; errs.NotFound if there
// is no such upload.
func (s *Store) UploadSize(ctx context.Context, id string) (int64, error) {
	if err := checkUploadID(id); err != nil {
		return 0, err
	}
	// Wait out an append in progress, whose bytes may yet be truncated away.
	unlock := s.ulocks.Lock(id)
	defer unlock()
	return s.uploadSize(ctx, id)
}

// AppendUpload appends r to upload id and returns the upload's new size.
// offset must be the current size, else AppendUpload returns a *RangeError.
// If maxSize > 0 and the upload would grow past it, AppendUpload returns
// errs.TooLarge. The chunk is hashed as it is written. If reading r or
// writing fails, the upload is cut back to its previous size, so a chunk is
// appended whole or not at all, and a read error is returned as Put returns
// one (errs.Invalid unless it has a kind). Appends to one upload are
// serialised, so of two at the same offset one gets a *RangeError.
func (s *Store) AppendUpload(ctx context.Context, id string, offset int64, r io.Reader, maxSize int64) (int64, error) {
	if err := checkUploadID(id); err != nil {
		return 0, err
	}
	unlock := s.ulocks.Lock(id)
	defer unlock()
	w, st, err := s.resume(ctx, id)
	if err != nil {
		return 0, err
	}
	defer w.Close()
	size := st.size
	if offset != size {
		return 0, &RangeError{Size: size}
	}

	// Read at most one byte past the limit, enough to tell that the chunk
	// overran without swallowing an unbounded one.
	var src io.Reader = &ctxReader{ctx: ctx, r: r}
	if maxSize > 0 {
		src = io.LimitReader(src, maxSize-size+1)
	}
	er := &errReader{r: src}
	buf := copyBufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.MultiWriter(w, st.h), er, *buf)
	copyBufs.Put(buf)
	switch {
	case er.err != nil:
		err = readError(er.err)
	case err != nil:
		err = errs.Wrap(errs.Internal, err, "writing upload")
	case maxSize > 0 && size+n > maxSize:
		err = errs.New(errs.TooLarge, "upload exceeds the limit of %d bytes", maxSize)
	}
	if err != nil {
		// The hash has taken in the bytes being cut off. Rather than snapshot
		// it before every append, forget it: the next call re-hashes the file.
		s.setState(id, nil)
		if terr := w.Truncate(size); terr != nil {
			return 0, errors.Join(err, terr)
		}
		return 0, err
	}
	st.size += n
	return st.size, nil
}

// CommitUpload verifies upload id against expected, a sha256 or sha512
// digest, and, holding the digest's lock, moves it into the store and calls
// onCommit (if not nil), as Put does. Info.Checksums has sha256 and algs.
// The sha256 comes from the state AppendUpload kept, or from re-reading the
// upload if there is none (after a restart); sha512 and the other algs cost a
// read of the upload. On a digest mismatch CommitUpload returns errs.Invalid
// and keeps the upload, which the client may still append to or cancel.
func (s *Store) CommitUpload(ctx context.Context, id string, expected digest.Digest, algs []Algorithm, onCommit func(Info) error) (Info, error) {
	if err := checkUploadID(id); err != nil {
		return Info{}, err
	}
	expAlg, err := expectedAlg(expected)
	if err != nil {
		return Info{}, err
	}
	// Hashes other than sha256 are computed by reading the upload.
	extra := map[Algorithm]hash.Hash{}
	for _, alg := range slices.Concat(algs, []Algorithm{expAlg}) {
		h, ok := alg.NewHash()
		if !ok {
			return Info{}, errs.New(errs.Invalid, "unknown checksum algorithm %q", alg)
		}
		if alg != SHA256 {
			extra[alg] = h
		}
	}

	unlock := s.ulocks.Lock(id)
	defer unlock()
	w, st, err := s.resume(ctx, id)
	if err != nil {
		return Info{}, err
	}
	defer w.Close() // no-op once committed
	info := Info{Size: st.size, Checksums: map[Algorithm]string{SHA256: hex.EncodeToString(st.h.Sum(nil))}}
	if len(extra) > 0 {
		ws := make([]io.Writer, 0, len(extra))
		for _, h := range extra {
			ws = append(ws, h)
		}
		if err := s.readUpload(ctx, id, io.MultiWriter(ws...)); err != nil {
			return Info{}, err
		}
		for alg, h := range extra {
			info.Checksums[alg] = hex.EncodeToString(h.Sum(nil))
		}
	}
	if got := info.Checksums[expAlg]; got != expected.Encoded() {
		return Info{}, errs.New(errs.Invalid, "digest mismatch: expected %s, got %s:%s", expected, expAlg, got)
	}
	if expAlg != SHA256 && !slices.Contains(algs, expAlg) {
		delete(info.Checksums, expAlg) // computed only to verify
	}
	info.Digest = digest.NewDigestFromEncoded(digest.SHA256, info.Checksums[SHA256])

	// Whether or not the commit takes the upload away, this state is done
	// with: were the upload kept, the next call re-hashes it.
	s.setState(id, nil)
	return s.commit(ctx, w, info, onCommit)
}

// CancelUpload deletes upload id; errs.NotFound if there is no such upload.
func (s *Store) CancelUpload(ctx context.Context, id string) error {
	if err := checkUploadID(id); err != nil {
		return err
	}
	unlock := s.ulocks.Lock(id)
	defer unlock()
	if _, err := s.uploadSize(ctx, id); err != nil {
		return err
	}
	return s.deleteUpload(ctx, id)
}

// UploadCount returns how many uploads the store holds: begun and not yet
// committed, cancelled or purged.
func (s *Store) UploadCount(ctx context.Context) (int, error) {
	n := 0
	err := s.d.Uploads(ctx, func(string, int64, time.Time) error {
		n++
		return nil
	})
	return n, err
}

// PurgeUploads deletes uploads last modified more than age ago, abandoned
// by their clients, and returns how many it deleted.
func (s *Store) PurgeUploads(ctx context.Context, age time.Duration) (int, error) {
	type upload struct {
		id   string
		size int64
	}
	cutoff := time.Now().Add(-age)
	var old []upload
	err := s.d.Uploads(ctx, func(id string, size int64, modTime time.Time) error {
		if modTime.Before(cutoff) {
			old = append(old, upload{id, size})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range old {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		ok, err := s.purgeUpload(ctx, u.id, u.size)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// purgeUpload deletes upload id unless it has gone or changed size (been
// appended to) since it was listed with listedSize.
func (s *Store) purgeUpload(ctx context.Context, id string, listedSize int64) (bool, error) {
	unlock := s.ulocks.Lock(id)
	defer unlock()
	size, err := s.uploadSize(ctx, id)
	if errs.KindOf(err) == errs.NotFound || (err == nil && size != listedSize) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, s.deleteUpload(ctx, id)
}

// deleteUpload deletes upload id and its state. The caller holds id's lock
// and has checked that the upload exists (Resume would create it).
func (s *Store) deleteUpload(ctx context.Context, id string) error {
	w, _, err := s.d.Resume(ctx, id)
	if err != nil {
		return err
	}
	s.setState(id, nil)
	return w.Cancel()
}

// resume opens upload id for appending, with hash state matching its size:
// the kept one, or one rebuilt by re-reading the upload when there is none
// (after a restart or a failed append) or it disagrees with the upload's
// size (changed behind this Store's back). errs.NotFound if there is no
// such upload. The caller holds id's lock.
func (s *Store) resume(ctx context.Context, id string) (UploadWriter, *uploadState, error) {
	st := s.state(id)
	if st == nil {
		// Before Resume, which would create a missing upload.
		var err error
		if st, err = s.rehash(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	w, size, err := s.d.Resume(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if size != st.size {
		if st, err = s.rehash(ctx, id); err != nil {
			w.Close()
			return nil, nil, err
		}
	}
	return w, st, nil
}

// rehash computes and keeps the hash state of upload id from its bytes.
func (s *Store) rehash(ctx context.Context, id string) (*uploadState, error) {
	st := &uploadState{h: sha256.New()}
	cw := &countWriter{w: st.h}
	if err := s.readUpload(ctx, id, cw); err != nil {
		return nil, err
	}
	st.size = cw.n
	s.setState(id, st)
	return st, nil
}

// readUpload copies the bytes of upload id to w.
func (s *Store) readUpload(ctx context.Context, id string, w io.Writer) error {
	rc, err := s.d.OpenUpload(ctx, id)
	if err != nil {
		return err
	}
	defer rc.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	if _, err := io.CopyBuffer(w, &ctxReader{ctx: ctx, r: rc}, *buf); err != nil {
		return errs.Wrap(errs.Internal, err, "reading upload %s", id)
	}
	return nil
}

// uploadSize returns the length of upload id; errs.NotFound if absent.
func (s *Store) uploadSize(ctx context.Context, id string) (int64, error) {
	rc, err := s.d.OpenUpload(ctx, id)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	size, err := rc.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, errs.Wrap(errs.Internal, err, "reading upload %s", id)
	}
	return size, nil
}

func (s *Store) state(id string) *uploadState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uploads[id]
}

// setState keeps st for upload id, or forgets id's state if st is nil.
func (s *Store) setState(id string, st *uploadState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st == nil {
		delete(s.uploads, id)
		return
	}
	if s.uploads == nil {
		s.uploads = make(map[string]*uploadState)
	}
	s.uploads[id] = st
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
