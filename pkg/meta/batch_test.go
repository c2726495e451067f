package meta

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// queued waits until n writes wait behind the running commit.
func queued(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.commits.mu.Lock()
		got := len(db.commits.queue)
		db.commits.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockCommits starts a write that holds the committer until release is
// called, so that the writes started meanwhile queue up.
func blockCommits(t *testing.T, db *DB) (release func()) {
	t.Helper()
	started, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.batch(func(*bolt.Tx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("blocking write: %v", err)
		}
	}
}

// Writes that arrive while a commit runs share the next transaction.
func TestBatchGroupsQueuedWrites(t *testing.T) {
	db, _ := openAssetsDB(t)
	release := blockCommits(t, db)
	const n = 8
	txs := make([]int, n)
	errc := make(chan error, n)
	for i := range n {
		go func() {
			_, _, err := db.PutAsset(PutAssetRequest{
				Asset: Asset{Repository: "r", Path: fmt.Sprint("p", i), Blob: dg("shared"), Size: 3},
				Check: func(*Asset) error { return nil },
			})
			errc <- err
		}()
		// Record the transaction each write ran in.
		go func() {
			errc <- db.batch(func(tx *bolt.Tx) error { txs[i] = tx.ID(); return nil })
		}()
	}
	queued(t, db, 2*n)
	release()
	for range 2 * n {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	for i := range txs {
		if txs[i] != txs[0] {
			t.Fatalf("queued writes ran in transactions %v, want one", txs)
		}
	}
	if r := refsOf(t, db, dg("shared")); r != n {
		t.Fatalf("refs = %d, want %d", r, n)
	}
}

// A write that fails in a group gets its own error and leaves nothing; the
// others of the group are committed, each once.
func TestBatchFailureStaysWithItsCaller(t *testing.T) {
	db, _ := openAssetsDB(t)
	release := blockCommits(t, db)
	const n = 9
	errsOf := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errsOf[i] = db.PutAsset(PutAssetRequest{
				Asset: Asset{Repository: "r", Path: fmt.Sprint("p", i), Blob: dg("shared"), Size: 3},
				Check: func(*Asset) error {
					if i%3 == 1 {
						return fmt.Errorf("refused %d", i)
					}
					return nil
				},
			})
		}()
	}
	queued(t, db, n)
	release()
	wg.Wait()
	ok := 0
	for i, err := range errsOf {
		_, serr := db.AssetByPath("r", fmt.Sprint("p", i))
		if i%3 == 1 {
			if err == nil || err.Error() != fmt.Sprint("refused ", i) {
				t.Errorf("write %d: %v, want its own refusal", i, err)
			}
			wantNotFound(t, serr, fmt.Sprint("refused write ", i))
			continue
		}
		if err != nil || serr != nil {
			t.Errorf("write %d: %v, stored: %v", i, err, serr)
		}
		ok++
	}
	if r := refsOf(t, db, dg("shared")); r != int64(ok) {
		t.Fatalf("refs = %d, want %d (each committed write counted once)", r, ok)
	}
}

// A panicking write fails alone instead of ending the process.
func TestBatchPanicIsAnError(t *testing.T) {
	db, _ := openAssetsDB(t)
	release := blockCommits(t, db)
	errc := make(chan error, 2)
	go func() { errc <- db.batch(func(*bolt.Tx) error { panic("boom") }) }()
	go func() {
		errc <- db.batch(func(tx *bolt.Tx) error { return tx.Bucket(bucketSettings).Put([]byte("k"), []byte("v")) })
	}()
	queued(t, db, 2)
	release()
	var failed []error
	for range 2 {
		if err := <-errc; err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0].Error(), "panicked: boom") {
		t.Fatalf("failed writes: %v, want the panicking one", failed)
	}
	db.bolt.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSettings).Get([]byte("k")); string(v) != "v" {
			t.Errorf("the other write was not committed: %q", v)
		}
		return nil
	})
}

// BenchmarkPutAssetConcurrent: 8 writers storing assets of distinct blobs,
// as 8 clients pushing layers do; each commit is durable (fsync).
func BenchmarkPutAssetConcurrent(b *testing.B) {
	path := filepath.Join(b.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var n atomic.Int64
	b.SetParallelism(4) // 8 writers on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			_, _, err := db.PutAsset(PutAssetRequest{
				Asset: Asset{Repository: "r", Path: fmt.Sprint("v2/img/blobs/", i), Blob: dg(fmt.Sprint(i)), Size: 4 << 20},
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
