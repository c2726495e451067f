package repo

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// countingDriver counts the blob reads of a driver; the first waits for
// release, so that concurrent callers pile up behind it.
type countingDriver struct {
	blob.Driver
	opens   atomic.Int32
	release chan struct{}
}

func (d *countingDriver) Open(ctx context.Context, key string) (blob.ReadSeekCloser, error) {
	if d.opens.Add(1) == 1 {
		<-d.release
	}
	return d.Driver.Open(ctx, key)
}

// The checksums missing from an asset are computed in one read of its
// blob, shared by concurrent callers, and stored for the next.
func TestChecksumsOneReadForAll(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	file, err := blob.NewFileDriver(e.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingDriver{Driver: file, release: make(chan struct{})}
	e.blobs = blob.NewStore(meta.DefaultBlobStore, counting)
	e.stores.Add(e.blobs)
	e.m = NewManager(e.db, e.stores, e.m.authz, e.m.opts, testFormat{})
	r := e.create(hostedCfg("h", "allow"))
	a := put(t, r, "f", "some content") // testFormat computes sha1 (and sha256) at write time
	if a.Checksums["md5"] != "" || a.Checksums["sha512"] != "" {
		t.Fatalf("md5 or sha512 computed at write time: %v", a.Checksums)
	}
	m5, s1, s512 := md5.Sum([]byte("some content")), sha1.Sum([]byte("some content")), sha512.Sum512([]byte("some content"))
	want := map[string]string{"md5": hex.EncodeToString(m5[:]), "sha1": hex.EncodeToString(s1[:]),
		"sha256": a.Blob.Encoded(), "sha512": hex.EncodeToString(s512[:])}
	all := []blob.Algorithm{blob.MD5, blob.SHA1, blob.SHA256, blob.SHA512}

	const callers = 8
	var started, done sync.WaitGroup
	results := make([]map[string]string, callers)
	for i := range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			got, err := e.m.Checksums(ctx, a, all)
			if err != nil {
				t.Error(err)
			}
			results[i] = got
		}()
	}
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them reach the blocked read; a late one finds the stored sums
	close(counting.release)
	done.Wait()
	if n := counting.opens.Load(); n != 1 {
		t.Fatalf("%d concurrent callers read the blob %d times, want once", callers, n)
	}
	for i, got := range results {
		for alg, v := range want {
			if got[alg] != v {
				t.Errorf("caller %d: %s = %q, want %q", i, alg, got[alg], v)
			}
		}
	}
	// Stored: the next caller (with the asset as read before) reads nothing.
	if got, err := e.m.Checksums(ctx, a, all); err != nil || got["sha512"] != want["sha512"] {
		t.Fatalf("Checksums again = %v, %v", got, err)
	}
	if n := counting.opens.Load(); n != 1 {
		t.Fatalf("stored checksums computed again (%d reads)", n)
	}
	if rec, err := e.db.BlobRecord(a.BlobStore, a.Blob); err != nil || rec.Checksums["md5"] != want["md5"] || rec.Checksums["sha512"] != want["sha512"] {
		t.Fatalf("stored blob checksums %v, %v", rec.Checksums, err)
	}
}
