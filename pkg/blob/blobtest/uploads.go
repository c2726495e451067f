package blobtest

// The half of the driver suite about resumable uploads (Docker's chunked
// pushes).

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Upload ids used by the upload tests.
const (
	uploadA = "0d6f5e3c-8a1b-4c2d-9e7f-1a2b3c4d5e6f"
	uploadB = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"
)

// appendUpload resumes upload id, checks its size is wantSize, appends data
// and closes it.
func appendUpload(t *testing.T, d blob.Driver, id string, wantSize int64, data string) {
	t.Helper()
	w, size, err := d.Resume(context.Background(), id)
	if err != nil {
		t.Fatalf("Resume(%s): %v", id, err)
	}
	defer w.Close()
	if size != wantSize {
		t.Errorf("Resume(%s) size = %d, want %d", id, size, wantSize)
	}
	if _, err := io.WriteString(w, data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func readUpload(t *testing.T, d blob.Driver, id string) string {
	t.Helper()
	rc, err := d.OpenUpload(context.Background(), id)
	if err != nil {
		t.Fatalf("OpenUpload(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading upload %s: %v", id, err)
	}
	return string(b)
}

func uploads(t *testing.T, d blob.Driver) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	err := d.Uploads(context.Background(), func(id string, size int64, modTime time.Time) error {
		if modTime.IsZero() || time.Since(modTime) > time.Hour {
			t.Errorf("Uploads gave %s a bad modTime %v", id, modTime)
		}
		m[id] = size
		return nil
	})
	if err != nil {
		t.Fatalf("Uploads: %v", err)
	}
	return m
}

func wantNoUpload(t *testing.T, d blob.Driver, id string) {
	t.Helper()
	rc, err := d.OpenUpload(context.Background(), id)
	if err == nil {
		rc.Close()
	}
	wantKind(t, "OpenUpload of absent upload", err, errs.NotFound)
	if _, ok := uploads(t, d)[id]; ok {
		t.Errorf("Uploads lists absent upload %s", id)
	}
}

func testResumeAppends(t *testing.T, d blob.Driver) {
	wantNoUpload(t, d, uploadA)
	appendUpload(t, d, uploadA, 0, "abc")
	appendUpload(t, d, uploadA, 3, "")
	appendUpload(t, d, uploadA, 3, "def")
	if got := readUpload(t, d, uploadA); got != "abcdef" {
		t.Errorf("upload holds %q, want %q", got, "abcdef")
	}
	// An upload is not a blob.
	if ks := keys(t, d); len(ks) != 0 {
		t.Errorf("Walk listed %v", ks)
	}
	wantAbsent(t, d, Key([]byte("abcdef")))
}

func testUploadCommit(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	appendUpload(t, d, uploadA, 0, "chunk one,")
	w, size, err := d.Resume(ctx, uploadA)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Cancel() })
	if size != 10 {
		t.Errorf("Resume size = %d, want 10", size)
	}
	io.WriteString(w, " chunk two")
	key := Key([]byte("chunk one, chunk two"))
	if err := w.Commit(ctx, key); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := read(t, d, key); string(got) != "chunk one, chunk two" {
		t.Errorf("committed blob reads %q", got)
	}
	if ks := keys(t, d); len(ks) != 1 || ks[0] != key {
		t.Errorf("Walk = %v, want [%s]", ks, key)
	}
	wantNoUpload(t, d, uploadA)
	if err := w.Cancel(); err != nil {
		t.Errorf("Cancel after Commit: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Commit: %v", err)
	}
	if got := read(t, d, key); string(got) != "chunk one, chunk two" {
		t.Errorf("Cancel after Commit disturbed the blob: read %q", got)
	}
}

func testUploadCommitExistingDedupes(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	key := put(t, d, []byte("first"))
	// As with temps, drivers do not verify: different bytes show which won.
	w, _, err := d.Resume(ctx, uploadA)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "second")
	if err := w.Commit(ctx, key); err != nil {
		t.Fatalf("Commit of existing key: %v", err)
	}
	if got := read(t, d, key); string(got) != "first" {
		t.Errorf("existing blob was replaced: read %q", got)
	}
	wantNoUpload(t, d, uploadA)
}

func testUploadCommitFailureKeepsUpload(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	appendUpload(t, d, uploadA, 0, "kept")
	w, _, err := d.Resume(ctx, uploadA)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, "Commit to an invalid key", w.Commit(ctx, "../x"), errs.Invalid)
	if got := readUpload(t, d, uploadA); got != "kept" {
		t.Errorf("upload holds %q after a failed Commit, want %q", got, "kept")
	}
	if ks := keys(t, d); len(ks) != 0 {
		t.Errorf("Walk = %v", ks)
	}
	// The client retries, and this time it works.
	w, _, err = d.Resume(ctx, uploadA)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx, Key([]byte("kept"))); err != nil {
		t.Fatalf("retried Commit: %v", err)
	}
	if got := read(t, d, Key([]byte("kept"))); string(got) != "kept" {
		t.Errorf("read %q", got)
	}
}

func testUploadCancel(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	appendUpload(t, d, uploadA, 0, "doomed")
	appendUpload(t, d, uploadB, 0, "other")
	w, _, err := d.Resume(ctx, uploadA)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Cancel(); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if err := w.Cancel(); err != nil {
		t.Errorf("second Cancel: %v", err)
	}
	if err := w.Commit(ctx, Key([]byte("doomed"))); err == nil {
		t.Errorf("Commit after Cancel succeeded")
	}
	wantNoUpload(t, d, uploadA)
	wantAbsent(t, d, Key([]byte("doomed")))
	if got := readUpload(t, d, uploadB); got != "other" {
		t.Errorf("other upload holds %q", got)
	}
	// Close keeps an upload; Cancel after it does not delete it.
	w, _, err = d.Resume(ctx, uploadB)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	w.Cancel()
	if got := readUpload(t, d, uploadB); got != "other" {
		t.Errorf("upload holds %q after Close and Cancel", got)
	}
}

func testUploadTruncate(t *testing.T, d blob.Driver) {
	w, size, err := d.Resume(context.Background(), uploadA)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	io.WriteString(w, "abcdef")
	if err := w.Truncate(size + 3); err != nil {
		t.Fatalf("Truncate: %v", err)
	}
	io.WriteString(w, "X")
	w.Close()
	if got := readUpload(t, d, uploadA); got != "abcX" {
		t.Errorf("upload holds %q after Truncate and Write, want %q", got, "abcX")
	}
}

func testUploads(t *testing.T, d blob.Driver) {
	if m := uploads(t, d); len(m) != 0 {
		t.Errorf("Uploads of empty driver = %v", m)
	}
	appendUpload(t, d, uploadA, 0, "aaa")
	appendUpload(t, d, uploadB, 0, "")
	put(t, d, []byte("a blob"))
	pending := create(t, d, []byte("a temp"))
	defer pending.Cancel()
	m := uploads(t, d)
	if len(m) != 2 || m[uploadA] != 3 || m[uploadB] != 0 {
		t.Errorf("Uploads = %v, want %s:3 and %s:0", m, uploadA, uploadB)
	}

	stop := errors.New("stop")
	calls := 0
	err := d.Uploads(context.Background(), func(string, int64, time.Time) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Uploads with failing fn: err %v after %d calls; want stop after 1", err, calls)
	}
}

func testCleanTempKeepsUploads(t *testing.T, d blob.Driver) {
	appendUpload(t, d, uploadA, 0, "idle upload")
	wantNoTemps(t, d)
	if got := readUpload(t, d, uploadA); got != "idle upload" {
		t.Errorf("upload holds %q after CleanTemp", got)
	}
}

func testInvalidUploadIDs(t *testing.T, d blob.Driver) {
	ctx := context.Background()
	bad := []string{
		"",
		"../x",
		"../" + uploadA[3:],
		strings.ToUpper(uploadA),
		uploadA[:35],
		uploadA + "0",
		"{" + uploadA[1:35] + "}",
		strings.ReplaceAll(uploadA, "-", ""),
		uploadA[:8] + "/" + uploadA[9:],
		uploadA[:20] + "\x00" + uploadA[21:],
		"urn:uuid:" + uploadA,
		Key([]byte("a key is not an upload id")),
	}
	for _, id := range bad {
		w, _, err := d.Resume(ctx, id)
		if err == nil {
			w.Cancel()
		}
		wantKind(t, "Resume("+id+")", err, errs.Invalid)
		rc, err := d.OpenUpload(ctx, id)
		if err == nil {
			rc.Close()
		}
		wantKind(t, "OpenUpload("+id+")", err, errs.Invalid)
	}
	if m := uploads(t, d); len(m) != 0 {
		t.Errorf("Uploads after invalid ids = %v", m)
	}
}
