package repo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestHostedPutGetDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.create(hostedCfg("h", "allow"))

	a := put(t, r, "dir/a.bin", "hello")
	if a.Repository != "h" || a.Path != "dir/a.bin" || a.Size != 5 || a.Blob != digest.FromString("hello") {
		t.Fatalf("stored asset = %+v", a)
	}
	if a.Checksums["sha1"] != "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d" || a.Checksums["sha256"] != digest.FromString("hello").Encoded() {
		t.Fatalf("checksums = %v", a.Checksums)
	}
	if a.ComponentID == "" {
		t.Fatal("format component not recorded")
	}
	body, stored := read(t, ctx, r, "dir/a.bin")
	if body != "hello" || !stored {
		t.Fatalf("Get = %q (stored %v), want hello from the store", body, stored)
	}
	st, err := r.Stat(ctx, "dir/a.bin")
	if err != nil || st.ID != a.ID {
		t.Fatalf("Stat = %+v, %v", st, err)
	}

	entries, _, err := r.List(ctx, "", "", 0)
	if err != nil || len(entries) != 1 || !entries[0].Dir || entries[0].Name != "dir" || entries[0].Path != "dir" {
		t.Fatalf("List(root) = %+v, %v", entries, err)
	}
	entries, _, err = r.List(ctx, "dir", "", 0)
	if err != nil || len(entries) != 1 || entries[0].Dir || entries[0].Path != "dir/a.bin" || entries[0].Asset == nil {
		t.Fatalf("List(dir) = %+v, %v", entries, err)
	}
	_, _, err = r.List(ctx, "nope", "", 0)
	wantKind(t, err, errs.NotFound, "List of missing folder")

	if err := r.Delete(ctx, "dir/a.bin"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Get(ctx, "dir/a.bin")
	wantKind(t, err, errs.NotFound, "Get after delete")
	_, err = r.Stat(ctx, "dir/a.bin")
	wantKind(t, err, errs.NotFound, "Stat after delete")
	wantKind(t, r.Delete(ctx, "dir/a.bin"), errs.NotFound, "second delete")
	if _, err := e.db.Component(a.ComponentID); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("component survived its only asset: %v", err)
	}
}

func TestHostedSizeMismatch(t *testing.T) {
	e := newEnv(t)
	r := e.create(hostedCfg("h", "allow"))
	_, err := r.Put(context.Background(), "a", strings.NewReader("abc"), PutOptions{Size: 10})
	wantKind(t, err, errs.Invalid, "announced size mismatch")
	if _, err := r.Stat(context.Background(), "a"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("asset stored despite size mismatch: %v", err)
	}
	if files := e.blobFiles(); len(files) != 0 {
		t.Fatalf("blob files left: %v", files)
	}
}

func TestHostedOffline(t *testing.T) {
	e := newEnv(t)
	cfg := hostedCfg("h", "allow")
	r := e.create(cfg)
	put(t, r, "a", "x")
	cfg.Online = false
	if err := e.m.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	r = e.lookup("h")
	_, err := r.Get(context.Background(), "a")
	wantKind(t, err, errs.NotFound, "Get from offline repository")
	if s := r.Status(); s.Online {
		t.Fatalf("Status = %+v", s)
	}
}

func TestWritePolicies(t *testing.T) {
	ctx := context.Background()
	t.Run("allow", func(t *testing.T) {
		e := newEnv(t)
		r := e.create(hostedCfg("h", "Allow"))
		if wp := r.Config().Storage.WritePolicy; wp != WriteAllow {
			t.Fatalf("write policy = %q, want %q", wp, WriteAllow)
		}
		first := put(t, r, "a", "one")
		second := put(t, r, "a", "two")
		if second.ID != first.ID {
			t.Fatalf("overwrite changed the asset id")
		}
		if body, _ := read(t, ctx, r, "a"); body != "two" {
			t.Fatalf("body = %q after overwrite", body)
		}
	})
	t.Run("allow_once", func(t *testing.T) {
		e := newEnv(t)
		r := e.create(hostedCfg("h", "ALLOW_ONCE"))
		if wp := r.Config().Storage.WritePolicy; wp != WriteAllowOnce {
			t.Fatalf("write policy = %q, want %q", wp, WriteAllowOnce)
		}
		put(t, r, "a", "one")
		_, err := r.Put(ctx, "a", strings.NewReader("two"), PutOptions{Size: -1})
		wantKind(t, err, errs.Invalid, "overwrite under allow_once")
		if body, _ := read(t, ctx, r, "a"); body != "one" {
			t.Fatalf("body = %q after refused overwrite", body)
		}
		if files := e.blobFiles(); len(files) != 1 {
			t.Fatalf("refused overwrite left blob files %v", files)
		}
		put(t, r, "b", "two") // new paths are fine
		// Metadata the format maintains is rewritable: the policy is
		// for content.
		put(t, r, "b.meta", "one")
		if a := put(t, r, "b.meta", "two"); a.Size != 3 {
			t.Fatalf("rewritten metadata: %+v", a)
		}
		if err := r.Delete(ctx, "a"); err != nil {
			t.Fatalf("delete under allow_once: %v", err)
		}
	})
	t.Run("default is allow_once", func(t *testing.T) {
		e := newEnv(t)
		r := e.create(hostedCfg("h", ""))
		if wp := r.Config().Storage.WritePolicy; wp != WriteAllowOnce {
			t.Fatalf("write policy = %q, want %q", wp, WriteAllowOnce)
		}
	})
	t.Run("deny", func(t *testing.T) {
		e := newEnv(t)
		cfg := hostedCfg("h", "allow")
		r := e.create(cfg)
		put(t, r, "a", "one")
		cfg.Storage.WritePolicy = "DENY"
		if err := e.m.Update(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		r = e.lookup("h")
		if wp := r.Config().Storage.WritePolicy; wp != WriteDeny {
			t.Fatalf("write policy = %q, want %q", wp, WriteDeny)
		}
		_, err := r.Put(ctx, "b", strings.NewReader("x"), PutOptions{Size: -1})
		wantKind(t, err, errs.Unsupported, "put under deny")
		_, err = r.Put(ctx, "a", strings.NewReader("x"), PutOptions{Size: -1})
		wantKind(t, err, errs.Unsupported, "overwrite under deny")
		_, err = r.Put(ctx, "a.meta", strings.NewReader("x"), PutOptions{Size: -1})
		wantKind(t, err, errs.Unsupported, "maintained metadata under deny")
		wantKind(t, r.Delete(ctx, "a"), errs.Unsupported, "delete under deny")
		if body, _ := read(t, ctx, r, "a"); body != "one" {
			t.Fatalf("body = %q", body)
		}
	})
}

func TestContentTypeByExtension(t *testing.T) {
	e := newEnv(t)
	r := e.create(hostedCfg("h", "allow"))
	ctx := context.Background()
	for p, want := range map[string]string{
		"img/a.png":      "image/png",
		"x.unknownzzext": "application/octet-stream",
		"noext":          "application/octet-stream",
	} {
		if a := put(t, r, p, "x"); a.ContentType != want {
			t.Errorf("%s: content type %q, want %q", p, a.ContentType, want)
		}
	}
	a, err := r.Put(ctx, "declared.png", strings.NewReader("x"), PutOptions{Size: -1, ContentType: "text/x-custom"})
	if err != nil || a.ContentType != "text/x-custom" {
		t.Fatalf("declared type: %v, %v", a, err)
	}
}

func TestBlobFreedWithLastAsset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.create(hostedCfg("h", "allow"))
	r2 := e.create(hostedCfg("h2", "allow"))

	a := put(t, r, "a", "shared bytes")
	b := put(t, r, "b", "shared bytes")
	c := put(t, r2, "c", "shared bytes")
	solo := put(t, r, "solo", "solo bytes")
	if a.Blob != b.Blob || a.Blob != c.Blob {
		t.Fatal("same bytes stored under different digests")
	}
	if files := e.blobFiles(); len(files) != 2 {
		t.Fatalf("blob files = %v, want 2 (deduplicated)", files)
	}

	if err := r.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if !e.hasBlobFile(c) {
		t.Fatal("blob still referenced by another repository was freed")
	}
	if body, _ := read(t, ctx, r2, "c"); body != "shared bytes" {
		t.Fatalf("c = %q", body)
	}
	if err := r2.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if e.hasBlobFile(c) {
		t.Fatal("blob file survived its last asset")
	}
	if has, _ := e.db.HasBlob(c.BlobStore, c.Blob); has {
		t.Fatal("blob record survived its last asset")
	}

	// Overwriting frees the replaced blob too.
	put(t, r, "solo", "new solo bytes")
	if e.hasBlobFile(solo) {
		t.Fatal("overwritten blob not freed")
	}
	if files := e.blobFiles(); len(files) != 1 {
		t.Fatalf("blob files = %v, want 1", files)
	}
}

func TestManagerValidation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(hostedCfg("h", "allow"))
	e.create(Config{Name: "o", Format: "other", Type: Hosted, Online: true, Storage: Storage{BlobStoreName: "default"}})
	e.create(proxyCfg("p", "http://127.0.0.1:1/"))

	mod := func(base Config, f func(*Config)) Config {
		f(&base)
		return base
	}
	cases := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"empty name", hostedCfg("", "allow"), "name"},
		{"bad name", hostedCfg("a/b", "allow"), "name"},
		{"leading dot", hostedCfg(".a", "allow"), "name"},
		{"long name", hostedCfg(strings.Repeat("a", 201), "allow"), "name"},
		{"duplicate name", hostedCfg("H", "allow"), "name"},
		{"unknown format", mod(hostedCfg("x", "allow"), func(c *Config) { c.Format = "nope" }), "format"},
		{"missing blob store", mod(hostedCfg("x", "allow"), func(c *Config) { c.Storage.BlobStoreName = "" }), "storage.blobStoreName"},
		{"unknown blob store", mod(hostedCfg("x", "allow"), func(c *Config) { c.Storage.BlobStoreName = "nope" }), "storage.blobStoreName"},
		{"bad write policy", hostedCfg("x", "sometimes"), "storage.writePolicy"},
		{"bad type", mod(hostedCfg("x", "allow"), func(c *Config) { c.Type = "mirror" }), "type"},
		{"proxy without section", mod(proxyCfg("x", ""), func(c *Config) { c.Proxy = nil }), "proxy"},
		{"proxy without remoteUrl", proxyCfg("x", ""), "proxy.remoteUrl"},
		{"proxy ftp url", proxyCfg("x", "ftp://example.com/"), "proxy.remoteUrl"},
		{"proxy relative url", proxyCfg("x", "example.com/repo"), "proxy.remoteUrl"},
		{"proxy bad max age", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) { c.Proxy.ContentMaxAge = -2 }), "proxy.contentMaxAge"},
		{"proxy bad auth", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) {
			c.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "kerberos", Username: "u"}}
		}), "httpClient.authentication.type"},
		{"proxy bearer without token", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) {
			c.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "bearerToken"}}
		}), "httpClient.authentication.bearerToken"},
		{"proxy retries above 10", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) {
			c.HTTPClient = &HTTPClient{Connection: &Connection{Retries: ptr(11)}}
		}), "httpClient.connection.retries"},
		{"proxy timeout 0", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) {
			c.HTTPClient = &HTTPClient{Connection: &Connection{Timeout: ptr(0)}}
		}), "httpClient.connection.timeout"},
		{"proxy timeout above an hour", mod(proxyCfg("x", "http://127.0.0.1/"), func(c *Config) {
			c.HTTPClient = &HTTPClient{Connection: &Connection{Timeout: ptr(3601)}}
		}), "httpClient.connection.timeout"},
		{"group without members", groupCfg("x"), "group.memberNames"},
		{"group unknown member", groupCfg("x", "h", "nope"), "group.memberNames"},
		{"group duplicate member", groupCfg("x", "h", "h"), "group.memberNames"},
		{"group member of another format", groupCfg("x", "h", "o"), "group.memberNames"},
		{"group contains itself", groupCfg("x", "x"), "group.memberNames"},
		{"writable member not a member", mod(groupCfg("x", "h"), func(c *Config) { c.Group.WritableMember = "p" }), "group.writableMember"},
		{"writable member not hosted", mod(groupCfg("x", "h", "p"), func(c *Config) { c.Group.WritableMember = "p" }), "group.writableMember"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantField(t, e.m.Create(ctx, tc.cfg), tc.field)
			if tc.cfg.Name != "H" {
				if _, ok := e.m.Lookup(tc.cfg.Name); ok {
					t.Fatalf("invalid repository %q was created", tc.cfg.Name)
				}
			}
		})
	}
	recs, err := e.db.Repositories()
	if err != nil || len(recs) != 3 {
		t.Fatalf("stored repositories = %d, %v; want 3", len(recs), err)
	}

	// Valid group with a hosted writable member.
	g := e.create(mod(groupCfg("g", "h", "p"), func(c *Config) { c.Group.WritableMember = "h" }))
	if g.Config().Group.WritableMember != "h" {
		t.Fatalf("group config = %+v", g.Config().Group)
	}

	// Update cannot change type or format, nor target a missing repository.
	wantField(t, e.m.Update(ctx, proxyCfg("h", "http://127.0.0.1/")), "name")
	wantKind(t, e.m.Update(ctx, hostedCfg("missing", "allow")), errs.NotFound, "update of missing repository")
	// Update validates too.
	wantField(t, e.m.Update(ctx, hostedCfg("h", "sometimes")), "storage.writePolicy")
	if wp := e.lookup("h").Config().Storage.WritePolicy; wp != WriteAllow {
		t.Fatalf("failed update changed write policy to %q", wp)
	}
}

func TestManagerProxyDefaults(t *testing.T) {
	e := newEnv(t)
	r := e.create(proxyCfg("p", "http://127.0.0.1:1/base"))
	cfg := r.Config()
	if cfg.NegativeCache == nil || !cfg.NegativeCache.Enabled || cfg.NegativeCache.TimeToLive != 1440 {
		t.Fatalf("negative cache defaults = %+v", cfg.NegativeCache)
	}
	if cfg.HTTPClient == nil || !cfg.HTTPClient.AutoBlock {
		t.Fatalf("http client defaults = %+v", cfg.HTTPClient)
	}
	if got := r.(*proxyRepo).remote.String(); got != "http://127.0.0.1:1/base/" {
		t.Fatalf("remote = %s, want a trailing slash", got)
	}
}

func TestManagerGroupCycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(hostedCfg("h", "allow"))
	e.create(groupCfg("g2", "h"))
	e.create(groupCfg("g1", "g2"))
	wantField(t, e.m.Update(ctx, groupCfg("g2", "h", "g1")), "group.memberNames")
	wantField(t, e.m.Update(ctx, groupCfg("g1", "g1")), "group.memberNames")
	if got := e.lookup("g2").Config().Group.MemberNames; !slices.Equal(got, []string{"h"}) {
		t.Fatalf("g2 members after refused update = %v", got)
	}
	// A non-cyclic update is fine.
	e.create(hostedCfg("h2", "allow"))
	if err := e.m.Update(ctx, groupCfg("g2", "h2", "h")); err != nil {
		t.Fatal(err)
	}
}

func TestManagerDelete(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "allow"))
	other := e.create(hostedCfg("other", "allow"))
	e.create(groupCfg("g", "h"))
	a := put(t, h, "a", "only in h")
	shared := put(t, h, "s", "shared")
	put(t, other, "s", "shared")

	err := e.m.Delete(ctx, "h")
	wantKind(t, err, errs.Invalid, "deleting a group member")
	if _, ok := e.m.Lookup("h"); !ok {
		t.Fatal("refused delete removed the repository")
	}
	if err := e.m.Delete(ctx, "g"); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Delete(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.m.Delete(ctx, "h"), errs.NotFound, "second delete")
	if _, ok := e.m.Lookup("h"); ok {
		t.Fatal("deleted repository still served")
	}
	if e.hasBlobFile(a) {
		t.Fatal("content of deleted repository not freed")
	}
	if !e.hasBlobFile(shared) {
		t.Fatal("blob shared with another repository freed")
	}
	if assets, _, _ := e.db.ListAssets("h", "", "", 0); len(assets) != 0 {
		t.Fatalf("%d assets of deleted repository left", len(assets))
	}
	if recs, _ := e.db.Repositories(); len(recs) != 1 || recs[0].Name != "other" {
		t.Fatalf("stored repositories = %+v", recs)
	}
	// The name can be reused and starts empty.
	h = e.create(hostedCfg("h", "allow"))
	_, err = h.Get(ctx, "a")
	wantKind(t, err, errs.NotFound, "content of recreated repository")
}

func TestManagerLoad(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "ALLOW"))
	e.create(proxyCfg("p", "http://127.0.0.1:1/"))
	e.create(groupCfg("g", "h", "p"))
	put(t, h, "a", "persisted")

	e.reopen()
	names := []string{}
	for _, r := range e.m.List() {
		names = append(names, r.Name())
	}
	if !slices.Equal(names, []string{"g", "h", "p"}) {
		t.Fatalf("loaded repositories = %v", names)
	}
	if _, ok := e.lookup("p").(*proxyRepo); !ok {
		t.Fatal("p not rebuilt as a proxy")
	}
	if wp := e.lookup("h").Config().Storage.WritePolicy; wp != WriteAllow {
		t.Fatalf("loaded write policy = %q", wp)
	}
	for _, name := range []string{"h", "g"} {
		if body, _ := read(t, ctx, e.lookup(name), "a"); body != "persisted" {
			t.Fatalf("%s/a = %q after reload", name, body)
		}
	}
	// Names stay unique across a reload.
	wantField(t, e.m.Create(ctx, hostedCfg("G", "allow")), "name")
}

func TestSweep(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := e.create(hostedCfg("h", "allow"))
	kept := put(t, h, "kept", "kept bytes")
	lost := put(t, h, "lost", "lost bytes")
	// A crash between the record's delete and the release of the bytes
	// leaves a zero-reference record and its file.
	if _, err := e.db.DeleteAssetByPath("h", "lost"); err != nil {
		t.Fatal(err)
	}
	orphanBody := []byte("bytes nobody knows")
	orphan := digest.FromBytes(orphanBody)
	orphanPath := filepath.Join(e.blobDir, "content", orphan.Encoded()[:2], orphan.Encoded())
	if err := os.MkdirAll(filepath.Dir(orphanPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(orphanPath, orphanBody, 0o644); err != nil {
		t.Fatal(err)
	}
	temp := filepath.Join(e.blobDir, "tmp", "put-crashed")
	foreign := filepath.Join(e.blobDir, "tmp", "not-ours")
	for _, p := range []string{temp, foreign} {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := time.Now().Add(-time.Hour)
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.blobFiles()); n != 3 {
		t.Fatalf("%d blob files before sweep, want 3", n)
	}

	if err := e.m.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(orphanPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("orphan blob file survived the sweep: %v", err)
	}
	if e.hasBlobFile(lost) {
		t.Fatal("blob of a zero-reference record survived the sweep")
	}
	if has, _ := e.db.HasBlob(lost.BlobStore, lost.Blob); has {
		t.Fatal("zero-reference record survived the sweep")
	}
	if _, err := os.Stat(temp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp file survived the sweep: %v", err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Fatalf("sweep removed a file it did not create: %v", err)
	}
	if !e.hasBlobFile(kept) {
		t.Fatal("referenced blob swept")
	}
	if body, _ := read(t, ctx, h, "kept"); body != "kept bytes" {
		t.Fatalf("kept = %q", body)
	}
	if files := e.blobFiles(); !slices.Equal(files, []string{kept.Blob.Encoded()}) {
		t.Fatalf("blob files after sweep = %v", files)
	}
}

// The REST API never shows the upstream password, so an update that
// leaves it out for the same user keeps the stored one.
func TestUpdateKeepsUpstreamPassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := proxyCfg("p", "http://127.0.0.1:9/")
	cfg.HTTPClient = &HTTPClient{AutoBlock: true, Authentication: &Authentication{Type: "username", Username: "u", Password: "secret"}}
	e.create(cfg)

	update := proxyCfg("p", "http://127.0.0.1:9/other/")
	update.HTTPClient = &HTTPClient{AutoBlock: true, Authentication: &Authentication{Type: "username", Username: "u"}}
	if err := e.m.Update(ctx, update); err != nil {
		t.Fatal(err)
	}
	if got := e.lookup("p").Config().HTTPClient.Authentication.Password; got != "secret" {
		t.Fatalf("password after an update without one = %q, want the stored one", got)
	}
	update.HTTPClient.Authentication = &Authentication{Type: "username", Username: "v"}
	if err := e.m.Update(ctx, update); err != nil {
		t.Fatal(err)
	}
	if got := e.lookup("p").Config().HTTPClient.Authentication.Password; got != "" {
		t.Fatalf("another user inherited the password %q", got)
	}
}

// A write with aliases stores the bytes at every path, each with its own
// attributes, or, when the write policy refuses one path, at none.
func TestHostedPutAliases(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r := e.create(hostedCfg("h", "allow_once"))
	put(t, r, "taken", "other bytes")
	opts := PutOptions{Size: -1, AllowIdentical: true, Attributes: map[string]string{"k": "main"},
		Aliases: []Alias{{Path: "x", Attributes: map[string]string{"k": "x"}}, {Path: "taken"}}}
	_, err := r.Put(ctx, "main", strings.NewReader("body"), opts)
	wantKind(t, err, errs.Invalid, "alias over an asset under allow_once")
	for _, p := range []string{"main", "x"} {
		if _, err := r.Stat(ctx, p); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("%s after a refused write with aliases: %v", p, err)
		}
	}

	opts.Aliases = opts.Aliases[:1]
	if _, err := r.Put(ctx, "main", strings.NewReader("body"), opts); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{"main": "main", "x": "x"} {
		a, err := r.Stat(ctx, p)
		if err != nil || a.Attributes["k"] != want {
			t.Fatalf("%s: %+v, %v", p, a, err)
		}
		if body, _ := read(t, ctx, r, p); body != "body" {
			t.Fatalf("%s: body %q", p, body)
		}
	}
	if files := e.blobFiles(); len(files) != 2 {
		t.Fatalf("blob files %v, want 2 (taken, body)", files)
	}
}
