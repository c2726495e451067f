package repo

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Every repository type serves metadata rewritten for the URL the client
// addressed, a group after merging what its members store, and each
// rewrite is done once per change of its input.
func TestMetadataRewrittenForEveryType(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "pkg/x.meta", "UPSTREAM/pkg/x-1.tgz\n")
	g := e.create(groupCfg("g", "h"))
	hostedBase := mustURL(t, "http://nexus.example/repository/h/")
	groupBase := mustURL(t, "http://nexus.example/repository/g/")

	before := rewriteCalls.Load()
	for range 3 {
		if body, _ := read(t, WithBaseURL(ctx, hostedBase), h, "pkg/x.meta"); body != "http://nexus.example/repository/h/pkg/x-1.tgz\n" {
			t.Fatalf("hosted metadata = %q", body)
		}
		if body, _ := read(t, WithBaseURL(ctx, groupBase), g, "pkg/x.meta"); body != "http://nexus.example/repository/g/pkg/x-1.tgz\n" {
			t.Fatalf("group metadata = %q", body)
		}
	}
	if n := rewriteCalls.Load() - before; n != 2 {
		t.Fatalf("%d rewrites for two URLs read three times each, want 2", n)
	}
	// What Locate tells is what Get serves.
	a, err := g.Locate(WithBaseURL(ctx, groupBase), "pkg/x.meta")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("http://nexus.example/repository/g/pkg/x-1.tgz\n"))
	if a.Checksums["sha1"] != hex.EncodeToString(sum[:]) || a.Size != int64(len("http://nexus.example/repository/g/pkg/x-1.tgz\n")) {
		t.Fatalf("located %+v, not the rewritten bytes", a)
	}
	// Stored bytes stay as written; a change is rewritten anew.
	if body, _ := read(t, ctx, h, "pkg/x.meta"); body != "UPSTREAM/pkg/x-1.tgz\n" {
		t.Fatalf("stored metadata = %q", body)
	}
	put(t, h, "pkg/x.meta", "UPSTREAM/pkg/x-2.tgz\n")
	if body, _ := read(t, WithBaseURL(ctx, groupBase), g, "pkg/x.meta"); body != "http://nexus.example/repository/g/pkg/x-2.tgz\n" {
		t.Fatalf("group metadata after a change = %q", body)
	}
}

func TestDeriveRunsOncePerInput(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "allow"))
	put(t, h, "a.meta", "abc")
	var calls atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := h.Get(ctx, "a.meta")
			if err != nil {
				t.Error(err)
				return
			}
			d, err := Derive(ctx, c, "upper-"+t.Name(), func(b []byte) ([]byte, error) {
				calls.Add(1)
				return []byte(strings.ToUpper(string(b))), nil
			})
			if err != nil {
				t.Error(err)
				return
			}
			if d.Asset.Size != 3 || d.Asset.Blob != "" || d.Asset.Checksums["sha256"] == "" {
				t.Errorf("derived asset %+v", d.Asset)
			}
			if b, _ := readAll(d); b != "ABC" {
				t.Errorf("derived %q", b)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("derived %d times, want once", n)
	}
	// A failing transform is an error and nothing is kept.
	c, _ := h.Get(ctx, "a.meta")
	if _, err := Derive(ctx, c, "fail-"+t.Name(), func([]byte) ([]byte, error) { return nil, errs.New(errs.Invalid, "no") }); errs.KindOf(err) != errs.Invalid {
		t.Fatalf("failing derive: %v", err)
	}
}

func readAll(c *Content) (string, error) {
	defer c.Body.Close()
	b, err := io.ReadAll(c.Body)
	return string(b), err
}

func TestDerivedCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newDerivedCache(100)
	c.put(&derivedBytes{key: "a", body: make([]byte, 20)})
	c.put(&derivedBytes{key: "b", body: make([]byte, 20)})
	c.put(&derivedBytes{key: "too-big", body: make([]byte, 30)}) // over a quarter
	c.get("a")
	for i := range 4 {
		c.put(&derivedBytes{key: string(rune('c' + i)), body: make([]byte, 20)})
	}
	if _, ok := c.get("too-big"); ok {
		t.Error("an entry over a quarter of the cache was kept")
	}
	if _, ok := c.get("b"); ok {
		t.Error("the least recently used entry was kept")
	}
	if _, ok := c.get("a"); !ok {
		t.Error("a recently used entry was evicted")
	}
	if c.size > 100 {
		t.Errorf("cache holds %d bytes, limit 100", c.size)
	}
}

// PutOptions.Check sees the asset in the transaction and its error stops
// the write: a read-modify-write that lost a race stores nothing.
func TestPutCheckIsACompareAndSwap(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "allow"))
	first := put(t, h, "doc.meta", "v1")
	stale := errors.New("stale")
	casFrom := func(want *meta.Asset) func(*meta.Asset) error {
		return func(existing *meta.Asset) error {
			if existing == nil || existing.Blob != want.Blob {
				return stale
			}
			return nil
		}
	}
	second, err := h.Put(ctx, "doc.meta", strings.NewReader("v2"), PutOptions{Size: -1, Check: casFrom(first)})
	if err != nil {
		t.Fatal(err)
	}
	// A writer still holding v1 loses.
	if _, err := h.Put(ctx, "doc.meta", strings.NewReader("v3"), PutOptions{Size: -1, Check: casFrom(first)}); !errors.Is(err, stale) {
		t.Fatalf("stale write: %v, want the check's error", err)
	}
	if body, _ := read(t, ctx, h, "doc.meta"); body != "v2" {
		t.Fatalf("after a refused write the asset is %q", body)
	}
	if _, err := h.Put(ctx, "doc.meta", strings.NewReader("v3"), PutOptions{Size: -1, Check: casFrom(second)}); err != nil {
		t.Fatal(err)
	}
	if body, _ := read(t, ctx, h, "doc.meta"); body != "v3" {
		t.Fatalf("asset %q", body)
	}
	if files := e.blobFiles(); len(files) != 1 {
		t.Fatalf("%d blob files, want only v3's", len(files))
	}
}
