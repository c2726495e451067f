package repo

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

func blobFileIn(t *testing.T, dir string, a *meta.Asset) bool {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, "content", a.Blob.Encoded()[:2], a.Blob.Encoded()))
	return err == nil
}

// Two repositories in two stores, the same content pushed to both: each
// store holds its own copy and counts it; deleting from one frees only
// that one; after a restart each repository still reads from its store.
func TestRepositoriesUseTheirBlobStore(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	abs := t.TempDir()
	if err := e.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "second", Path: abs}); err != nil {
		t.Fatal(err)
	}
	if err := e.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "third"}); err != nil { // path: its name
		t.Fatal(err)
	}
	one := e.create(hostedCfg("one", "allow"))
	cfg := hostedCfg("two", "allow")
	cfg.Storage.BlobStoreName = "second"
	two := e.create(cfg)
	a1 := put(t, one, "f", "the same bytes")
	a2 := put(t, two, "f", "the same bytes")
	if a1.BlobStore != "default" || a2.BlobStore != "second" || a1.Blob != a2.Blob {
		t.Fatalf("assets in %s and %s (%s, %s)", a1.BlobStore, a2.BlobStore, a1.Blob, a2.Blob)
	}
	if !blobFileIn(t, e.blobDir, a1) || !blobFileIn(t, abs, a2) {
		t.Fatal("each store should hold its copy")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(e.blobDir), "third", "content")); err != nil {
		t.Fatalf("store third's directory under blobs/: %v", err)
	}
	usage, err := e.m.BlobStoreUsage(ctx)
	if err != nil || len(usage) != 3 {
		t.Fatalf("usage = %+v, %v", usage, err)
	}
	for _, u := range usage {
		want := int64(1)
		if u.Name == "third" {
			want = 0
		}
		if u.BlobCount != want || u.Type != "File" {
			t.Errorf("store %s: %+v, want %d blobs", u.Name, u, want)
		}
	}

	if err := e.m.DeleteAsset(ctx, a2.ID); err != nil {
		t.Fatal(err)
	}
	if blobFileIn(t, abs, a2) || !blobFileIn(t, e.blobDir, a1) {
		t.Fatal("deleting from store second must free its copy only")
	}
	// A link (Docker's mount) to a blob of another store copies it in.
	linked, err := two.(Uploader).Link(ctx, "linked", a1.Blob, PutOptions{Size: a1.Size})
	if err != nil || linked.BlobStore != "second" || !blobFileIn(t, abs, linked) {
		t.Fatalf("link across stores = %+v, %v", linked, err)
	}
	if err := e.m.DeleteAsset(ctx, linked.ID); err != nil {
		t.Fatal(err)
	}
	a2 = put(t, two, "g", "again")

	e.reopenStores(t)
	for name, want := range map[string]string{"one": "the same bytes", "two": "again"} {
		r := e.lookup(name)
		p := "f"
		if name == "two" {
			p = "g"
		}
		c, err := r.Get(ctx, p)
		if err != nil {
			t.Fatalf("%s after restart: %v", name, err)
		}
		var b bytes.Buffer
		b.ReadFrom(c.Body)
		c.Body.Close()
		if b.String() != want {
			t.Fatalf("%s/%s = %q", name, p, b.String())
		}
	}
	if err := e.m.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if !blobFileIn(t, abs, a2) {
		t.Fatal("the sweep freed a referenced blob of store second")
	}
}

// reopenStores restarts the manager over the same directories with no
// store open: Load opens the stored ones.
func (e *env) reopenStores(t *testing.T) {
	t.Helper()
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	e.stores = blob.NewStores(filepath.Dir(e.blobDir), 0)
	e.open()
	if err := e.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Refusals: a repository naming an unknown store, changing its store, a
// store deleted while used or holding blobs, bad names, paths and quotas.
func TestBlobStoreRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wantField := func(err error, field string) {
		t.Helper()
		fe, ok := err.(*errs.FieldError)
		if !ok || fe.Field != field {
			t.Fatalf("err = %v, want a refusal of %s", err, field)
		}
	}
	cfg := hostedCfg("h", "allow")
	cfg.Storage.BlobStoreName = "nope"
	wantField(e.m.Create(ctx, cfg), "storage.blobStoreName")
	if err := e.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "other", Path: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	r := e.create(hostedCfg("h", "allow"))
	cfg = r.Config()
	cfg.Storage.BlobStoreName = "other"
	wantField(e.m.Update(ctx, cfg), "storage.blobStoreName")

	for _, c := range []struct {
		cfg   meta.BlobStoreConfig
		field string
	}{
		{meta.BlobStoreConfig{Name: "OTHER", Path: "x"}, "name"},
		{meta.BlobStoreConfig{Name: "bad/name"}, "name"},
		{meta.BlobStoreConfig{Name: "up", Path: "../../etc"}, "path"},
		{meta.BlobStoreConfig{Name: "same", Path: "elsewhere"}, "path"},
		{meta.BlobStoreConfig{Name: "inside", Path: "elsewhere/sub"}, "path"},
		{meta.BlobStoreConfig{Name: "parent", Path: filepath.Dir(e.blobDir)}, "path"},
		{meta.BlobStoreConfig{Name: "q", SoftQuota: &meta.SoftQuota{Type: "files", Limit: 1}}, "softQuota.type"},
		{meta.BlobStoreConfig{Name: "q", SoftQuota: &meta.SoftQuota{Type: QuotaSpaceUsed}}, "softQuota.limit"},
	} {
		wantField(e.m.CreateBlobStore(ctx, c.cfg), c.field)
	}
	wantField(e.m.UpdateBlobStore(ctx, meta.BlobStoreConfig{Name: "other", Path: "moved"}), "path")
	if err := e.m.UpdateBlobStore(ctx, meta.BlobStoreConfig{Name: "missing"}); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("update of a missing store: %v", err)
	}

	err := e.m.DeleteBlobStore(ctx, "default")
	if errs.KindOf(err) != errs.Invalid || !strings.Contains(err.Error(), "in use by 1 repositories: h") {
		t.Fatalf("deleting the store h uses: %v", err)
	}
	if err := e.m.DeleteBlobStore(ctx, "missing"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("deleting a missing store: %v", err)
	}
	if err := e.m.DeleteBlobStore(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.m.BlobStore("other"); ok {
		t.Fatal("deleted store still open")
	}
	// The default store goes too, once unused (as in Nexus).
	if err := e.m.Delete(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.DeleteBlobStore(ctx, "default"); err != nil {
		t.Fatalf("deleting the unused default store: %v", err)
	}
}

// A soft quota warns and never refuses: a store over it still takes
// writes, reports the violation (quota status, health check) and logs it
// once when it begins and once when it ends.
func TestSoftQuotaWarns(t *testing.T) {
	e := newEnv(t)
	var logged bytes.Buffer
	e.m.opts.Log = slog.New(slog.NewTextHandler(&logged, nil))
	ctx := context.Background()
	if err := e.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "small",
		SoftQuota: &meta.SoftQuota{Type: QuotaSpaceUsed, Limit: 10}}); err != nil {
		t.Fatal(err)
	}
	cfg := hostedCfg("h", "allow")
	cfg.Storage.BlobStoreName = "small"
	r := e.create(cfg)
	if st, _ := e.m.QuotaStatus(ctx, "small"); st.IsViolation {
		t.Fatalf("empty store: %+v", st)
	}
	a := put(t, r, "big", "more than ten bytes") // written all the same
	if n := strings.Count(logged.String(), "soft quota violated"); n != 1 {
		t.Fatalf("the write crossing the quota logged %d violations, want 1:\n%s", n, logged.String())
	}
	st, err := e.m.QuotaStatus(ctx, "small")
	want := "Blob store small is using 19 Bytes space and has a limit of 10 Bytes"
	if err != nil || !st.IsViolation || st.Message != want || st.BlobStoreName != "small" {
		t.Fatalf("quota status = %+v, %v; want a violation: %s", st, err, want)
	}
	checks, _ := e.m.Health(ctx)
	var quota *HealthCheck
	for i := range checks {
		if checks[i].Name == "Blob Stores Quota" {
			quota = &checks[i]
		}
	}
	if quota == nil || quota.Healthy || quota.Message != want {
		t.Fatalf("health check = %+v", quota)
	}
	e.m.Maintain(ctx)
	if n := strings.Count(logged.String(), "soft quota violated"); n != 1 {
		t.Fatalf("violation logged %d times, want once:\n%s", n, logged.String())
	}
	if err := e.m.DeleteAsset(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	e.m.Maintain(ctx)
	if st, _ := e.m.QuotaStatus(ctx, "small"); st.IsViolation || !strings.Contains(logged.String(), "no longer violated") {
		t.Fatalf("after the delete: %+v\n%s", st, logged.String())
	}

	// spaceRemainingQuota: more than the disk has is always violated.
	if err := e.m.UpdateBlobStore(ctx, meta.BlobStoreConfig{Name: "small",
		SoftQuota: &meta.SoftQuota{Type: QuotaSpaceRemaining, Limit: 1 << 62}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.m.QuotaStatus(ctx, "small"); !st.IsViolation || !strings.HasPrefix(st.Message, "Blob store small is limited to having 4096.00 PB available space, and has ") {
		t.Fatalf("space remaining quota: %+v", st)
	}
}
