package blob_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/uuid"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/opencontainers/go-digest"
)

// newUploadStore returns a store over a FileDriver in dir, so that tests can
// reach the upload files and open a second store over the same driver.
func newUploadStore(t testing.TB) (*blob.Store, blob.Driver, string) {
	dir := t.TempDir()
	d, err := blob.NewFileDriver(dir)
	if err != nil {
		t.Fatal(err)
	}
	return blob.NewStore("test", d), d, dir
}

func newUpload(t testing.TB, s *blob.Store) string {
	t.Helper()
	id, err := s.NewUpload(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// appendChunks appends chunks in order and checks the sizes returned.
func appendChunks(t *testing.T, s *blob.Store, id string, chunks ...string) {
	t.Helper()
	size, err := s.UploadSize(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range chunks {
		n, err := s.AppendUpload(t.Context(), id, size, strings.NewReader(c), 0)
		if err != nil {
			t.Fatalf("AppendUpload(%q at %d): %v", c, size, err)
		}
		if size += int64(len(c)); n != size {
			t.Errorf("AppendUpload returned size %d, want %d", n, size)
		}
	}
}

func wantUploadSize(t *testing.T, s *blob.Store, id string, want int64) {
	t.Helper()
	if n, err := s.UploadSize(t.Context(), id); err != nil || n != want {
		t.Errorf("UploadSize = %d, %v; want %d", n, err, want)
	}
}

func wantNoUpload(t *testing.T, s *blob.Store, id string) {
	t.Helper()
	if _, err := s.UploadSize(t.Context(), id); errs.KindOf(err) != errs.NotFound {
		t.Errorf("UploadSize of gone upload = %v, want NotFound", err)
	}
}

func readBlob(t *testing.T, s *blob.Store, d digest.Digest) string {
	t.Helper()
	rc, err := s.Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open(%s): %v", d, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha512Digest(b []byte) digest.Digest { return digest.SHA512.FromBytes(b) }

func TestUploadChunks(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	if u, err := uuid.Parse(id); err != nil || u.String() != id {
		t.Errorf("NewUpload id %q is not a canonical uuid: %v", id, err)
	}
	wantUploadSize(t, s, id, 0)
	appendChunks(t, s, id, "first chunk, ", "", "second chunk, ", "third chunk")
	const content = "first chunk, second chunk, third chunk"
	wantUploadSize(t, s, id, int64(len(content)))
	if ds := storedKeys(t, s); len(ds) != 0 {
		t.Errorf("blob visible before commit: %v", ds)
	}

	var called blob.Info
	info, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte(content)), []blob.Algorithm{blob.MD5}, func(i blob.Info) error { called = i; return nil })
	if err != nil {
		t.Fatal(err)
	}
	m := md5.Sum([]byte(content))
	want := map[blob.Algorithm]string{blob.SHA256: sha256Digest([]byte(content)).Encoded(), blob.MD5: hex.EncodeToString(m[:])}
	if info.Digest != sha256Digest([]byte(content)) || info.Size != int64(len(content)) || len(info.Checksums) != len(want) {
		t.Errorf("Info = %+v", info)
	}
	for alg, sum := range want {
		if info.Checksums[alg] != sum {
			t.Errorf("%s = %q, want %q", alg, info.Checksums[alg], sum)
		}
	}
	if called.Digest != info.Digest {
		t.Errorf("onCommit got %+v", called)
	}
	if got := readBlob(t, s, info.Digest); got != content {
		t.Errorf("stored %q", got)
	}
	wantNoUpload(t, s, id)
	if _, err := s.AppendUpload(t.Context(), id, info.Size, strings.NewReader("more"), 0); errs.KindOf(err) != errs.NotFound {
		t.Errorf("AppendUpload after commit = %v, want NotFound", err)
	}
	if n := blob.UploadStates(s); n != 0 {
		t.Errorf("%d upload states kept after commit", n)
	}
}

func TestUploadEmpty(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	info, err := s.CommitUpload(t.Context(), id, sha256Digest(nil), nil, nil)
	if err != nil || info.Size != 0 || info.Digest != sha256Digest(nil) {
		t.Errorf("CommitUpload of empty upload = %+v, %v", info, err)
	}
}

func TestUploadWrongOffset(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	appendChunks(t, s, id, "abc")
	for _, off := range []int64{0, 2, 4, 100, -1} {
		_, err := s.AppendUpload(t.Context(), id, off, strings.NewReader("zzz"), 0)
		var re *blob.RangeError
		if !errors.As(err, &re) || re.Size != 3 {
			t.Errorf("AppendUpload at %d = %v, want *RangeError{Size: 3}", off, err)
		}
		if errs.KindOf(err) != errs.Conflict || !errors.Is(err, errs.ErrConflict) {
			t.Errorf("AppendUpload at %d = %v, want kind Conflict", off, err)
		}
	}
	wantUploadSize(t, s, id, 3)
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("abc")), nil, nil); err != nil {
		t.Errorf("CommitUpload after rejected appends: %v", err)
	}
}

func TestUploadDigestMismatch(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	appendChunks(t, s, id, "some ", "content")
	for _, d := range []digest.Digest{sha256Digest([]byte("other")), sha512Digest([]byte("other"))} {
		called := false
		_, err := s.CommitUpload(t.Context(), id, d, nil, func(blob.Info) error { called = true; return nil })
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("CommitUpload(%s) = %v, want Invalid", d, err)
		}
		if called {
			t.Errorf("onCommit called on mismatch")
		}
		wantNothingCommitted(t, s)
		wantUploadSize(t, s, id, 12)
	}
	// The client may go on: append more, then commit with the right digest.
	appendChunks(t, s, id, "!")
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("some content!")), nil, nil); err != nil {
		t.Errorf("CommitUpload after mismatch: %v", err)
	}
}

func TestUploadBadCommitArgs(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	appendChunks(t, s, id, "x")
	good := sha256Digest([]byte("x"))
	for _, tc := range []struct {
		expected digest.Digest
		algs     []blob.Algorithm
	}{
		{"", nil},
		{"sha256:abc", nil},
		{"md5:9dd4e461268c8034f5c8564e155c67a6", nil},
		{good, []blob.Algorithm{"crc32"}},
	} {
		if _, err := s.CommitUpload(t.Context(), id, tc.expected, tc.algs, nil); errs.KindOf(err) != errs.Invalid {
			t.Errorf("CommitUpload(%q, %v) = %v, want Invalid", tc.expected, tc.algs, err)
		}
	}
	wantUploadSize(t, s, id, 1)
	wantNothingCommitted(t, s)
}

func TestUploadSHA512(t *testing.T) {
	data := make([]byte, 1<<20+5)
	rand.Read(data)
	s512 := sha512.Sum512(data)
	for _, algs := range [][]blob.Algorithm{nil, {blob.SHA512}} {
		s := newStore(t)
		id := newUpload(t, s)
		appendChunks(t, s, id, string(data[:1000]), string(data[1000:]))
		info, err := s.CommitUpload(t.Context(), id, sha512Digest(data), algs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Digest != sha256Digest(data) {
			t.Errorf("Digest = %s, want %s", info.Digest, sha256Digest(data))
		}
		// sha512 is reported only when asked for.
		if got, ok := info.Checksums[blob.SHA512]; ok != (algs != nil) || (ok && got != hex.EncodeToString(s512[:])) {
			t.Errorf("algs %v: Checksums = %v", algs, info.Checksums)
		}
		if got := readBlob(t, s, info.Digest); got != string(data) {
			t.Errorf("stored content differs")
		}
	}
}

func TestUploadRestart(t *testing.T) {
	s, d, _ := newUploadStore(t)
	committed := newUpload(t, s)
	appendChunks(t, s, committed, "before ", "restart")
	resumed := newUpload(t, s)
	appendChunks(t, s, resumed, "half")

	// A new Store over the same driver has no hash state.
	s2 := blob.NewStore("test", d)
	wantUploadSize(t, s2, committed, 14)
	if _, err := s2.CommitUpload(t.Context(), committed, sha256Digest([]byte("before rest")), nil, nil); errs.KindOf(err) != errs.Invalid {
		t.Errorf("CommitUpload with wrong digest after restart = %v, want Invalid", err)
	}
	info, err := s2.CommitUpload(t.Context(), committed, sha256Digest([]byte("before restart")), nil, nil)
	if err != nil {
		t.Fatalf("CommitUpload after restart: %v", err)
	}
	if got := readBlob(t, s2, info.Digest); got != "before restart" {
		t.Errorf("stored %q", got)
	}

	// Appending after a restart rebuilds the state first.
	appendChunks(t, s2, resumed, " and half")
	if _, err := s2.CommitUpload(t.Context(), resumed, sha256Digest([]byte("half and half")), nil, nil); err != nil {
		t.Fatalf("CommitUpload of upload resumed after restart: %v", err)
	}
}

func TestUploadChangedBehindBack(t *testing.T) {
	s, _, dir := newUploadStore(t)
	id := newUpload(t, s)
	appendChunks(t, s, id, "ours")
	// Another process appends: the kept state no longer matches.
	f, err := os.OpenFile(filepath.Join(dir, "uploads", id), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(" and theirs")
	f.Close()
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("ours and theirs")), nil, nil); err != nil {
		t.Errorf("CommitUpload of upload changed behind the store: %v", err)
	}
}

func TestUploadReadError(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	tests := []struct {
		name string
		r    func() io.Reader
		kind errs.Kind
	}{
		{"mid-chunk error", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(errors.New("connection reset")))
		}, errs.Invalid},
		{"truncated", func() io.Reader {
			return io.MultiReader(bytes.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF))
		}, errs.Invalid},
		{"http body limit", func() io.Reader {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(data)), 1000)
		}, errs.TooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			id := newUpload(t, s)
			appendChunks(t, s, id, "first")
			_, err := s.AppendUpload(t.Context(), id, 5, tc.r(), 0)
			if errs.KindOf(err) != tc.kind {
				t.Errorf("AppendUpload = %v, want kind %v", err, tc.kind)
			}
			wantUploadSize(t, s, id, 5)
			appendChunks(t, s, id, " second")
			if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("first second")), nil, nil); err != nil {
				t.Errorf("CommitUpload after failed append: %v", err)
			}
		})
	}

	t.Run("context cancelled", func(t *testing.T) {
		s := newStore(t)
		id := newUpload(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		r := &cancelAfter{r: bytes.NewReader(data), n: 1000, cancel: cancel}
		if _, err := s.AppendUpload(ctx, id, 0, r, 0); !errors.Is(err, context.Canceled) {
			t.Errorf("AppendUpload = %v, want context.Canceled", err)
		}
		wantUploadSize(t, s, id, 0)
	})
}

func TestUploadMaxSize(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	if n, err := s.AppendUpload(t.Context(), id, 0, strings.NewReader("123456"), 10); err != nil || n != 6 {
		t.Fatalf("AppendUpload = %d, %v", n, err)
	}
	if _, err := s.AppendUpload(t.Context(), id, 6, strings.NewReader("78901"), 10); errs.KindOf(err) != errs.TooLarge {
		t.Errorf("AppendUpload past the limit = %v, want TooLarge", err)
	}
	wantUploadSize(t, s, id, 6)
	if n, err := s.AppendUpload(t.Context(), id, 6, strings.NewReader("7890"), 10); err != nil || n != 10 {
		t.Fatalf("AppendUpload up to the limit = %d, %v", n, err)
	}
	// An endless chunk must not be read to the end.
	if _, err := s.AppendUpload(t.Context(), id, 10, zeros{}, 10); errs.KindOf(err) != errs.TooLarge {
		t.Errorf("AppendUpload of endless chunk = %v, want TooLarge", err)
	}
	wantUploadSize(t, s, id, 10)
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("1234567890")), nil, nil); err != nil {
		t.Errorf("CommitUpload: %v", err)
	}
}

func TestCancelUpload(t *testing.T) {
	s := newStore(t)
	id, other := newUpload(t, s), newUpload(t, s)
	appendChunks(t, s, id, "cancelled")
	appendChunks(t, s, other, "kept")
	if err := s.CancelUpload(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	wantNoUpload(t, s, id)
	if err := s.CancelUpload(t.Context(), id); errs.KindOf(err) != errs.NotFound {
		t.Errorf("second CancelUpload = %v, want NotFound", err)
	}
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("cancelled")), nil, nil); errs.KindOf(err) != errs.NotFound {
		t.Errorf("CommitUpload after cancel = %v, want NotFound", err)
	}
	wantNothingCommitted(t, s)
	wantUploadSize(t, s, other, 4)
	if n := blob.UploadStates(s); n != 1 {
		t.Errorf("%d upload states kept, want 1", n)
	}
}

func TestUploadCommitDedupes(t *testing.T) {
	s := newStore(t)
	info, err := s.Put(t.Context(), strings.NewReader("same"), unknownSize(), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := newUpload(t, s)
	appendChunks(t, s, id, "sa", "me")
	got, err := s.CommitUpload(t.Context(), id, info.Digest, nil, nil)
	if err != nil || got.Digest != info.Digest {
		t.Fatalf("CommitUpload = %+v, %v", got, err)
	}
	if ds := storedKeys(t, s); len(ds) != 1 {
		t.Errorf("store holds %v", ds)
	}
	wantNoUpload(t, s, id)
}

func TestUploadOnCommitError(t *testing.T) {
	s := newStore(t)
	id := newUpload(t, s)
	appendChunks(t, s, id, "x")
	boom := errors.New("metadata write failed")
	if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte("x")), nil, func(blob.Info) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("CommitUpload = %v, want %v", err, boom)
	}
	// As with Put, the blob stays for the orphan sweep; the upload is used up.
	if ds := storedKeys(t, s); len(ds) != 1 {
		t.Errorf("store holds %v", ds)
	}
	wantNoUpload(t, s, id)
}

func TestPurgeUploads(t *testing.T) {
	s, d, dir := newUploadStore(t)
	old1, old2, fresh := newUpload(t, s), newUpload(t, s), newUpload(t, s)
	appendChunks(t, s, old1, "stale")
	appendChunks(t, s, fresh, "active")
	past := time.Now().Add(-2 * time.Hour)
	for _, id := range []string{old1, old2} {
		if err := os.Chtimes(filepath.Join(dir, "uploads", id), past, past); err != nil {
			t.Fatal(err)
		}
	}
	// Uploads are not temps.
	if n, err := s.CleanTemp(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("CleanTemp = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeUploads(t.Context(), 3*time.Hour); err != nil || n != 0 {
		t.Errorf("PurgeUploads(3h) = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeUploads(t.Context(), time.Hour); err != nil || n != 2 {
		t.Errorf("PurgeUploads(1h) = %d, %v; want 2", n, err)
	}
	wantNoUpload(t, s, old1)
	wantNoUpload(t, s, old2)
	wantUploadSize(t, s, fresh, 6)
	if n := blob.UploadStates(s); n != 1 {
		t.Errorf("%d upload states kept after purge, want 1", n)
	}
	var ids []string
	d.Uploads(t.Context(), func(id string, _ int64, _ time.Time) error { ids = append(ids, id); return nil })
	if len(ids) != 1 || ids[0] != fresh {
		t.Errorf("uploads left: %v, want [%s]", ids, fresh)
	}
}

// hookedUploads runs after once it has listed the uploads, to act between a purge's
// listing and its deletes.
type hookedUploads struct {
	blob.Driver
	after func()
}

func (h hookedUploads) Uploads(ctx context.Context, fn func(string, int64, time.Time) error) error {
	err := h.Driver.Uploads(ctx, fn)
	h.after()
	return err
}

func TestPurgeUploadsSparesAppendedSince(t *testing.T) {
	dir := t.TempDir()
	fd, err := blob.NewFileDriver(dir)
	if err != nil {
		t.Fatal(err)
	}
	var s *blob.Store
	var id string
	s = blob.NewStore("test", hookedUploads{Driver: fd, after: func() {
		// The client comes back just after the upload was listed as stale.
		if _, err := s.AppendUpload(t.Context(), id, 5, strings.NewReader(" again"), 0); err != nil {
			t.Errorf("AppendUpload: %v", err)
		}
	}})
	id = newUpload(t, s)
	appendChunks(t, s, id, "stale")
	past := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "uploads", id), past, past); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeUploads(t.Context(), time.Hour); err != nil || n != 0 {
		t.Errorf("PurgeUploads = %d, %v; want 0", n, err)
	}
	wantUploadSize(t, s, id, 11)
}

func TestUploadInvalidIDs(t *testing.T) {
	s, d, _ := newUploadStore(t)
	valid := newUpload(t, s)
	for _, id := range []string{"", "../x", "../" + valid[3:], strings.ToUpper(valid), valid + "/", "urn:uuid:" + valid} {
		if _, err := s.UploadSize(t.Context(), id); errs.KindOf(err) != errs.Invalid {
			t.Errorf("UploadSize(%q) = %v, want Invalid", id, err)
		}
		if _, err := s.AppendUpload(t.Context(), id, 0, strings.NewReader("x"), 0); errs.KindOf(err) != errs.Invalid {
			t.Errorf("AppendUpload(%q) = %v, want Invalid", id, err)
		}
		if _, err := s.CommitUpload(t.Context(), id, sha256Digest(nil), nil, nil); errs.KindOf(err) != errs.Invalid {
			t.Errorf("CommitUpload(%q) = %v, want Invalid", id, err)
		}
		if err := s.CancelUpload(t.Context(), id); errs.KindOf(err) != errs.Invalid {
			t.Errorf("CancelUpload(%q) = %v, want Invalid", id, err)
		}
	}
	// A well-formed but unknown id is not found, and not created.
	unknown := "00000000-0000-4000-8000-000000000000"
	if _, err := s.UploadSize(t.Context(), unknown); errs.KindOf(err) != errs.NotFound {
		t.Errorf("UploadSize(unknown) = %v, want NotFound", err)
	}
	if _, err := s.AppendUpload(t.Context(), unknown, 0, strings.NewReader("x"), 0); errs.KindOf(err) != errs.NotFound {
		t.Errorf("AppendUpload(unknown) = %v, want NotFound", err)
	}
	if _, err := s.CommitUpload(t.Context(), unknown, sha256Digest(nil), nil, nil); errs.KindOf(err) != errs.NotFound {
		t.Errorf("CommitUpload(unknown) = %v, want NotFound", err)
	}
	if err := s.CancelUpload(t.Context(), unknown); errs.KindOf(err) != errs.NotFound {
		t.Errorf("CancelUpload(unknown) = %v, want NotFound", err)
	}
	n := 0
	d.Uploads(t.Context(), func(string, int64, time.Time) error { n++; return nil })
	if n != 1 {
		t.Errorf("driver holds %d uploads, want 1", n)
	}
	wantNothingCommitted(t, s)
}

func TestConcurrentAppendSameOffset(t *testing.T) {
	s := newStore(t)
	for range 20 {
		id := newUpload(t, s)
		appendChunks(t, s, id, "head:")
		const writers = 8
		chunks := make([]string, writers)
		results := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			chunks[i] = strings.Repeat(string(rune('a'+i)), 64<<10)
			wg.Go(func() {
				_, results[i] = s.AppendUpload(t.Context(), id, 5, strings.NewReader(chunks[i]), 0)
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range results {
			var re *blob.RangeError
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("appends %d and %d both succeeded", winner, i)
			case err == nil:
				winner = i
			case !errors.As(err, &re) || re.Size != 5+64<<10:
				t.Errorf("losing append %d = %v, want *RangeError{Size: %d}", i, err, 5+64<<10)
			}
		}
		if winner < 0 {
			t.Fatal("no append succeeded")
		}
		want := "head:" + chunks[winner]
		if _, err := s.CommitUpload(t.Context(), id, sha256Digest([]byte(want)), nil, nil); err != nil {
			t.Fatalf("CommitUpload of the winner's content: %v", err)
		}
	}
}

func BenchmarkUpload(b *testing.B) {
	data := make([]byte, 4<<20)
	rand.Read(data)
	for _, chunks := range []int{1, 4} {
		b.Run(fmt.Sprintf("chunks=%d", chunks), func(b *testing.B) {
			s, _, _ := newUploadStore(b)
			ctx := b.Context()
			size := len(data) / chunks
			b.SetBytes(int64(len(data)))
			var i uint64
			for b.Loop() {
				// Distinct content each time, so every commit really commits;
				// its digest is the client's work, so it is not timed.
				b.StopTimer()
				i++
				binary.LittleEndian.PutUint64(data, i)
				want := digest.FromBytes(data)
				b.StartTimer()
				id := newUpload(b, s)
				for off := 0; off < len(data); off += size {
					if _, err := s.AppendUpload(ctx, id, int64(off), bytes.NewReader(data[off:off+size]), 0); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := s.CommitUpload(ctx, id, want, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// UploadCount counts the uploads begun and not yet committed or cancelled,
// what a metrics scrape reports as uploads in progress.
func TestUploadCount(t *testing.T) {
	s, _, _ := newUploadStore(t)
	count := func() int {
		t.Helper()
		n, err := s.UploadCount(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("%d uploads in a new store", n)
	}
	a, b := newUpload(t, s), newUpload(t, s)
	appendChunks(t, s, a, "some bytes")
	if n := count(); n != 2 {
		t.Fatalf("%d uploads after starting two, want 2", n)
	}
	if _, err := s.CommitUpload(t.Context(), a, digest.FromString("some bytes"), nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CancelUpload(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d uploads after committing one and cancelling the other, want 0", n)
	}
}

// Writable leaves nothing behind, and fails when the store cannot create
// a temporary write.
func TestWritable(t *testing.T) {
	s, _, dir := newUploadStore(t)
	if err := s.Writable(t.Context()); err != nil {
		t.Fatalf("Writable of a new store: %v", err)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(left) != 0 {
		t.Fatalf("Writable left %d temp files", len(left))
	}
	if err := os.RemoveAll(filepath.Join(dir, "tmp")); err != nil {
		t.Fatal(err)
	}
	if err := s.Writable(t.Context()); err == nil {
		t.Fatal("Writable without a temp directory: nil error")
	}
}
