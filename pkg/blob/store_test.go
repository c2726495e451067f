package blob_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/opencontainers/go-digest"
)

var allAlgs = []blob.Algorithm{blob.SHA256, blob.SHA1, blob.MD5, blob.SHA512}

func newStore(t testing.TB) *blob.Store {
	d, err := blob.NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return blob.NewStore("test", d)
}

func unknownSize() blob.PutOptions { return blob.PutOptions{ExpectedSize: -1} }

func sha256Digest(b []byte) digest.Digest { return digest.FromBytes(b) }

// storedKeys lists what the store holds.
func storedKeys(t *testing.T, s *blob.Store) []digest.Digest {
	t.Helper()
	var ds []digest.Digest
	if err := s.Walk(t.Context(), func(d digest.Digest, _ int64, _ time.Time) error {
		ds = append(ds, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ds
}

// wantNothingCommitted checks that the store holds no blob and no temp.
func wantNothingCommitted(t *testing.T, s *blob.Store) {
	t.Helper()
	if ds := storedKeys(t, s); len(ds) != 0 {
		t.Errorf("store holds %v, want nothing", ds)
	}
	time.Sleep(20 * time.Millisecond)
	if n, err := s.CleanTemp(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("CleanTemp = %d, %v: temp write left behind", n, err)
	}
}

func TestPutChecksumVectors(t *testing.T) {
	s := newStore(t)
	opts := blob.PutOptions{Algorithms: []blob.Algorithm{blob.SHA1, blob.MD5, blob.SHA512}, ExpectedSize: 3}
	var called blob.Info
	info, err := s.Put(t.Context(), strings.NewReader("abc"), opts, func(i blob.Info) error { called = i; return nil })
	if err != nil {
		t.Fatal(err)
	}
	// FIPS 180 / RFC 1321 test vectors for "abc".
	want := map[blob.Algorithm]string{
		blob.SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		blob.SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
		blob.MD5:    "900150983cd24fb0d6963f7d28e17f72",
		blob.SHA512: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
	}
	if len(info.Checksums) != len(want) {
		t.Errorf("Checksums = %v, want %v", info.Checksums, want)
	}
	for alg, sum := range want {
		if info.Checksums[alg] != sum {
			t.Errorf("%s = %q, want %q", alg, info.Checksums[alg], sum)
		}
	}
	if info.Digest != "sha256:"+digest.Digest(want[blob.SHA256]) || info.Size != 3 {
		t.Errorf("Info = %+v", info)
	}
	if called.Digest != info.Digest {
		t.Errorf("onCommit got %+v, Put returned %+v", called, info)
	}
	rc, err := s.Open(t.Context(), info.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "abc" {
		t.Errorf("stored %q", b)
	}
}

func TestPutChecksumsLarge(t *testing.T) {
	s := newStore(t)
	data := make([]byte, 3<<20+17) // spans many copy buffers
	rand.Read(data)
	info, err := s.Put(t.Context(), bytes.NewReader(data), blob.PutOptions{Algorithms: allAlgs, ExpectedSize: int64(len(data))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s256, s1, m5, s512 := sha256.Sum256(data), sha1.Sum(data), md5.Sum(data), sha512.Sum512(data)
	want := map[blob.Algorithm]string{
		blob.SHA256: hex.EncodeToString(s256[:]),
		blob.SHA1:   hex.EncodeToString(s1[:]),
		blob.MD5:    hex.EncodeToString(m5[:]),
		blob.SHA512: hex.EncodeToString(s512[:]),
	}
	for alg, sum := range want {
		if info.Checksums[alg] != sum {
			t.Errorf("%s = %q, want %q", alg, info.Checksums[alg], sum)
		}
	}
	if size, err := s.Stat(t.Context(), info.Digest); err != nil || size != int64(len(data)) {
		t.Errorf("Stat = %d, %v", size, err)
	}
}

func TestPutOnlyRequestedChecksums(t *testing.T) {
	data := []byte("only what was asked")
	sum512 := sha512.Sum512(data)
	for _, tc := range []struct {
		name string
		opts blob.PutOptions
		want []blob.Algorithm
	}{
		{"none", unknownSize(), []blob.Algorithm{blob.SHA256}},
		{"md5", blob.PutOptions{Algorithms: []blob.Algorithm{blob.MD5}, ExpectedSize: -1}, []blob.Algorithm{blob.SHA256, blob.MD5}},
		{"dup", blob.PutOptions{Algorithms: []blob.Algorithm{blob.SHA1, blob.SHA1, blob.SHA256}, ExpectedSize: -1}, []blob.Algorithm{blob.SHA256, blob.SHA1}},
		// sha512 is computed to verify Expected, but was not asked for.
		{"expected512", blob.PutOptions{Expected: digest.NewDigestFromBytes(digest.SHA512, sum512[:]), ExpectedSize: -1}, []blob.Algorithm{blob.SHA256}},
		{"expected512+asked", blob.PutOptions{Algorithms: []blob.Algorithm{blob.SHA512}, Expected: digest.NewDigestFromBytes(digest.SHA512, sum512[:]), ExpectedSize: -1}, []blob.Algorithm{blob.SHA256, blob.SHA512}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := newStore(t).Put(t.Context(), bytes.NewReader(data), tc.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Checksums) != len(tc.want) {
				t.Errorf("Checksums = %v, want only %v", info.Checksums, tc.want)
			}
			for _, alg := range tc.want {
				if info.Checksums[alg] == "" {
					t.Errorf("missing %s in %v", alg, info.Checksums)
				}
			}
		})
	}
}

func TestPutExpectedDigest(t *testing.T) {
	data := []byte("verified content")
	s512 := sha512.Sum512(data)
	other512 := sha512.Sum512([]byte("something else"))
	tests := []struct {
		name     string
		expected digest.Digest
		kind     errs.Kind // Internal means success
	}{
		{"sha256 match", sha256Digest(data), errs.Internal},
		{"sha512 match", digest.NewDigestFromBytes(digest.SHA512, s512[:]), errs.Internal},
		{"sha256 mismatch", sha256Digest([]byte("something else")), errs.Invalid},
		{"sha512 mismatch", digest.NewDigestFromBytes(digest.SHA512, other512[:]), errs.Invalid},
		{"malformed", "sha256:nothex", errs.Invalid},
		{"unsupported alg", "sha384:" + digest.Digest(strings.Repeat("0", 96)), errs.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			called := false
			_, err := s.Put(t.Context(), bytes.NewReader(data), blob.PutOptions{Expected: tc.expected, ExpectedSize: -1},
				func(blob.Info) error { called = true; return nil })
			if tc.kind == errs.Internal {
				if err != nil || !called {
					t.Fatalf("Put = %v (onCommit called %v)", err, called)
				}
				return
			}
			if errs.KindOf(err) != tc.kind {
				t.Errorf("Put error %v, want kind %v", err, tc.kind)
			}
			if called {
				t.Errorf("onCommit called on failure")
			}
			wantNothingCommitted(t, s)
		})
	}
}

func TestPutSizeLimits(t *testing.T) {
	data := []byte("0123456789")
	tests := []struct {
		name string
		opts blob.PutOptions
		kind errs.Kind // Internal means success
	}{
		{"exact size", blob.PutOptions{ExpectedSize: 10}, errs.Internal},
		{"short", blob.PutOptions{ExpectedSize: 11}, errs.Invalid},
		{"long", blob.PutOptions{ExpectedSize: 9}, errs.Invalid},
		{"zero value demands empty", blob.PutOptions{}, errs.Invalid},
		{"max at limit", blob.PutOptions{ExpectedSize: -1, MaxSize: 10}, errs.Internal},
		{"max exceeded", blob.PutOptions{ExpectedSize: -1, MaxSize: 9}, errs.TooLarge},
		{"max exceeded by declared size", blob.PutOptions{ExpectedSize: 10, MaxSize: 9}, errs.TooLarge},
		{"unknown alg", blob.PutOptions{ExpectedSize: -1, Algorithms: []blob.Algorithm{"crc32"}}, errs.Invalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Put(t.Context(), bytes.NewReader(data), tc.opts, nil)
			if tc.kind == errs.Internal {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if errs.KindOf(err) != tc.kind {
				t.Errorf("Put error %v, want kind %v", err, tc.kind)
			}
			wantNothingCommitted(t, s)
		})
	}
}

func TestPutMaxSizeStopsReading(t *testing.T) {
	s := newStore(t)
	// An endless stream must not be read to the end.
	_, err := s.Put(t.Context(), zeros{}, blob.PutOptions{ExpectedSize: -1, MaxSize: 1 << 20}, nil)
	if errs.KindOf(err) != errs.TooLarge {
		t.Errorf("Put error %v, want TooLarge", err)
	}
	wantNothingCommitted(t, s)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestPutReadError(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	boom := errors.New("connection reset")
	tests := []struct {
		name string
		r    io.Reader
		kind errs.Kind
	}{
		{"mid-stream error", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)), errs.Invalid},
		{"error with data", iotest.DataErrReader(iotest.TimeoutReader(bytes.NewReader(data))), errs.Invalid},
		{"truncated", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF)), errs.Invalid},
		{"kinded error kept", io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errs.New(errs.Upstream, "remote died"))), errs.Upstream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			called := false
			_, err := s.Put(t.Context(), tc.r, unknownSize(), func(blob.Info) error { called = true; return nil })
			if err == nil || errs.KindOf(err) != tc.kind {
				t.Errorf("Put error %v, want kind %v", err, tc.kind)
			}
			if called {
				t.Errorf("onCommit called")
			}
			wantNothingCommitted(t, s)
		})
	}

	t.Run("http body limit", func(t *testing.T) {
		s := newStore(t)
		rec := httptest.NewRecorder()
		body := http.MaxBytesReader(rec, io.NopCloser(bytes.NewReader(data)), 1000)
		_, err := s.Put(t.Context(), body, unknownSize(), nil)
		if errs.KindOf(err) != errs.TooLarge {
			t.Errorf("Put error %v, want TooLarge", err)
		}
		wantNothingCommitted(t, s)
	})

	t.Run("context cancelled", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(t.Context())
		r := &cancelAfter{r: bytes.NewReader(data), n: 1000, cancel: cancel}
		_, err := s.Put(ctx, r, unknownSize(), nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put error %v, want context.Canceled", err)
		}
		wantNothingCommitted(t, s)
	})
}

// cancelAfter cancels a context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	if len(p) > 100 {
		p = p[:100]
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestPutOnCommitError(t *testing.T) {
	s := newStore(t)
	boom := errors.New("metadata write failed")
	info, err := s.Put(t.Context(), strings.NewReader("x"), unknownSize(), func(blob.Info) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("Put error %v, want %v", err, boom)
	}
	// The blob stays committed; the orphan sweep owns it now.
	if ds := storedKeys(t, s); len(ds) != 1 || ds[0] != sha256Digest([]byte("x")) {
		t.Errorf("store holds %v (info %+v)", ds, info)
	}
}

func TestRelease(t *testing.T) {
	s := newStore(t)
	info, err := s.Put(t.Context(), strings.NewReader("referenced"), unknownSize(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(t.Context(), info.Digest, func() (bool, error) { return false, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), info.Digest); err != nil {
		t.Errorf("blob gone after Release with references: %v", err)
	}
	boom := errors.New("db down")
	if err := s.Release(t.Context(), info.Digest, func() (bool, error) { return true, boom }); !errors.Is(err, boom) {
		t.Errorf("Release error %v, want %v", err, boom)
	}
	if _, err := s.Stat(t.Context(), info.Digest); err != nil {
		t.Errorf("blob gone after failed unreferenced(): %v", err)
	}
	if err := s.Release(t.Context(), info.Digest, func() (bool, error) { return true, nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(t.Context(), info.Digest); errs.KindOf(err) != errs.NotFound {
		t.Errorf("Stat after Release = %v, want NotFound", err)
	}
	if _, err := s.Open(t.Context(), info.Digest); errs.KindOf(err) != errs.NotFound {
		t.Errorf("Open after Release = %v, want NotFound", err)
	}
	// Releasing an absent blob is fine.
	if err := s.Release(t.Context(), info.Digest, func() (bool, error) { return true, nil }); err != nil {
		t.Errorf("Release of absent blob: %v", err)
	}
}

func TestInvalidDigests(t *testing.T) {
	s := newStore(t)
	s512 := sha512.Sum512(nil)
	for _, d := range []digest.Digest{
		"",
		"sha256:../../etc/passwd",
		"sha256:" + digest.Digest(strings.ToUpper(sha256Digest(nil).Encoded())),
		"sha256:abc",
		digest.NewDigestFromBytes(digest.SHA512, s512[:]),
		"md5:900150983cd24fb0d6963f7d28e17f72",
	} {
		if _, err := s.Open(t.Context(), d); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Open(%q) = %v, want Invalid", d, err)
		}
		if _, err := s.Stat(t.Context(), d); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Stat(%q) = %v, want Invalid", d, err)
		}
		if _, err := s.Checksums(t.Context(), d, []blob.Algorithm{blob.MD5}); errs.KindOf(err) != errs.Invalid {
			t.Errorf("Checksums(%q) = %v, want Invalid", d, err)
		}
		err := s.Release(t.Context(), d, func() (bool, error) { t.Error("unreferenced called"); return true, nil })
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("Release(%q) = %v, want Invalid", d, err)
		}
	}
}

func TestChecksumLazy(t *testing.T) {
	s := newStore(t)
	data := make([]byte, 1<<20+3)
	rand.Read(data)
	info, err := s.Put(t.Context(), bytes.NewReader(data), unknownSize(), nil)
	if err != nil {
		t.Fatal(err)
	}
	full, err := newStore(t).Put(t.Context(), bytes.NewReader(data), blob.PutOptions{Algorithms: allAlgs, ExpectedSize: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// All at once, and each alone.
	got, err := s.Checksums(t.Context(), info.Digest, allAlgs)
	if err != nil || len(got) != len(allAlgs) {
		t.Fatalf("Checksums(all) = %v, %v", got, err)
	}
	for _, alg := range allAlgs {
		one, err := s.Checksums(t.Context(), info.Digest, []blob.Algorithm{alg})
		if err != nil || got[alg] != full.Checksums[alg] || one[alg] != full.Checksums[alg] {
			t.Errorf("Checksums %s = %q (alone %q), %v; want %q", alg, got[alg], one[alg], err, full.Checksums[alg])
		}
	}
	m := md5.Sum(data)
	if got[blob.MD5] != hex.EncodeToString(m[:]) {
		t.Errorf("md5 = %q, want %x", got[blob.MD5], m)
	}
	if _, err := s.Checksums(t.Context(), info.Digest, []blob.Algorithm{blob.SHA1, "crc32"}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("unknown algorithm: %v", err)
	}
	absent := sha256Digest([]byte("absent"))
	for _, algs := range [][]blob.Algorithm{allAlgs, {blob.SHA256}} {
		if _, err := s.Checksums(t.Context(), absent, algs); errs.KindOf(err) != errs.NotFound {
			t.Errorf("Checksums(absent, %v) = %v, want NotFound", algs, err)
		}
	}
}

func TestStorePassThrough(t *testing.T) {
	s := newStore(t)
	if s.Name() != "test" {
		t.Errorf("Name = %q", s.Name())
	}
	if n, err := s.Space(t.Context()); err != nil || n <= 0 {
		t.Errorf("Space = %d, %v", n, err)
	}
	info, err := s.Put(t.Context(), strings.NewReader("walked"), unknownSize(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	ds := storedKeys(t, s)
	s.Walk(t.Context(), func(_ digest.Digest, size int64, _ time.Time) error { sizes = append(sizes, size); return nil })
	if len(ds) != 1 || ds[0] != info.Digest || sizes[0] != 6 {
		t.Errorf("Walk = %v %v", ds, sizes)
	}
}

func TestConcurrentPutSameContent(t *testing.T) {
	s := newStore(t)
	data := make([]byte, 256<<10)
	rand.Read(data)
	var wg sync.WaitGroup
	infos := make([]blob.Info, 10)
	putErrs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			infos[i], putErrs[i] = s.Put(t.Context(), bytes.NewReader(data), blob.PutOptions{Algorithms: []blob.Algorithm{blob.MD5}, ExpectedSize: -1}, nil)
		})
	}
	wg.Wait()
	for i := range 10 {
		if putErrs[i] != nil || infos[i].Digest != sha256Digest(data) {
			t.Errorf("Put %d = %+v, %v", i, infos[i], putErrs[i])
		}
	}
	if ds := storedKeys(t, s); len(ds) != 1 {
		t.Errorf("store holds %v, want one blob", ds)
	}
	time.Sleep(20 * time.Millisecond)
	if n, _ := s.CleanTemp(t.Context(), 0); n != 0 {
		t.Errorf("%d temps left behind", n)
	}
}

// TestPutReleaseRace has writers that Put a blob (taking a reference in
// onCommit), check it is readable while they hold the reference, then drop
// the reference and Release. Without the per-digest lock a Release can see
// zero references, a Put dedupes against the still-present blob and records
// a reference, and then the Release deletes the blob from under it.
func TestPutReleaseRace(t *testing.T) {
	s := newStore(t)
	contents := [][]byte{[]byte("shared-a"), []byte("shared-b")}
	var mu sync.Mutex // guards refs, standing in for a metadata database
	refs := map[digest.Digest]int{}

	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 150 {
				data := contents[(w+i)%len(contents)]
				info, err := s.Put(t.Context(), bytes.NewReader(data), unknownSize(), func(info blob.Info) error {
					mu.Lock()
					refs[info.Digest]++
					mu.Unlock()
					return nil
				})
				if err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				// We hold a reference: the blob must be there.
				rc, err := s.Open(t.Context(), info.Digest)
				if err != nil {
					t.Errorf("blob deleted while referenced: %v", err)
					return
				}
				rc.Close()
				mu.Lock()
				refs[info.Digest]--
				mu.Unlock()
				err = s.Release(t.Context(), info.Digest, func() (bool, error) {
					mu.Lock()
					defer mu.Unlock()
					return refs[info.Digest] == 0, nil
				})
				if err != nil {
					t.Errorf("Release: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if ds := storedKeys(t, s); len(ds) != 0 {
		t.Errorf("blobs left after all references released: %v", ds)
	}
}

func BenchmarkPut(b *testing.B) {
	data := make([]byte, 4<<20)
	rand.Read(data)
	for _, bc := range []struct {
		name string
		algs []blob.Algorithm
	}{
		{"sha256", nil},
		{"all", allAlgs},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := newStore(b)
			opts := blob.PutOptions{Algorithms: bc.algs, ExpectedSize: int64(len(data))}
			b.SetBytes(int64(len(data)))
			var i uint64
			for b.Loop() {
				// Distinct content each time, so every Put really commits.
				i++
				binary.LittleEndian.PutUint64(data, i)
				if _, err := s.Put(b.Context(), bytes.NewReader(data), opts, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
