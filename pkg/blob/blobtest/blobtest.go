// Package blobtest holds a conformance suite that every blob.Driver must pass.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// RunDriverSuite runs the driver conformance tests. newDriver must return a
// fresh, empty driver for each call.
func RunDriverSuite(t *testing.T, newDriver func(t *testing.T) blob.Driver) {
	tests := []struct {
		name string
		fn   func(t *testing.T, d blob.Driver)
	}{
		{"CommitThenOpenStat", testCommitThenOpenStat},
		{"InvisibleBeforeCommit", testInvisibleBeforeCommit},
		{"CancelLeavesNothing", testCancelLeavesNothing},
		{"CommitExistingDedupes", testCommitExistingDedupes},
		{"Delete", testDelete},
		{"Walk", testWalk},
		{"CleanTemp", testCleanTemp},
		{"InvalidKeys", testInvalidKeys},
		{"Space", testSpace},
		{"ResumeAppends", testResumeAppends},
		{"UploadCommit", testUploadCommit},
		{"UploadCommitExistingDedupes", testUploadCommitExistingDedupes},
		{"UploadCommitFailureKeepsUpload", testUploadCommitFailureKeepsUpload},
		{"UploadCancel", testUploadCancel},
		{"UploadTruncate", testUploadTruncate},
		{"Uploads", testUploads},
		{"CleanTempKeepsUploads", testCleanTempKeepsUploads},
		{"InvalidUploadIDs", testInvalidUploadIDs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newDriver(t))
		})
	}
}

// Key returns the driver key (sha256 hex) of data.
func Key(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// put writes data through a temp write and commits it under its key.
func put(t *testing.T, d blob.Driver, data []byte) string {
	t.Helper()
	key := Key(data)
	w := create(t, d, data)
	if err := w.Commit(context.Background(), key); err != nil {
		t.Fatalf("Commit(%s): %v", key, err)
	}
	return key
}

func create(t *testing.T, d blob.Driver, data []byte) blob.TempWriter {
	t.Helper()
	w, err := d.Create(context.Background())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { w.Cancel() })
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return w
}

func read(t *testing.T, d blob.Driver, key string) []byte {
	t.Helper()
	rc, err := d.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return b
}

func keys(t *testing.T, d blob.Driver) []string {
	t.Helper()
	var ks []string
	err := d.Walk(context.Background(), func(key string, size int64, modTime time.Time) error {
		ks = append(ks, key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	sort.Strings(ks)
	return ks
}

func wantKind(t *testing.T, what string, err error, k errs.Kind) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Errorf("%s: got error %v, want kind %v", what, err, k)
	}
}

func wantAbsent(t *testing.T, d blob.Driver, key string) {
	t.Helper()
	ctx := context.Background()
	_, err := d.Stat(ctx, key)
	wantKind(t, "Stat of absent key", err, errs.NotFound)
	rc, err := d.Open(ctx, key)
	if err == nil {
		rc.Close()
	}
	wantKind(t, "Open of absent key", err, errs.NotFound)
}

// wantNoTemps checks that no temporary write is left behind, by asking
// CleanTemp to remove every temp, however fresh.
func wantNoTemps(t *testing.T, d blob.Driver) {
	t.Helper()
	time.Sleep(20 * time.Millisecond) // let any leftover temp age past "now"
	n, err := d.CleanTemp(context.Background(), 0)
	if err != nil {
		t.Fatalf("CleanTemp: %v", err)
	}
	if n != 0 {
		t.Errorf("%d temporary writes left behind", n)
	}
}

func testCommitThenOpenStat(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	data := []byte("hello, blob")
	key := put(t, d, data)
	if got := read(t, d, key); !bytes.Equal(got, data) {
		t.Errorf("Open read %q, want %q", got, data)
	}
	size, err := d.Stat(ctx, key)
	if err != nil || size != int64(len(data)) {
		t.Errorf("Stat = %d, %v; want %d", size, err, len(data))
	}
	rc, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if pos, err := rc.Seek(7, io.SeekStart); err != nil || pos != 7 {
		t.Fatalf("Seek = %d, %v", pos, err)
	}
	if rest, _ := io.ReadAll(rc); string(rest) != "blob" {
		t.Errorf("after Seek read %q, want %q", rest, "blob")
	}
	wantNoTemps(t, d)

	// An empty blob is a blob too.
	empty := put(t, d, nil)
	if size, err := d.Stat(ctx, empty); err != nil || size != 0 {
		t.Errorf("Stat(empty) = %d, %v", size, err)
	}
}

func testInvisibleBeforeCommit(t *testing.T, d blob.Driver) {
	data := []byte("not yet")
	key := Key(data)
	w := create(t, d, data)
	wantAbsent(t, d, key)
	if ks := keys(t, d); len(ks) != 0 {
		t.Errorf("Walk before commit listed %v", ks)
	}
	if err := w.Commit(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if got := read(t, d, key); !bytes.Equal(got, data) {
		t.Errorf("read %q, want %q", got, data)
	}
	if err := w.Cancel(); err != nil {
		t.Errorf("Cancel after Commit: %v", err)
	}
	if got := read(t, d, key); !bytes.Equal(got, data) {
		t.Errorf("Cancel after Commit disturbed the blob: read %q", got)
	}
}

func testCancelLeavesNothing(t *testing.T, d blob.Driver) {
	data := []byte("cancelled")
	key := Key(data)
	w := create(t, d, data)
	if err := w.Cancel(); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := w.Cancel(); err != nil {
		t.Errorf("second Cancel: %v", err)
	}
	if err := w.Commit(context.Background(), key); err == nil {
		t.Errorf("Commit after Cancel succeeded")
	}
	wantAbsent(t, d, key)
	if ks := keys(t, d); len(ks) != 0 {
		t.Errorf("Walk listed %v", ks)
	}
	wantNoTemps(t, d)
}

func testCommitExistingDedupes(t *testing.T, d blob.Driver) {
	original := []byte("first")
	key := put(t, d, original)
	// Commit different bytes under the same key: drivers do not verify, so
	// this shows that the temp was discarded rather than overwriting.
	w := create(t, d, []byte("second"))
	if err := w.Commit(context.Background(), key); err != nil {
		t.Fatalf("Commit of existing key: %v", err)
	}
	if got := read(t, d, key); !bytes.Equal(got, original) {
		t.Errorf("existing blob was replaced: read %q, want %q", got, original)
	}
	if ks := keys(t, d); len(ks) != 1 || ks[0] != key {
		t.Errorf("Walk = %v, want [%s]", ks, key)
	}
	wantNoTemps(t, d)
}

func testDelete(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	a, b := put(t, d, []byte("a")), put(t, d, []byte("b"))
	if err := d.Delete(ctx, a); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, d, a)
	if got := read(t, d, b); string(got) != "b" {
		t.Errorf("other blob read %q after Delete", got)
	}
	if err := d.Delete(ctx, a); err != nil {
		t.Errorf("Delete of absent key: %v", err)
	}
	if err := d.Delete(ctx, Key([]byte("never"))); err != nil {
		t.Errorf("Delete of never-written key: %v", err)
	}
	// A deleted key can be written again.
	put(t, d, []byte("a"))
	if got := read(t, d, a); string(got) != "a" {
		t.Errorf("rewritten blob read %q", got)
	}
}

func testWalk(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	want := map[string]int64{}
	for _, s := range []string{"", "x", "yy", "zzz", strings.Repeat("w", 5000)} {
		want[put(t, d, []byte(s))] = int64(len(s))
	}
	deleted := put(t, d, []byte("deleted"))
	if err := d.Delete(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	pending := create(t, d, []byte("pending"))
	defer pending.Cancel()

	got := map[string]int64{}
	err := d.Walk(ctx, func(key string, size int64, modTime time.Time) error {
		if _, dup := got[key]; dup {
			t.Errorf("Walk yielded %s twice", key)
		}
		if modTime.IsZero() || time.Since(modTime) > time.Hour {
			t.Errorf("Walk gave %s a bad modTime %v", key, modTime)
		}
		got[key] = size
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("Walk yielded %d keys, want %d: %v", len(got), len(want), got)
	}
	for k, size := range want {
		if gs, ok := got[k]; !ok || gs != size {
			t.Errorf("Walk: key %s size %d (present %v), want %d", k, gs, ok, size)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err = d.Walk(ctx, func(string, int64, time.Time) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Walk with failing fn: err %v after %d calls; want stop after 1", err, calls)
	}
}

func testCleanTemp(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	committed := put(t, d, []byte("committed"))
	old := create(t, d, []byte("orphan"))
	time.Sleep(200 * time.Millisecond)
	fresh := create(t, d, []byte("fresh"))

	n, err := d.CleanTemp(ctx, time.Hour)
	if err != nil || n != 0 {
		t.Fatalf("CleanTemp(1h) = %d, %v; want 0", n, err)
	}
	n, err = d.CleanTemp(ctx, 100*time.Millisecond)
	if err != nil || n != 1 {
		t.Fatalf("CleanTemp(100ms) = %d, %v; want 1", n, err)
	}
	// The fresh temp survived and still commits.
	if err := fresh.Commit(ctx, Key([]byte("fresh"))); err != nil {
		t.Errorf("Commit of fresh temp after CleanTemp: %v", err)
	}
	// The swept one is gone for good.
	if err := old.Commit(ctx, Key([]byte("orphan"))); err == nil {
		t.Errorf("Commit of a swept temp succeeded")
	}
	wantAbsent(t, d, Key([]byte("orphan")))
	if got := read(t, d, committed); string(got) != "committed" {
		t.Errorf("CleanTemp disturbed committed blob: read %q", got)
	}
	if ks := keys(t, d); len(ks) != 2 {
		t.Errorf("Walk = %v, want 2 keys", ks)
	}
	wantNoTemps(t, d)
}

func testInvalidKeys(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	valid := Key([]byte("valid"))
	bad := []string{
		"",
		"../x",
		"abc",
		strings.ToUpper(valid),
		valid[:63],
		valid + "0",
		"../../" + valid[6:],
		valid[:62] + "/x",
		valid[:63] + "g",
		"/" + valid[1:],
		valid[:31] + "\x00" + valid[32:],
	}
	for _, key := range bad {
		_, err := d.Stat(ctx, key)
		wantKind(t, "Stat("+key+")", err, errs.Invalid)
		rc, err := d.Open(ctx, key)
		if err == nil {
			rc.Close()
		}
		wantKind(t, "Open("+key+")", err, errs.Invalid)
		wantKind(t, "Delete("+key+")", d.Delete(ctx, key), errs.Invalid)
		w := create(t, d, []byte("valid"))
		wantKind(t, "Commit("+key+")", w.Commit(ctx, key), errs.Invalid)
		if err := w.Cancel(); err != nil {
			t.Errorf("Cancel after rejected Commit: %v", err)
		}
	}
	if ks := keys(t, d); len(ks) != 0 {
		t.Errorf("Walk after invalid commits = %v", ks)
	}
	wantNoTemps(t, d)
}

func testSpace(t *testing.T, d blob.Driver) {
	n, err := d.Space(context.Background())
	if err != nil {
		t.Fatalf("Space: %v", err)
	}
	if n < -1 {
		t.Errorf("Space = %d, want >= -1", n)
	}
}
