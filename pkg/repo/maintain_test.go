package repo

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// maintainedFormat counts the calls of its Maintainer hook.
type maintainedFormat struct {
	testFormat
	calls *atomic.Int32
}

func (f maintainedFormat) Maintain(context.Context, Repository) error {
	f.calls.Add(1)
	return nil
}

// Maintain leaves resumable uploads and the formats' housekeeping (Docker
// layer collection) to their tasks: run twice, disabling a task or
// changing its age would change nothing.
func TestMaintainLeavesTasksTheirWork(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.m = NewManager(e.db, e.stores, e.m.authz, e.m.opts, maintainedFormat{calls: &calls})
	ctx := context.Background()
	if err := e.m.Create(ctx, hostedCfg("h", WriteAllow)); err != nil {
		t.Fatal(err)
	}
	r, _ := e.m.Lookup("h")
	u := r.(Uploader)
	old, err := u.NewUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.AppendUpload(ctx, old, 0, strings.NewReader("abandoned")); err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-30 * 24 * time.Hour)
	if err := os.Chtimes(filepath.Join(e.blobDir, "uploads", old), stale, stale); err != nil {
		t.Fatal(err)
	}

	e.m.Maintain(ctx)

	if _, err := u.UploadSize(ctx, old); err != nil {
		t.Errorf("Maintain purged an upload: %v", err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("Maintain ran the format's housekeeping %d times", n)
	}
}
