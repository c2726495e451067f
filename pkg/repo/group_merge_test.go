package repo

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// A merge is stored as the group's own asset and served from there while
// no member's asset changes; a change to any member is seen at once.
func TestGroupMergeIsCachedUntilAMemberChanges(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	put(t, h1, "pkg/x.meta", "b\n")
	put(t, h2, "pkg/x.meta", "a\n")
	g := e.create(groupCfg("g", "h1", "h2"))

	before := mergeCalls.Load()
	for range 3 {
		if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "a\nb\n" {
			t.Fatalf("merged metadata = %q", body)
		}
	}
	if n := mergeCalls.Load() - before; n != 1 {
		t.Fatalf("three GETs of unchanged members merged %d times, want 1", n)
	}
	stored, err := g.Stat(ctx, "pkg/x.meta")
	if err != nil {
		t.Fatalf("the merge is not stored as the group's asset: %v", err)
	}
	if stored.Checksums["sha1"] == "" || stored.LastModified.IsZero() {
		t.Fatalf("stored merge lacks checksums or a modification time: %+v", stored)
	}
	c, err := g.Get(ctx, "pkg/x.meta")
	if err != nil {
		t.Fatal(err)
	}
	c.Body.Close()
	if c.Asset.Blob != stored.Blob || c.Asset.Checksums["sha1"] != stored.Checksums["sha1"] {
		t.Fatalf("served %+v, want the stored merge %+v", c.Asset, stored)
	}

	// A member's new metadata: the next GET merges again.
	put(t, h2, "pkg/x.meta", "a\nc\n")
	if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "a\nb\nc\n" {
		t.Fatalf("after a member changed, merged metadata = %q, want the change", body)
	}
	// A member losing it: merged from the others.
	if err := h1.Delete(ctx, "pkg/x.meta"); err != nil {
		t.Fatal(err)
	}
	if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "a\nc\n" {
		t.Fatalf("after a member deleted it, merged metadata = %q", body)
	}
	if n := mergeCalls.Load() - before; n != 3 {
		t.Fatalf("%d merges, want 3 (one per distinct member set)", n)
	}
	// The replaced merges' bytes are freed: what is left is h2's
	// metadata, which is also the bytes of the current merge.
	if files := e.blobFiles(); len(files) != 1 {
		t.Fatalf("%d blob files, want 1: %v", len(files), files)
	}
}

// Members are asked at once, not one after another: each upstream here
// answers only once both have been asked.
func TestGroupMergeAsksMembersInParallel(t *testing.T) {
	e := newEnv(t)
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	handler := func(body string) http.HandlerFunc {
		var once sync.Once
		return func(w http.ResponseWriter, r *http.Request) {
			once.Do(arrived.Done)
			select {
			case <-both:
			case <-time.After(5 * time.Second):
				http.Error(w, "the other member was not asked meanwhile", http.StatusServiceUnavailable)
				return
			}
			w.Write([]byte(body))
		}
	}
	up1 := newUpstream(t, handler("one\n"))
	up2 := newUpstream(t, handler("two\n"))
	newProxyRepo(t, e, "p1", up1.URL, nil)
	newProxyRepo(t, e, "p2", up2.URL, nil)
	g := e.create(groupCfg("g", "p1", "p2"))
	if body, _ := read(t, context.Background(), g, "pkg/x.meta"); body != "one\ntwo\n" {
		t.Fatalf("merged metadata = %q, want both members'", body)
	}
}

// defaultsFormat is testFormat with default repositories: a hosted one and
// a group of it.
type defaultsFormat struct{ testFormat }

func (defaultsFormat) DefaultRepositories() []Config {
	h := hostedCfg("d-hosted", "allow")
	h.Format = "defaults"
	g := groupCfg("d-group", "d-hosted")
	g.Format = "defaults"
	return []Config{h, g}
}

// CreateDefaults creates what is missing and leaves what exists.
func TestCreateDefaults(t *testing.T) {
	e := newEnv(t)
	m := NewManager(e.db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler)},
		testFormat{}, defaultsFormat{testFormat{name: "defaults"}})
	ctx := context.Background()
	if err := m.CreateDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	g, ok := m.Lookup("d-group")
	if !ok || g.Config().Type != Group || len(g.(GroupMembers).Members()) != 1 {
		t.Fatalf("default group not created with its member: %v", ok)
	}
	if err := m.Delete(ctx, "d-group"); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateDefaults(ctx); err != nil {
		t.Fatalf("second CreateDefaults over an existing member: %v", err)
	}
	if _, ok := m.Lookup("d-group"); !ok {
		t.Fatal("the missing default was not created again")
	}
}

// Locate finds what Get would serve: a member's asset, the stored merge,
// a proxy's cache, downloading what is not cached yet.
func TestLocate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var downloads atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/up.bin" {
			http.NotFound(w, r)
			return
		}
		downloads.Add(1)
		io.WriteString(w, "from upstream")
	})
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	g := e.create(groupCfg("g", "h1", "h2", "p"))
	put(t, h1, "x.meta", "b\n")
	put(t, h2, "x.meta", "a\n")
	want := put(t, h2, "only-h2.bin", "two")

	if a, err := g.Locate(ctx, "only-h2.bin"); err != nil || a.Blob != want.Blob || a.Repository != "h2" {
		t.Fatalf("Locate through the group: %+v %v, want h2's asset", a, err)
	}
	a, err := g.Locate(ctx, "x.meta")
	if err != nil || a.Repository != "g" || a.Attributes[mergedFrom] == "" {
		t.Fatalf("Locate of merged metadata: %+v %v, want the group's stored merge", a, err)
	}
	if a, err := g.Locate(ctx, "up.bin"); err != nil || a.Size != int64(len("from upstream")) {
		t.Fatalf("Locate of what the proxy must download: %+v %v", a, err)
	}
	waitIdle(t, p)
	if a, err := g.Locate(ctx, "up.bin"); err != nil || a.Checksums["sha1"] == "" || downloads.Load() != 1 {
		t.Fatalf("Locate of the cached download: %+v %v, %d downloads", a, err, downloads.Load())
	}
	_, err = g.Locate(ctx, "nowhere.bin")
	wantKind(t, err, errs.NotFound, "Locate of a path no member has")
}

// The client's upload limit bounds what it uploads, not what the server
// stores for itself: a merge larger than upload.max-size is served.
func TestGroupMergeIsNotAnUpload(t *testing.T) {
	e := newEnv(t)
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	put(t, h1, "pkg/x.meta", "bbbb\n")
	put(t, h2, "pkg/x.meta", "aaaa\n")
	g := e.create(groupCfg("g", "h1", "h2"))
	ctx := WithMaxUploadSize(context.Background(), 6)
	if body, _ := read(t, ctx, g, "pkg/x.meta"); body != "aaaa\nbbbb\n" {
		t.Fatalf("merged metadata over the upload limit = %q", body)
	}
	if _, err := h1.Put(ctx, "pkg/y.meta", strings.NewReader("too long for the limit"), PutOptions{Size: -1}); errs.KindOf(err) != errs.TooLarge {
		t.Fatalf("an upload over the limit: %v", err)
	}
}
