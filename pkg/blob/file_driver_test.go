package blob_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/blob/blobtest"
)

func newFileDriver(t *testing.T) blob.Driver {
	d, err := blob.NewFileDriver(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFileDriver(t *testing.T) {
	blobtest.RunDriverSuite(t, newFileDriver)
}

func TestFileDriverLayout(t *testing.T) {
	dir := t.TempDir()
	d, err := blob.NewFileDriver(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("layout")
	key := blobtest.Key(data)
	w, err := d.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(t.Context(), key); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "content", key[:2], key)); err != nil {
		t.Errorf("blob not at content/<hex[0:2]>/<hex>: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp not empty after commit: %v", ents)
	}
	rc, err := d.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, ok := rc.(*os.File); !ok {
		t.Errorf("Open returned %T, want *os.File (for sendfile)", rc)
	}
	if n, err := d.Space(t.Context()); err != nil || n <= 0 {
		t.Errorf("Space = %d, %v; want > 0", n, err)
	}
	// Stray files in the store are not blobs.
	os.WriteFile(filepath.Join(dir, "content", key[:2], "junk"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "tmp", "not-ours"), nil, 0o644)
	n := 0
	d.Walk(t.Context(), func(string, int64, time.Time) error { n++; return nil })
	if n != 1 {
		t.Errorf("Walk yielded %d keys, want 1", n)
	}
	time.Sleep(20 * time.Millisecond)
	if n, err := d.CleanTemp(t.Context(), 0); err != nil || n != 0 {
		t.Errorf("CleanTemp = %d, %v; want 0", n, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tmp", "not-ours")); err != nil {
		t.Errorf("CleanTemp removed a file it did not create: %v", err)
	}
}
