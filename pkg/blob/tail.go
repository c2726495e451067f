package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// TempReader is what a TempWriter implements when its bytes can be read
// while it is being written (the filesystem driver's temp file), so that a
// Tail's readers need not wait for the commit.
type TempReader interface {
	// OpenReader returns an independent read handle on the bytes written
	// so far and those to come; it stays valid after Commit and Cancel.
	OpenReader() (ReaderAtCloser, error)
}

// ReaderAtCloser reads at offsets and releases its handle on Close.
type ReaderAtCloser interface {
	io.ReaderAt
	io.Closer
}

// openTempReader opens w for reading while it is written, or returns nil
// if its driver cannot (a Tail's readers then wait for the commit).
func openTempReader(w TempWriter) ReaderAtCloser {
	tr, ok := w.(TempReader)
	if !ok {
		return nil
	}
	r, err := tr.OpenReader()
	if err != nil {
		return nil
	}
	return r
}

// tailWriter writes to w, then lets the tail's readers at the bytes.
type tailWriter struct {
	w TempWriter
	t *Tail
}

func (tw *tailWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	if n > 0 {
		tw.t.advance(n)
	}
	return n, err
}

// Tail lets readers follow a Put while its bytes are still being written,
// each at its own pace: a reader that catches up with the writer waits for
// more, never holding the writer back. The last byte written is withheld
// until the content has been verified (size and digest), so no reader ever
// sees a complete stream whose bytes then failed verification; a failed
// Put ends every reader with its error.
//
// Readers opened after the Put has ended and every earlier reader has
// closed get ErrTailGone: by then the blob is in the store.
type Tail struct {
	size int64 // the announced size, or -1

	mu        sync.Mutex
	changed   chan struct{} // closed, and replaced, at every change below
	written   int64
	verified  bool  // size and digest checked
	stored    bool  // release only once committed (see UntilStored)
	released  bool  // every written byte may be read
	err       error // the Put failed: readers fail
	ended     bool  // the Put returned
	src       ReaderAtCloser
	open      func(context.Context) (ReadSeekCloser, error) // the committed blob, when src is nil
	readers   int
	beforeEnd func(error) error
}

// ErrTailGone is returned by Tail.Open once the write is over and its
// handle released: read the committed blob instead.
var ErrTailGone = errors.New("the write being followed is over")

// NewTail returns a Tail for a write of size bytes (-1 if unknown). Pass it
// in PutOptions.Tail.
func NewTail(size int64) *Tail {
	return &Tail{size: size, changed: make(chan struct{})}
}

// BeforeEnd sets fn to be called when the Put ends, with its error, before
// any reader learns how it ended (the proxy forgets a failed download
// first, so a client that retries at once starts a new one). The error fn
// returns is the one readers get (the proxy tells whose fault it was).
func (t *Tail) BeforeEnd(fn func(error) error) { t.beforeEnd = fn }

// UntilStored makes the last byte wait for the commit as well as the
// verification: for small metadata, so that a client that has read it all
// and asks again finds it stored.
func (t *Tail) UntilStored() { t.stored = true }

// Fail ends the tail of a Put that never began (a write refused before it
// reached the store) with err, for the readers already following it.
func (t *Tail) Fail(err error) { t.end(err) }

// Size is the announced size of the write, or -1.
func (t *Tail) Size() int64 { return t.size }

// notify wakes every waiting reader; t.mu is held.
func (t *Tail) notify() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// attach gives the tail its source, nil if the driver cannot be read
// while writing (readers then wait for the committed blob).
func (t *Tail) attach(src ReaderAtCloser) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.src = src
}

func (t *Tail) advance(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.written += int64(n)
	t.notify()
}

// verify releases every written byte, unless they wait for the commit;
// open, if the source is nil, is how readers reach the committed blob.
func (t *Tail) verify(open func(context.Context) (ReadSeekCloser, error)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.verified = true
	t.open = open
	if t.src == nil || t.stored {
		return // released once committed, by end
	}
	t.released = true
	t.notify()
}

// end records how the Put ended. Once released, the bytes are right and
// readers finish even if storing them then failed; otherwise a failed Put
// fails them.
func (t *Tail) end(err error) {
	if t.beforeEnd != nil {
		err = t.beforeEnd(err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.verified && err == nil {
		err = errs.New(errs.Internal, "write ended unverified")
	}
	switch {
	case err == nil:
		t.released = true
	case !t.released:
		t.err = err
	}
	t.ended = true
	t.notify()
	t.release()
}

// release closes the source once nobody can read it any more; t.mu is held.
func (t *Tail) release() {
	if t.ended && t.readers == 0 && t.src != nil {
		t.src.Close()
		t.src = nil
	}
}

// Open returns a reader of the whole content from its start, following the
// write; it is an io.ReadSeeker when the size is known. Its reads wait at
// most as long as ctx lasts.
func (t *Tail) Open(ctx context.Context) (io.ReadCloser, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended && (t.src == nil || t.err != nil) {
		if t.err != nil {
			return nil, t.err
		}
		return nil, ErrTailGone
	}
	t.readers++
	r := &tailReader{t: t, ctx: ctx}
	if t.size >= 0 {
		return &tailSeeker{r}, nil
	}
	return r, nil
}

// tailState is what a reader may do now: read up to avail from src, stop
// (released and all read, or err), or wait for changed.
type tailState struct {
	avail    int64
	src      ReaderAtCloser
	open     func(context.Context) (ReadSeekCloser, error)
	released bool
	ended    bool
	err      error
	changed  <-chan struct{}
}

func (t *Tail) state() tailState {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := tailState{avail: t.written, src: t.src, open: t.open, released: t.released,
		ended: t.ended, err: t.err, changed: t.changed}
	if !t.released && st.avail > 0 {
		st.avail-- // the last byte waits for the verification
	}
	return st
}

type tailReader struct {
	t      *Tail
	ctx    context.Context
	off    int64
	closed bool
	err    error // the first failure of a read, for Err
	// committed is the committed blob, for drivers without TempReader.
	committed ReadSeekCloser
}

func (r *tailReader) Read(p []byte) (int, error) {
	n, err := r.read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// Err is the first error a read returned other than io.EOF: after a copy
// that does not report read errors (http.ServeContent), it tells a
// complete response from a cut one.
func (r *tailReader) Err() error { return r.err }

func (r *tailReader) read(p []byte) (int, error) {
	if r.closed {
		return 0, errs.New(errs.Internal, "read of a closed tail reader")
	}
	if r.committed != nil {
		return r.committed.Read(p)
	}
	for {
		st := r.t.state()
		switch {
		case st.err != nil:
			return 0, st.err
		case st.src != nil && r.off < st.avail:
			n := min(int64(len(p)), st.avail-r.off)
			k, err := st.src.ReadAt(p[:n], r.off)
			r.off += int64(k)
			if err == io.EOF && k > 0 {
				err = nil
			}
			return k, err
		case st.src != nil && st.released:
			return 0, io.EOF
		case st.src == nil && st.ended && st.open != nil:
			return r.readCommitted(p, st.open)
		}
		select {
		case <-st.changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// readCommitted goes on from the committed blob, for drivers whose temp
// writes cannot be read.
func (r *tailReader) readCommitted(p []byte, open func(context.Context) (ReadSeekCloser, error)) (int, error) {
	c, err := open(r.ctx)
	if err != nil {
		return 0, err
	}
	if _, err := c.Seek(r.off, io.SeekStart); err != nil {
		c.Close()
		return 0, err
	}
	r.committed = c
	return c.Read(p)
}

func (r *tailReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.committed != nil {
		r.committed.Close()
	}
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	r.t.readers--
	r.t.release()
	return nil
}

// WriteTo copies the rest of the content to w as it is written. When w
// can take a file (a net/http response: sendfile) and the source can give
// this reader a handle of its own, the bytes go without passing through
// user space.
func (r *tailReader) WriteTo(w io.Writer) (int64, error) {
	n, err := r.writeTo(w)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *tailReader) writeTo(w io.Writer) (int64, error) {
	rf, ok := w.(io.ReaderFrom)
	var f *os.File
	if st := r.t.state(); ok && r.committed == nil {
		if ro, ok := st.src.(interface{ Reopen() (*os.File, error) }); ok {
			f, _ = ro.Reopen()
		}
	}
	if f == nil {
		buf := make([]byte, copyBufSize)
		return io.CopyBuffer(w, struct{ io.Reader }{r}, buf)
	}
	defer f.Close()
	var total int64
	for {
		st := r.t.state()
		switch {
		case st.err != nil:
			return total, st.err
		case r.off < st.avail:
			if _, err := f.Seek(r.off, io.SeekStart); err != nil {
				return total, err
			}
			n, err := rf.ReadFrom(&io.LimitedReader{R: f, N: st.avail - r.off})
			r.off += n
			total += n
			if err != nil {
				return total, err
			}
			continue
		case st.released:
			return total, nil
		}
		select {
		case <-st.changed:
		case <-r.ctx.Done():
			return total, r.ctx.Err()
		}
	}
}

// tailSeeker is a tailReader of known size, which can therefore seek (for
// ranges: a read past what is written waits for it).
type tailSeeker struct{ *tailReader }

func (s *tailSeeker) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += s.off
	case io.SeekEnd:
		offset += s.t.size
	}
	if offset < 0 {
		return 0, errs.New(errs.Invalid, "seek before the start")
	}
	if s.committed != nil {
		if _, err := s.committed.Seek(offset, io.SeekStart); err != nil {
			return 0, err
		}
	}
	s.off = offset
	return offset, nil
}
