package repo

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// testFormat is a minimal format: ".meta" files are metadata, merged in
// groups by sorting the members' lines together, and rewritten by replacing
// "UPSTREAM/" with the base URL of the repository addressed.
type testFormat struct{ name string }

var (
	_ Format           = testFormat{}
	_ GroupMerger      = testFormat{}
	_ MetadataRewriter = testFormat{}

	_ MaintainedMetadata = testFormat{}
)

func (f testFormat) Name() string {
	if f.name == "" {
		return "test"
	}
	return f.name
}
func (testFormat) Validate(cfg *Config) error  { return nil }
func (testFormat) Checksums() []blob.Algorithm { return []blob.Algorithm{blob.SHA1} }
func (testFormat) IsMetadata(p string) bool    { return strings.HasSuffix(p, ".meta") }
func (testFormat) Maintained(p string) bool    { return strings.HasSuffix(p, ".meta") }
func (testFormat) ServeHTTP(w http.ResponseWriter, _ *http.Request, _ Repository, _ string) {
	w.WriteHeader(http.StatusNotImplemented)
}

func (f testFormat) Component(p string) *meta.Component {
	if f.IsMetadata(p) {
		return nil
	}
	return &meta.Component{Name: p}
}

// mergeCalls counts testFormat's merges.
var mergeCalls atomic.Int64

func (testFormat) Merge(ctx context.Context, _ Repository, p string, members []*Content) (*Content, error) {
	mergeCalls.Add(1)
	var lines []string
	for _, c := range members {
		b, err := io.ReadAll(c.Body)
		if err != nil {
			return nil, err
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				lines = append(lines, l)
			}
		}
	}
	sort.Strings(lines)
	out := []byte(strings.Join(lines, "\n") + "\n")
	return &Content{
		Asset: &meta.Asset{Path: p, Size: int64(len(out)), ContentType: "text/plain", Checksums: map[string]string{}},
		Body:  BytesBody(out),
	}, nil
}

// rewriteCalls counts testFormat's rewrites.
var rewriteCalls atomic.Int64

func (testFormat) Rewrite(ctx context.Context, p string, b []byte, base *url.URL) ([]byte, error) {
	rewriteCalls.Add(1)
	return bytes.ReplaceAll(b, []byte("UPSTREAM/"), []byte(base.String())), nil
}

// env is a manager over a fresh database and blob directory.
type env struct {
	t       *testing.T
	dbPath  string
	blobDir string // the default store's
	db      *meta.DB
	stores  *blob.Stores
	blobs   *blob.Store // the default store
	m       *Manager
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dbPath: filepath.Join(dir, "meta", "meta.db"), stores: blob.NewStores(filepath.Join(dir, "blobs"), 0)}
	var err error
	if e.blobs, err = e.stores.Open(meta.DefaultBlobStore, meta.DefaultBlobStore); err != nil {
		t.Fatal(err)
	}
	e.blobDir = e.stores.Dir(meta.DefaultBlobStore)
	e.open()
	return e
}

// open opens the database and builds a new manager over it.
func (e *env) open() {
	e.t.Helper()
	db, err := meta.Open(e.dbPath)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	e.db = db
	e.m = NewManager(db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler)},
		testFormat{}, testFormat{name: "other"}, fallbackFormat{testFormat{name: "fallback"}},
		checksumFormat{testFormat{name: "checksummed"}}, listedFormat{testFormat{name: "listed"}})
}

// reopen closes the database and loads the stored repositories anew.
func (e *env) reopen() {
	e.t.Helper()
	if err := e.db.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
	if err := e.m.Load(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func hostedCfg(name, policy string) Config {
	return Config{Name: name, Format: "test", Type: Hosted, Online: true,
		Storage: Storage{BlobStoreName: "default", WritePolicy: policy}}
}

func groupCfg(name string, members ...string) Config {
	return Config{Name: name, Format: "test", Type: Group, Online: true,
		Storage: Storage{BlobStoreName: "default"}, Group: &GroupSettings{MemberNames: members}}
}

func proxyCfg(name, remote string) Config {
	return Config{Name: name, Format: "test", Type: Proxy, Online: true,
		Storage: Storage{BlobStoreName: "default"},
		Proxy:   &ProxySettings{RemoteURL: remote, ContentMaxAge: 1440, MetadataMaxAge: 1440}}
}

func (e *env) create(cfg Config) Repository {
	e.t.Helper()
	if err := e.m.Create(context.Background(), cfg); err != nil {
		e.t.Fatalf("Create(%s): %v", cfg.Name, err)
	}
	return e.lookup(cfg.Name)
}

func (e *env) lookup(name string) Repository {
	e.t.Helper()
	r, ok := e.m.Lookup(name)
	if !ok {
		e.t.Fatalf("repository %s not found", name)
	}
	return r
}

func put(t *testing.T, r Repository, p, body string) *meta.Asset {
	t.Helper()
	a, err := r.Put(context.Background(), p, strings.NewReader(body), PutOptions{Size: -1})
	if err != nil {
		t.Fatalf("Put(%s, %s): %v", r.Name(), p, err)
	}
	return a
}

// read returns the content at p and whether its body could seek.
// read returns the content at p and whether it came from storage; false
// means it followed a download, which read then waits to see stored.
func read(t *testing.T, ctx context.Context, r Repository, p string) (string, bool) {
	t.Helper()
	c, err := r.Get(ctx, p)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", r.Name(), p, err)
	}
	defer c.Body.Close()
	_, followed := c.Body.(interface{ Err() error })
	b, err := io.ReadAll(c.Body)
	if err != nil {
		t.Fatalf("reading %s/%s: %v", r.Name(), p, err)
	}
	if followed {
		settle(t, r)
	}
	return string(b), !followed
}

// settle waits for the downloads of r (or of its members) to be over.
func settle(t *testing.T, r Repository) {
	t.Helper()
	switch r := r.(type) {
	case *proxyRepo:
		waitIdle(t, r)
	case *groupRepo:
		for _, m := range r.Members() {
			settle(t, m)
		}
	}
}

func wantKind(t *testing.T, err error, k errs.Kind, what string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("%s: err = %v, want %s", what, err, k)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var fe *errs.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want a FieldError on %s", err, field)
	}
	if fe.Field != field {
		t.Fatalf("FieldError on %q (%s), want %q", fe.Field, fe.Message, field)
	}
	if !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("FieldError %v is not errs.Invalid", err)
	}
}

// blobFiles returns the names of the committed blob files.
func (e *env) blobFiles() []string {
	e.t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(e.blobDir, "content"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, d.Name())
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (e *env) hasBlobFile(a *meta.Asset) bool {
	e.t.Helper()
	_, err := os.Stat(filepath.Join(e.blobDir, "content", a.Blob.Encoded()[:2], a.Blob.Encoded()))
	return err == nil
}

// waitFor polls cond for up to about ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
