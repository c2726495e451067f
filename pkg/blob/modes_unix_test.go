//go:build unix

package blob_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/opencontainers/go-digest"
)

// wantPrivate checks that every file under root is 0600 and every
// directory 0700; it returns how many files it saw.
func wantPrivate(t *testing.T, root string) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o700)
		if !d.IsDir() {
			want = 0o600
			files++
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %o, want %o", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// peekReader calls peek before its first read: to look at a write in
// progress.
type peekReader struct {
	r    io.Reader
	peek func()
}

func (p *peekReader) Read(b []byte) (int, error) {
	if p.peek != nil {
		p.peek()
		p.peek = nil
	}
	return p.r.Read(b)
}

// Every file the store writes (a Put's temp file and blob, an upload's
// file and the blob it commits to, their shard directories) is the
// server's alone, whatever the process umask allows; so is what an older
// version left open.
func TestFileModesArePrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// As an older version created it.
	if err := os.Mkdir(filepath.Join(dir, "content"), 0o755); err != nil {
		t.Fatal(err)
	}
	d, err := blob.NewFileDriver(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := blob.NewStore("test", d)
	ctx := t.Context()

	peeked := 0
	body := &peekReader{r: bytes.NewReader([]byte("put content")), peek: func() {
		peeked = wantPrivate(t, root)
	}}
	if _, err := s.Put(ctx, body, blob.PutOptions{ExpectedSize: -1}, nil); err != nil {
		t.Fatal(err)
	}
	if peeked != 1 {
		t.Fatalf("saw %d files while the Put was writing, want its temp file", peeked)
	}
	if n := wantPrivate(t, root); n != 1 {
		t.Fatalf("%d files after a Put, want 1", n)
	}

	id, err := s.NewUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("uploaded content")
	if _, err := s.AppendUpload(ctx, id, 0, bytes.NewReader(data), 0); err != nil {
		t.Fatal(err)
	}
	if n := wantPrivate(t, root); n != 2 {
		t.Fatalf("%d files with an upload open, want 2", n)
	}
	if _, err := s.CommitUpload(ctx, id, digest.FromBytes(data), nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := wantPrivate(t, root); n != 2 {
		t.Fatalf("%d files after committing the upload, want 2 blobs", n)
	}
}
