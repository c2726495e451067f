package raw_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
)

// fixture is a manager serving the raw format.
type fixture struct {
	*managertest.Env
	t *testing.T
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return &fixture{Env: managertest.New(t, nil, repo.Options{}, raw.New(slog.New(slog.DiscardHandler))), t: t}
}

func (fx *fixture) create(config string) repo.Repository { return fx.Create(config) }

func (fx *fixture) do(r repo.Repository, method, p string, body io.Reader, hdr map[string]string) *managertest.Response {
	fx.t.Helper()
	return fx.Do(context.Background(), r, method, p, body, hdr)
}

const hostedJSON = `{"name":"files","format":"raw","type":"hosted","online":true,
	"storage":{"blobStoreName":"default","strictContentTypeValidation":false,"writePolicy":"allow"}}`

func TestRawHosted(t *testing.T) {
	fx := newFixture(t)
	r := fx.create(hostedJSON)
	const body = "hello raw world"

	w := fx.do(r, http.MethodPut, "docs/readme.txt", strings.NewReader(body), nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	a, err := fx.Storage.DB.AssetByPath("files", "docs/readme.txt")
	if err != nil {
		t.Fatal(err)
	}
	if a.UploaderIP != "127.0.0.1" || a.Size != int64(len(body)) {
		t.Fatalf("stored asset = %+v", a)
	}
	for _, alg := range []string{"md5", "sha1", "sha256", "sha512"} {
		if a.Checksums[alg] == "" {
			t.Errorf("checksum %s not computed: %v", alg, a.Checksums)
		}
	}

	w = fx.do(r, http.MethodGet, "docs/readme.txt", nil, nil)
	if w.Code != http.StatusOK || w.Body.String() != body {
		t.Fatalf("GET = %d %q", w.Code, w.Body)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename=readme.txt` {
		t.Fatalf("Content-Disposition = %q", cd)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q", ct)
	}
	etag := w.Header().Get("ETag")
	if etag != `"`+a.Checksums["sha1"]+`"` {
		t.Fatalf("ETag = %q, want the quoted sha1", etag)
	}

	w = fx.do(r, http.MethodHead, "docs/readme.txt", nil, nil)
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "15" {
		t.Fatalf("HEAD = %d, body %q, length %q", w.Code, w.Body, w.Header().Get("Content-Length"))
	}

	w = fx.do(r, http.MethodGet, "docs/readme.txt", nil, map[string]string{"Range": "bytes=6-8"})
	if w.Code != http.StatusPartialContent || w.Body.String() != "raw" {
		t.Fatalf("Range GET = %d %q", w.Code, w.Body)
	}
	if cr := w.Header().Get("Content-Range"); cr != "bytes 6-8/15" {
		t.Fatalf("Content-Range = %q", cr)
	}

	w = fx.do(r, http.MethodGet, "docs/readme.txt", nil, map[string]string{"If-None-Match": etag})
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Fatalf("conditional GET = %d %q", w.Code, w.Body)
	}
	w = fx.do(r, http.MethodGet, "docs/readme.txt", nil, map[string]string{"If-None-Match": `"other"`})
	if w.Code != http.StatusOK {
		t.Fatalf("GET with a stale ETag = %d", w.Code)
	}

	w = fx.do(r, http.MethodPost, "docs/readme.txt", strings.NewReader("x"), nil)
	if w.Code != http.StatusMethodNotAllowed || !strings.Contains(w.Header().Get("Allow"), "PUT") {
		t.Fatalf("POST = %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}

	w = fx.do(r, http.MethodDelete, "docs/readme.txt", nil, nil)
	if w.Code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", w.Code, w.Body)
	}
	w = fx.do(r, http.MethodGet, "docs/readme.txt", nil, nil)
	if w.Code != http.StatusNotFound {
		t.Fatalf("GET after DELETE = %d", w.Code)
	}
	w = fx.do(r, http.MethodDelete, "docs/readme.txt", nil, nil)
	if w.Code != http.StatusNotFound {
		t.Fatalf("second DELETE = %d", w.Code)
	}
	w = fx.do(r, http.MethodGet, "never/was.bin", nil, nil)
	if w.Code != http.StatusNotFound {
		t.Fatalf("GET of a missing file = %d", w.Code)
	}
}

func TestRawDeclaredContentType(t *testing.T) {
	fx := newFixture(t)
	r := fx.create(hostedJSON)
	w := fx.do(r, http.MethodPut, "a.json", strings.NewReader("{}"), map[string]string{"Content-Type": "application/octet-stream"})
	if w.Code != http.StatusCreated {
		t.Fatalf("PUT = %d", w.Code)
	}
	w = fx.do(r, http.MethodPut, "b.bin", strings.NewReader("x"), map[string]string{"Content-Type": "text/x-declared"})
	if w.Code != http.StatusCreated {
		t.Fatalf("PUT = %d", w.Code)
	}
	for p, want := range map[string]string{"a.json": "application/json", "b.bin": "text/x-declared"} {
		w = fx.do(r, http.MethodGet, p, nil, nil)
		if ct := w.Header().Get("Content-Type"); ct != want {
			t.Errorf("%s: Content-Type %q, want %q", p, ct, want)
		}
	}
}

func TestRawWritePolicyOverHTTP(t *testing.T) {
	fx := newFixture(t)
	r := fx.create(`{"name":"once","format":"raw","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","writePolicy":"ALLOW_ONCE"}}`)
	if w := fx.do(r, http.MethodPut, "a", strings.NewReader("1"), nil); w.Code != http.StatusCreated {
		t.Fatalf("first PUT = %d", w.Code)
	}
	if w := fx.do(r, http.MethodPut, "a", strings.NewReader("2"), nil); w.Code != http.StatusBadRequest {
		t.Fatalf("second PUT = %d, want 400", w.Code)
	}
	if w := fx.do(r, http.MethodGet, "a", nil, nil); w.Body.String() != "1" {
		t.Fatalf("GET = %q", w.Body)
	}
}

func TestRawInlineDisposition(t *testing.T) {
	fx := newFixture(t)
	r := fx.create(`{"name":"site","format":"raw","type":"hosted","online":true,
		"storage":{"blobStoreName":"default","writePolicy":"allow"},
		"raw":{"contentDisposition":"inline"}}`)
	var s struct {
		ContentDisposition string `json:"contentDisposition"`
	}
	cfg := r.Config()
	if found, err := cfg.Section("raw", &s); !found || err != nil || s.ContentDisposition != "INLINE" {
		t.Fatalf("raw section = %+v, %v, %v; want INLINE", s, found, err)
	}
	fx.do(r, http.MethodPut, "index.html", strings.NewReader("<p>hi</p>"), nil)
	w := fx.do(r, http.MethodGet, "index.html", nil, nil)
	if cd := w.Header().Get("Content-Disposition"); cd != "inline; filename=index.html" {
		t.Fatalf("Content-Disposition = %q", cd)
	}
}

func TestRawValidate(t *testing.T) {
	f := raw.New(slog.New(slog.DiscardHandler))

	var cfg repo.Config
	if err := f.Validate(&cfg); err != nil {
		t.Fatalf("Validate without a raw section: %v", err)
	}
	var s struct {
		ContentDisposition string `json:"contentDisposition"`
	}
	if _, err := cfg.Section("raw", &s); err != nil || s.ContentDisposition != "ATTACHMENT" {
		t.Fatalf("default disposition = %q, %v", s.ContentDisposition, err)
	}

	if err := cfg.SetSection("raw", map[string]string{"contentDisposition": "sideways"}); err != nil {
		t.Fatal(err)
	}
	err := f.Validate(&cfg)
	var fe *errs.FieldError
	if !errors.As(err, &fe) || fe.Field != "raw.contentDisposition" {
		t.Fatalf("Validate(sideways) = %v, want a FieldError on raw.contentDisposition", err)
	}

	// The manager refuses such a repository.
	fx := newFixture(t)
	var bad repo.Config
	if err := json.Unmarshal([]byte(`{"name":"bad","format":"raw","type":"hosted","online":true,
		"storage":{"blobStoreName":"default"},"raw":{"contentDisposition":"sideways"}}`), &bad); err != nil {
		t.Fatal(err)
	}
	if err := fx.M.Create(context.Background(), bad); !errors.As(err, &fe) || fe.Field != "raw.contentDisposition" {
		t.Fatalf("Create = %v", err)
	}
	if _, ok := fx.M.Lookup("bad"); ok {
		t.Fatal("invalid repository created")
	}
}

func TestRawComponent(t *testing.T) {
	f := raw.New(slog.New(slog.DiscardHandler))
	if c := f.Component("a/b/c.txt"); c.Name != "a/b/c.txt" || c.Group != "/a/b" {
		t.Fatalf("Component(a/b/c.txt) = %+v", c)
	}
	if c := f.Component("top.txt"); c.Group != "/" {
		t.Fatalf("Component(top.txt) group = %q, want /", c.Group)
	}
	if f.IsMetadata("x.xml") {
		t.Fatal("raw has metadata")
	}
}
