package repo

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	h := e.create(hostedCfg("h", WriteAllow))
	a := put(t, h, "a.txt", "a")
	wantKind(t, e.m.SetReadOnly(ctx, false), errs.NotFound, "release while not frozen")
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.m.SetReadOnly(ctx, true), errs.NotFound, "freeze while frozen")

	check := func() {
		t.Helper()
		for what, err := range map[string]error{
			"put":              func() error { _, err := h.Put(ctx, "b.txt", strings.NewReader("b"), PutOptions{Size: -1}); return err }(),
			"delete":           h.Delete(ctx, "a.txt"),
			"delete asset":     e.m.DeleteAsset(ctx, a.ID),
			"create":           e.m.Create(ctx, hostedCfg("h2", WriteAllow)),
			"update":           e.m.Update(ctx, hostedCfg("h", WriteDeny)),
			"delete repo":      e.m.Delete(ctx, "h"),
			"save routing":     e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: RoutingBlock, Matchers: []string{"x"}}, true),
			"api writes check": e.m.Writable(),
			"format writes":    Writable(h),
			"purge uploads":    func() error { _, err := e.m.PurgeUploads(ctx, time.Hour); return err }(),
			"reconcile blobs":  func() error { _, err := e.m.ReconcileBlobs(ctx); return err }(),
			"create store":     e.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "other"}),
			"update store":     e.m.UpdateBlobStore(ctx, meta.BlobStoreConfig{Name: "default"}),
			"delete store":     e.m.DeleteBlobStore(ctx, "default"),
		} {
			wantKind(t, err, errs.Unavailable, what)
		}
		if body, _ := read(t, ctx, h, "a.txt"); body != "a" {
			t.Fatalf("read while frozen = %q", body)
		}
	}
	check()
	st, err := e.m.ReadOnly(ctx)
	if err != nil || !st.Frozen || !strings.HasPrefix(st.SummaryReason, "Activated by") {
		t.Fatalf("ReadOnly = %+v, %v", st, err)
	}

	// The state is stored: a restart stays frozen.
	e.reopen()
	h = e.lookup("h")
	check()

	if err := e.m.SetReadOnly(ctx, false); err != nil {
		t.Fatal(err)
	}
	put(t, h, "b.txt", "b")
	if st, _ := e.m.ReadOnly(ctx); st.Frozen || st.SummaryReason != "" {
		t.Fatalf("released state = %+v", st)
	}
}

// A frozen proxy serves what it has cached, stale or not, without asking
// the upstream (a revalidation is a write); what it lacks is refused at
// once with 503 rather than fetched, and nothing waits for a download
// that cannot be stored.
func TestReadOnlyProxyServesCacheOnly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "up "+r.URL.Path) })
	p, clk := newProxyRepo(t, e, "p", up.URL, nil)
	if body, _ := read(t, ctx, p, "cached.txt"); body != "up /cached.txt" {
		t.Fatalf("before the freeze: %q", body)
	}
	waitIdle(t, p)
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	clk.Advance(48 * time.Hour) // past contentMaxAge: stale
	hits := up.hits.Load()
	if body, _ := read(t, ctx, p, "cached.txt"); body != "up /cached.txt" {
		t.Fatalf("stale cached while frozen: %q", body)
	}
	c, err := p.Get(ctx, "new.txt")
	if err == nil {
		_, rerr := io.ReadAll(c.Body)
		c.Body.Close()
		t.Fatalf("uncached while frozen: served (read err %v), want 503", rerr)
	}
	wantKind(t, err, errs.Unavailable, "uncached proxy Get while frozen")
	if n := up.hits.Load(); n != hits {
		t.Errorf("frozen proxy asked the upstream %d times", n-hits)
	}
}

// A download that reaches the cache after a freeze (it began before)
// ends its readers with the refusal instead of leaving them waiting.
func TestReadOnlyStoreEndsItsTail(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e := newEnv(t)
	h := e.create(hostedCfg("h", WriteAllow)).(*hostedRepo)
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	tail := blob.NewTail(1)
	if _, err := h.store(ctx, "a.txt", strings.NewReader("a"), PutOptions{Size: 1, Tail: tail}, nil, 0); errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("store while frozen = %v", err)
	}
	body, err := tail.Open(ctx)
	if err == nil {
		_, err = io.ReadAll(body)
		body.Close()
	}
	if errs.KindOf(err) != errs.Unavailable {
		t.Fatalf("tail reader after a refused store: %v, want the refusal", err)
	}
}

// A frozen server's start-up sweep deletes nothing, not even what a crash
// left: a freeze is often a backup's, which wants the files to stay put.
func TestReadOnlySweepDeletesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	h := e.create(hostedCfg("h", WriteAllow))
	lost := put(t, h, "lost", "lost bytes")
	if _, err := e.db.DeleteAssetByPath("h", "lost"); err != nil { // a crash before the release
		t.Fatal(err)
	}
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	e.reopen()
	if err := e.m.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if has, _ := e.db.HasBlob(lost.BlobStore, lost.Blob); !has || !e.hasBlobFile(lost) {
		t.Fatalf("a frozen sweep released a blob (record %v, file %v)", has, e.hasBlobFile(lost))
	}
}

// Download times are a write: none is recorded or flushed while frozen.
func TestReadOnlyRecordsNoDownloads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	clk := testclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	e.m.downloads.now = clk.Now
	h := e.create(hostedCfg("h", WriteAllow))
	put(t, h, "a", "a")
	put(t, h, "b", "b")
	download(t, h, "a") // pending when the freeze comes
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	download(t, h, "b")
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b"} {
		if !lastDownloaded(t, e, "h", p).IsZero() {
			t.Errorf("download time of %s written while frozen", p)
		}
	}
	if err := e.m.SetReadOnly(ctx, false); err != nil {
		t.Fatal(err)
	}
	if err := e.m.FlushDownloads(); err != nil {
		t.Fatal(err)
	}
	if lastDownloaded(t, e, "h", "a").IsZero() || !lastDownloaded(t, e, "h", "b").IsZero() {
		t.Errorf("after the release: a (pending before) %v, b (while frozen) %v; want a written, b not",
			lastDownloaded(t, e, "h", "a"), lastDownloaded(t, e, "h", "b"))
	}
}

// A frozen group still merges its members' metadata: the merge is served
// without being stored (storing it is a write).
func TestReadOnlyGroupMergesWithoutStoring(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	h1 := e.create(hostedCfg("h1", WriteAllow))
	h2 := e.create(hostedCfg("h2", WriteAllow))
	g := e.create(groupCfg("g", "h1", "h2"))
	put(t, h1, "pkg/x.meta", "b\n")
	put(t, h2, "pkg/x.meta", "a\n")
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "a\nb\n" {
			t.Fatalf("frozen group merge = %q", body)
		}
	}
	if _, err := e.db.AssetByPath("g", "pkg/x.meta"); errs.KindOf(err) != errs.NotFound {
		t.Errorf("a frozen group stored its merge: %v", err)
	}
}
