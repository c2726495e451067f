package blob_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// tailPut is a Put whose source the test feeds piece by piece.
type tailPut struct {
	pw   *io.PipeWriter
	tail *blob.Tail
	done chan error
}

func startTailPut(t *testing.T, s *blob.Store, opts blob.PutOptions) *tailPut {
	t.Helper()
	pr, pw := io.Pipe()
	tp := &tailPut{pw: pw, tail: blob.NewTail(opts.ExpectedSize), done: make(chan error, 1)}
	opts.Tail = tp.tail
	go func() {
		_, err := s.Put(context.Background(), pr, opts, nil)
		pr.CloseWithError(err)
		tp.done <- err
	}()
	return tp
}

func (tp *tailPut) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := tp.pw.Write(b); err != nil {
		t.Fatal(err)
	}
}

func randomData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// wait returns the Put's result, failing if it does not come in 5 s.
func (tp *tailPut) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-tp.done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the put never ended")
	}
	return nil
}

// blocked reports whether a read of r stays waiting for 50 ms (used only
// to show that a read does wait; a wrong answer makes the test fail, never
// pass by luck).
func blocked(r io.Reader) (bool, chan readResult) {
	res := make(chan readResult, 1)
	go func() {
		b := make([]byte, 1)
		n, err := r.Read(b)
		res <- readResult{b[:n], err}
	}()
	select {
	case <-res:
		return false, nil
	case <-time.After(50 * time.Millisecond):
		return true, res
	}
}

type readResult struct {
	b   []byte
	err error
}

func TestTailFollowsTheWriter(t *testing.T) {
	s := newStore(t)
	data := randomData(t, 3<<20)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: int64(len(data)), Expected: sha256Digest(data)})
	r, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(io.Seeker); !ok {
		t.Fatal("a tail of known size cannot seek")
	}
	// The first megabyte is readable before the rest is even sent.
	tp.write(t, data[:1<<20])
	if got := repotest.ReadN(t, r, 1<<20-1); !bytes.Equal(got, data[:1<<20-1]) {
		t.Fatal("followed bytes differ")
	}
	// The writer is never held back by a reader that reads nothing.
	tp.write(t, data[1<<20:])
	tp.pw.Close()
	if err := tp.wait(t); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rest, data[1<<20-1:]) {
		t.Fatal("the rest differs")
	}
	// A second reader joining late reads the whole from the start.
	r2, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	all, err := io.ReadAll(r2)
	r2.Close()
	if err != nil || !bytes.Equal(all, data) {
		t.Fatalf("late reader: %d bytes, %v", len(all), err)
	}
	// Once every reader is gone, the tail refers to the store.
	r.Close()
	if _, err := tp.tail.Open(t.Context()); !errors.Is(err, blob.ErrTailGone) {
		t.Fatalf("open after the end: %v, want ErrTailGone", err)
	}
}

func TestTailWithholdsTheLastByteUntilVerified(t *testing.T) {
	for _, tc := range []struct {
		name string
		good bool
	}{{"verified", true}, {"digest mismatch", false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			data := randomData(t, 4096)
			want := sha256Digest(data)
			if !tc.good {
				want = sha256Digest([]byte("something else"))
			}
			tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: int64(len(data)), Expected: want})
			r, err := tp.tail.Open(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			tp.write(t, data)
			repotest.ReadN(t, r, len(data)-1)
			waiting, res := blocked(r)
			if !waiting {
				t.Fatal("the last byte was readable before the content was verified")
			}
			tp.pw.Close()
			err = tp.wait(t)
			got := <-res
			if tc.good {
				if err != nil || got.err != nil || !bytes.Equal(got.b, data[len(data)-1:]) {
					t.Fatalf("put %v, last read %q %v", err, got.b, got.err)
				}
				if n, err := r.Read(make([]byte, 1)); n != 0 || err != io.EOF {
					t.Fatalf("after the end: %d, %v", n, err)
				}
				return
			}
			if errs.KindOf(err) != errs.Invalid || got.err == nil || len(got.b) != 0 {
				t.Fatalf("put %v, last read %q %v: the reader must fail without the last byte", err, got.b, got.err)
			}
			wantNothingCommitted(t, s)
		})
	}
}

func TestTailTruncatedSourceFailsReaders(t *testing.T) {
	s := newStore(t)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: -1})
	r, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, ok := r.(io.Seeker); ok {
		t.Fatal("a tail of unknown size claims to seek")
	}
	tp.write(t, []byte("partial"))
	repotest.ReadN(t, r, len("partial")-1)
	tp.pw.CloseWithError(errors.New("upstream hung up"))
	if err := tp.wait(t); err == nil {
		t.Fatal("a failed source was committed")
	}
	if _, err := io.ReadAll(r); err == nil {
		t.Fatal("the reader of a failed write ended cleanly")
	}
	if _, err := tp.tail.Open(t.Context()); err == nil || errors.Is(err, blob.ErrTailGone) {
		t.Fatalf("open after a failed write: %v, want its error", err)
	}
}

func TestTailRangeOfWrittenBytes(t *testing.T) {
	s := newStore(t)
	data := randomData(t, 1<<20)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: int64(len(data))})
	defer func() { tp.pw.Close(); tp.wait(t) }()
	r, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tp.write(t, data[:600<<10])
	rs := r.(io.ReadSeeker)
	if end, err := rs.Seek(0, io.SeekEnd); err != nil || end != int64(len(data)) {
		t.Fatalf("seek end = %d, %v", end, err)
	}
	if _, err := rs.Seek(100<<10, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if got := repotest.ReadN(t, rs, 200<<10); !bytes.Equal(got, data[100<<10:300<<10]) {
		t.Fatal("range differs")
	}
	tp.write(t, data[600<<10:])
}

func TestTailReaderContextEndsItsWait(t *testing.T) {
	s := newStore(t)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: -1})
	ctx, cancel := context.WithCancel(t.Context())
	r, err := tp.tail.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waiting, res := blocked(r)
	if !waiting {
		t.Fatal("a read of nothing written did not wait")
	}
	cancel()
	if got := <-res; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("read after cancel: %v", got.err)
	}
	r.Close()
	// The write goes on and commits without its reader.
	tp.write(t, []byte("kept"))
	tp.pw.Close()
	if err := tp.wait(t); err != nil {
		t.Fatal(err)
	}
}

// unreadableTemps hides the file driver's TempReader, as a driver whose
// writes cannot be read before their commit would.
type unreadableTemps struct{ blob.Driver }

func (d unreadableTemps) Create(ctx context.Context) (blob.TempWriter, error) {
	w, err := d.Driver.Create(ctx)
	return struct{ blob.TempWriter }{w}, err
}

func TestTailWithoutTempReaderWaitsForTheCommit(t *testing.T) {
	fd, err := blob.NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := blob.NewStore("test", unreadableTemps{fd})
	data := randomData(t, 256<<10)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: int64(len(data))})
	r, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var wg sync.WaitGroup
	var got []byte
	var rerr error
	wg.Add(1)
	go func() { defer wg.Done(); got, rerr = io.ReadAll(r) }()
	tp.write(t, data)
	tp.pw.Close()
	if err := tp.wait(t); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if rerr != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), rerr)
	}
}

func TestTailUntilStoredWaitsForTheCommit(t *testing.T) {
	s := newStore(t)
	data := randomData(t, 4096)
	pr, pw := io.Pipe()
	tail := blob.NewTail(int64(len(data)))
	tail.UntilStored()
	committing := make(chan struct{})
	proceed := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(context.Background(), pr, blob.PutOptions{ExpectedSize: int64(len(data)), Tail: tail},
			func(blob.Info) error { close(committing); <-proceed; return nil })
		done <- err
	}()
	r, err := tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pw.Write(data)
	pw.Close()
	<-committing
	repotest.ReadN(t, r, len(data)-1)
	waiting, res := blocked(r)
	if !waiting {
		t.Fatal("the last byte was readable before the commit")
	}
	close(proceed)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := <-res; got.err != nil || !bytes.Equal(got.b, data[len(data)-1:]) {
		t.Fatalf("last read %q %v", got.b, got.err)
	}
}

// WriteTo, as net/http uses it: the bytes go to a ReaderFrom from a
// handle of the reader's own, following the write to its end.
func TestTailWriteToFollows(t *testing.T) {
	s := newStore(t)
	data := randomData(t, 3<<20)
	tp := startTailPut(t, s, blob.PutOptions{ExpectedSize: int64(len(data)), Expected: sha256Digest(data)})
	r, err := tp.tail.Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tp.write(t, data[:1<<20])
	repotest.ReadN(t, r, 1000)
	var out bytes.Buffer // a ReaderFrom
	copied := make(chan error, 1)
	go func() {
		_, err := r.(io.WriterTo).WriteTo(&out)
		copied <- err
	}()
	tp.write(t, data[1<<20:])
	tp.pw.Close()
	if err := tp.wait(t); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-copied:
		if err != nil || !bytes.Equal(out.Bytes(), data[1000:]) {
			t.Fatalf("WriteTo: %d bytes, %v", out.Len(), err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WriteTo never ended")
	}
}

// noCreates is a driver whose writes cannot begin (a full or broken disk).
type noCreates struct{ blob.Driver }

func (noCreates) Create(context.Context) (blob.TempWriter, error) {
	return nil, errs.New(errs.InsufficientStorage, "no space")
}

// A write refused before it began (too large for its bound, or a driver
// that cannot create it) fails the readers already following it, at once:
// they used to wait until their own context ended.
func TestTailOfAWriteThatNeverBeganFailsReaders(t *testing.T) {
	fd, err := blob.NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    *blob.Store
		opts blob.PutOptions
		kind errs.Kind
	}{
		{"over its bound", blob.NewStore("test", fd), blob.PutOptions{ExpectedSize: 10, MaxSize: 5}, errs.TooLarge},
		{"not created", blob.NewStore("test", noCreates{fd}), blob.PutOptions{ExpectedSize: 10}, errs.InsufficientStorage},
	} {
		t.Run(c.name, func(t *testing.T) {
			tp := startTailPut(t, c.s, c.opts)
			var rerr error
			repotest.Within(t, 5*time.Second, "reading the tail of a refused write", func() {
				r, err := tp.tail.Open(t.Context())
				if err == nil {
					_, err = io.ReadAll(r)
					r.Close()
				}
				rerr = err
			})
			if errs.KindOf(rerr) != c.kind {
				t.Fatalf("reader's error %v, want kind %v", rerr, c.kind)
			}
			if err := tp.wait(t); errs.KindOf(err) != c.kind {
				t.Fatalf("Put: %v", err)
			}
		})
	}
}
