// Package repotest holds fixtures shared by the tests of the repository
// engine, the server, the API and the formats.
package repotest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// AllowAll is an authorizer (repo.Authorizer) that grants every privilege,
// for tests whose subject is not security.
type AllowAll struct{}

// Require grants perm.
func (AllowAll) Require(context.Context, auth.Privilege) error { return nil }

// Storage is what a server keeps under its data directory: a metadata
// database and the blob stores (the default one open), in a temporary
// directory removed (the database closed) when the test ends.
type Storage struct {
	Dir    string
	DB     *meta.DB
	Stores *blob.Stores
	// BlobDir and Blobs are the default store's directory and store.
	BlobDir string
	Blobs   *blob.Store
}

// NewStorage opens a fresh Storage.
func NewStorage(t testing.TB) *Storage {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.Open(filepath.Join(dir, "db", "nexus.bolt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stores := blob.NewStores(filepath.Join(dir, "blobs"), 0)
	blobs, err := stores.Open(meta.DefaultBlobStore, meta.DefaultBlobStore)
	if err != nil {
		t.Fatal(err)
	}
	return &Storage{Dir: dir, DB: db, Stores: stores, BlobDir: stores.Dir(meta.DefaultBlobStore), Blobs: blobs}
}

// Security is a security service over s as a first start leaves it (the
// admin user, anonymous access off), with the admin password.
func (s *Storage) Security(t testing.TB, log *slog.Logger) (*auth.Service, string) {
	t.Helper()
	svc := auth.New(s.DB, log)
	file, _, err := svc.Bootstrap(t.Context(), s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	pw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return svc, strings.TrimSpace(string(pw))
}

// ReadN reads exactly n bytes from r, failing the test if they do not all
// come within 5 s (a reader following a write that stalled).
func ReadN(t testing.TB, r io.Reader, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	var k int
	Within(t, 5*time.Second, fmt.Sprintf("reading %d bytes", n), func() { k, _ = io.ReadFull(r, b) })
	if k != n {
		t.Fatalf("read %d bytes, want %d", k, n)
	}
	return b
}

// Within runs fn and fails the test if it has not returned after limit; it
// returns how long fn took. For checks that something ends at all, with a
// limit far above what it should take, never for measuring speed.
func Within(t testing.TB, limit time.Duration, what string, fn func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return time.Since(start)
	case <-time.After(limit):
		t.Fatalf("%s: still running after %s", what, limit)
		return 0
	}
}
