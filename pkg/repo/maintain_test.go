package repo

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// Maintain purges resumable uploads left unfinished longer than
// UploadPurgeAge and keeps younger ones.
func TestMaintainPurgesOldUploads(t *testing.T) {
	e := newEnv(t)
	e.m = NewManager(e.db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler), UploadPurgeAge: time.Hour}, testFormat{})
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
	fresh, err := u.NewUpload(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stale := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(e.blobDir, "uploads", old), stale, stale); err != nil {
		t.Fatal(err)
	}

	e.m.Maintain(ctx)

	if _, err := u.UploadSize(ctx, old); errs.KindOf(err) != errs.NotFound {
		t.Errorf("upload idle for 2h: UploadSize err = %v, want NotFound", err)
	}
	if _, err := u.UploadSize(ctx, fresh); err != nil {
		t.Errorf("fresh upload purged: %v", err)
	}
}
