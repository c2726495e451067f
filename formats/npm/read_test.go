package npm

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
)

// Packuments come full or abbreviated as Accept asks (the abbreviated
// type alone never gets a 406), gzipped when the client takes it, with an
// ETag per variant that answers If-None-Match with a 304.
func TestPackumentVariants(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.publish(h, npmtest.Package{Name: "variants", Version: "1.0.0", Extra: map[string]any{
		"scripts":      map[string]string{"install": "node-gyp rebuild"},
		"dependencies": map[string]string{"dep": "^1"},
		"libc":         []string{"glibc"},
		"author":       "someone",
	}})
	for _, c := range []struct {
		accept string
		abbrev bool
	}{
		{"", false},
		{"application/json", false},
		{"*/*", false},
		{corgi, true},
		{"application/vnd.npm.install-v1+json", true},
		{"application/json, application/vnd.npm.install-v1+json; q=0.5", false},
		{"application/vnd.npm.install-v1+json; q=0", false},
	} {
		w := fx.do(t.Context(), h, http.MethodGet, "variants", nil, map[string]string{"Accept": c.accept})
		ct := w.Header().Get("Content-Type")
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("Accept %q: status %d", c.accept, w.Code)
		}
		if c.abbrev != (ct == typeAbbreviated) || c.abbrev == strings.Contains(body, `"readme"`) {
			t.Errorf("Accept %q: %s %.120s, abbreviated wanted: %v", c.accept, ct, body, c.abbrev)
		}
	}
	var a struct {
		Name     string                    `json:"name"`
		Modified string                    `json:"modified"`
		Time     map[string]string         `json:"time"`
		DistTags map[string]string         `json:"dist-tags"`
		Versions map[string]map[string]any `json:"versions"`
	}
	json.Unmarshal(fx.get(h, "variants", map[string]string{"Accept": corgi}, http.StatusOK), &a)
	v := a.Versions["1.0.0"]
	if a.Name != "variants" || a.Modified == "" || a.Time["1.0.0"] == "" || a.DistTags["latest"] != "1.0.0" {
		t.Errorf("abbreviated document: %+v", a)
	}
	if v["dependencies"] == nil || v["dist"] == nil || v["libc"] == nil || v["hasInstallScript"] != true || v["scripts"] != nil || v["author"] != nil || v["readme"] != nil {
		t.Errorf("abbreviated version: %v", v)
	}

	// gzip, with the ETag of the bytes sent.
	w := fx.do(t.Context(), h, http.MethodGet, "variants", nil, map[string]string{"Accept": corgi, "Accept-Encoding": "gzip, deflate, br"})
	if w.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip answer headers %v", w.Header())
	}
	zr, err := gzip.NewReader(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	plain := fx.get(h, "variants", map[string]string{"Accept": corgi}, http.StatusOK)
	if !bytes.Equal(unzipped, plain) {
		t.Fatal("the gzip answer is not the abbreviated document")
	}
	etags := map[string]bool{}
	for _, hdr := range []map[string]string{
		{"Accept": corgi, "Accept-Encoding": "gzip"}, {"Accept": corgi}, {"Accept": "application/json"},
	} {
		w := fx.do(t.Context(), h, http.MethodGet, "variants", nil, hdr)
		etag := w.Header().Get("ETag")
		if etag == "" || etags[etag] {
			t.Fatalf("%v: ETag %q missing or shared with another variant", hdr, etag)
		}
		etags[etag] = true
		hdr["If-None-Match"] = etag
		if w := fx.do(t.Context(), h, http.MethodGet, "variants", nil, hdr); w.Code != http.StatusNotModified {
			t.Fatalf("%v: status %d, want 304", hdr, w.Code)
		}
	}
	if w := fx.do(t.Context(), h, http.MethodHead, "variants", nil, nil); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
}

// Paths that reach outside a package, and tarball names of another
// package, are refused; so are names npm never allows.
func TestPathsRefused(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.publish(h, npmtest.Package{Name: "@acme/ok", Version: "1.0.0"})
	for _, p := range []string{
		"%2e%2e", "..%2fetc", "@acme%2f..", "@acme%2f%2e%2e", "@..%2fok", "@acme%2fok%2f..",
		"@acme/ok/-/..%2f..%2fx.tgz", "@acme/ok/-/other-1.0.0.tgz", "@acme/ok/-/ok-1.0.0.exe",
		".hidden", "@acme%2f.ok", "a%5cb", "a%00b", "@acme%2fok%2fextra",
	} {
		w := fx.do(t.Context(), h, http.MethodGet, p, nil, nil)
		if w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d", p, w.Code)
			continue
		}
		errorOf(t, w)
	}
	// Legacy names are readable (they exist upstream), though not
	// publishable.
	for _, name := range []string{"JSONStream", "@Scope/Legacy", "it's", "with~tilde"} {
		if err := checkReadName(name); err != nil {
			t.Errorf("legacy name %s refused: %v", name, err)
		}
		if err := checkNewName(name); err == nil {
			t.Errorf("legacy name %s accepted for a new package", name)
		}
	}
	for _, name := range []string{"ok", "@scope/ok", "a.b_c-d", "under_score.dots-dash", "@s/_under", strings.Repeat("a", 214)} {
		if err := checkNewName(name); err != nil {
			t.Errorf("valid name %s refused: %v", name, err)
		}
	}
	for _, name := range []string{"", "_under", ".dot", "a b", "a/b", "@/x", "@scope", "@scope/", "node_modules", "favicon.ico", strings.Repeat("a", 215), "ü"} {
		if err := checkNewName(name); err == nil {
			t.Errorf("invalid name %q accepted", name)
		}
	}
}

// DecodePath decodes the separator of a scoped name only, where npm puts
// it.
func TestDecodePath(t *testing.T) {
	for in, want := range map[string]string{
		"@scope%2fname":                       "@scope/name",
		"@scope%2Fname/1.0.0":                 "@scope/name/1.0.0",
		"%40scope%2fname":                     "@scope/name",
		"-/package/@scope%2fname/dist-tags":   "-/package/@scope/name/dist-tags",
		"@scope%2fname%2fmore":                "@scope%2fname%2fmore",
		"name%2fother":                        "name%2fother",
		"@%2fname":                            "@%2fname",
		"@scope%2f":                           "@scope%2f",
		"@scope/name/-/name-1.0.0.tgz":        "@scope/name/-/name-1.0.0.tgz",
		"x/@scope%2fname":                     "x/@scope%2fname",
		"-/package/@a%2fb/dist-tags/@c%2fd":   "-/package/@a/b/dist-tags/@c%2fd",
		"-/user/org.couchdb.user:%40me%2fyou": "-/user/org.couchdb.user:%40me%2fyou",
	} {
		if got := (&Format{}).DecodePath(in); got != want {
			t.Errorf("DecodePath(%q) = %q, want %q", in, got, want)
		}
	}
}
