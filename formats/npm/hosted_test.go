package npm

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A publish stores the tarball and the packument; the package reads back
// whole, by version and dist-tag, its tarball with the published bytes;
// the same version again is refused with npm's message.
func TestPublishAndRead(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	p := npmtest.Package{Name: "@acme/left-pad.js", Version: "1.0.0-beta.1+build.7"}
	tgz := p.Tarball()
	body := p.Document(tgz, "latest")
	body["x-custom"] = json.RawMessage(`{"provenance":["kept",1.5e3]}`)
	body["_attachments"].(map[string]any)[p.Name+"-"+p.Version+".sigstore"] = map[string]any{
		"content_type": "application/vnd.dev.sigstore.bundle.v0.3+json", "data": "{}", "length": 2,
	}
	if w := fx.publishTo(t.Context(), h, p, body); w.Code != http.StatusOK {
		t.Fatalf("publish: %d %s", w.Code, w.Body.String())
	}
	raw := fx.get(h, "@acme%2fleft-pad.js", map[string]string{"Accept": "application/json"}, http.StatusOK)
	if !strings.Contains(string(raw), `"x-custom":{"provenance":["kept",1.5e3]}`) {
		t.Errorf("an extra field was not kept verbatim: %s", raw)
	}
	if strings.Contains(string(raw), "_attachments") {
		t.Errorf("the packument keeps its attachments: %.200s", raw)
	}
	d := fx.doc(h, "@acme%2fleft-pad.js")
	v := p.Version
	if d.ID != p.Name || d.Name != p.Name || d.DistTags["latest"] != v || d.Versions[v] == nil || d.Time[v] == "" || d.Time["created"] == "" || d.Time["modified"] == "" {
		t.Fatalf("packument: %+v", d)
	}
	if !strings.HasPrefix(d.Rev, "1-") {
		t.Errorf("_rev %q, want 1-<hex>", d.Rev)
	}
	if want := "http://127.0.0.1/repository/npm-hosted/@acme/left-pad.js/-/left-pad.js-" + v + ".tgz"; d.tarballURL(v) != want {
		t.Errorf("tarball URL %s, want %s", d.tarballURL(v), want)
	}
	// The unescaped form reads the same; so do a version and a tag.
	fx.get(h, "@acme/left-pad.js", nil, http.StatusOK)
	var m map[string]any
	json.Unmarshal(fx.get(h, "@acme%2fleft-pad.js/latest", nil, http.StatusOK), &m)
	if m["version"] != v {
		t.Errorf("the latest manifest: %v", m)
	}
	fx.get(h, "@acme%2fleft-pad.js/"+strings.ReplaceAll(v, "+", "%2B"), nil, http.StatusOK)
	fx.get(h, "@acme%2fleft-pad.js/9.9.9", nil, http.StatusNotFound)
	if got := fx.get(h, "@acme/left-pad.js/-/left-pad.js-"+v+".tgz", nil, http.StatusOK); string(got) != string(tgz) {
		t.Error("the tarball differs from the published bytes")
	}
	a, err := h.Stat(t.Context(), "@acme/left-pad.js/-/left-pad.js-"+v+".tgz")
	if err != nil || a.ComponentID == "" {
		t.Fatalf("the tarball asset %+v (%v) belongs to no component", a, err)
	}

	w := fx.publishTo(t.Context(), h, p, nil)
	if w.Code != http.StatusForbidden || !strings.Contains(errorOf(t, w), "cannot publish over the previously published versions") {
		t.Fatalf("republish: %d %s", w.Code, w.Body.String())
	}
	if d2 := fx.doc(h, "@acme%2fleft-pad.js"); d2.Rev != d.Rev {
		t.Errorf("a refused republish changed the packument: %s → %s", d.Rev, d2.Rev)
	}
}

// Bad publishes are refused with a clear npm error and store nothing.
func TestPublishRefusals(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	good := npmtest.Package{Name: "foo", Version: "1.0.0"}
	tgz := good.Tarball()
	cases := []struct {
		name   string
		path   string
		body   func() []byte
		status int
		says   string
	}{
		{"name in URL and body differ", "bar", func() []byte { return mustJSON(good.Document(tgz, "latest")) }, 400, "not the package"},
		{"version named otherwise", "foo", func() []byte {
			b := good.Document(tgz, "latest")
			b["versions"].(map[string]any)["1.0.0"].(map[string]any)["name"] = "bar"
			return mustJSON(b)
		}, 400, "named"},
		{"tarball of another package", "foo", func() []byte {
			p := npmtest.Package{Name: "foo", Version: "1.0.0", TarName: "evil"}
			return mustJSON(p.Document(p.Tarball(), "latest"))
		}, 400, "package.json"},
		{"tarball of another version", "foo", func() []byte {
			p := npmtest.Package{Name: "foo", Version: "1.0.0", TarVersion: "2.0.0"}
			return mustJSON(p.Document(p.Tarball(), "latest"))
		}, 400, "package.json"},
		{"wrong integrity", "foo", func() []byte {
			b := good.Document(tgz, "latest")
			other := good.Document(npmtest.Package{Name: "foo", Version: "1.0.1"}.Tarball(), "latest")
			dist := b["versions"].(map[string]any)["1.0.0"].(map[string]any)["dist"].(map[string]any)
			dist["integrity"] = other["versions"].(map[string]any)["1.0.0"].(map[string]any)["dist"].(map[string]any)["integrity"]
			delete(dist, "shasum")
			return mustJSON(b)
		}, 400, "integrity"},
		{"wrong shasum", "foo", func() []byte {
			b := good.Document(tgz, "latest")
			b["versions"].(map[string]any)["1.0.0"].(map[string]any)["dist"].(map[string]any)["shasum"] = strings.Repeat("0", 40)
			return mustJSON(b)
		}, 400, "shasum"},
		{"integrity of an algorithm not checked", "foo", func() []byte {
			b := good.Document(tgz, "latest")
			b["versions"].(map[string]any)["1.0.0"].(map[string]any)["dist"].(map[string]any)["integrity"] = "md5-AAAAAAAAAAAAAAAAAAAAAA=="
			return mustJSON(b)
		}, 400, "sha512"},
		{"a second file", "foo", func() []byte {
			b := good.Document(tgz, "latest")
			b["_attachments"].(map[string]any)["../evil.tgz"] = b["_attachments"].(map[string]any)["foo-1.0.0.tgz"]
			return mustJSON(b)
		}, 400, "attachment"},
		{"malformed JSON", "foo", func() []byte { return []byte(`{"name":"foo","versions":{`) }, 400, "JSON"},
		{"not semver", "foo", func() []byte {
			p := npmtest.Package{Name: "foo", Version: "1.0"}
			return mustJSON(p.Document(p.Tarball(), "latest"))
		}, 400, "semver"},
		{"uppercase new name", "Foo", func() []byte {
			p := npmtest.Package{Name: "Foo", Version: "1.0.0"}
			return mustJSON(p.Document(p.Tarball(), "latest"))
		}, 400, "uppercase"},
		{"traversal in the name", "%2e%2e", func() []byte { return mustJSON(good.Document(tgz, "latest")) }, 400, ""},
		{"traversal in the scope", "@%2e%2e%2ffoo", func() []byte { return mustJSON(good.Document(tgz, "latest")) }, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := fx.do(t.Context(), h, http.MethodPut, c.path, c.body(), nil)
			msg := errorOf(t, w)
			if w.Code != c.status || !strings.Contains(msg, c.says) {
				t.Fatalf("status %d %q, want %d saying %q", w.Code, msg, c.status, c.says)
			}
		})
	}
	// A tarball over the upload limit: 413.
	ctx := repo.WithMaxUploadSize(t.Context(), int64(len(tgz)-1))
	if w := fx.publishTo(ctx, h, good, nil); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the limit: %d %s", w.Code, w.Body.String())
	}
	var n int
	h.Walk(t.Context(), "", func(*meta.Asset) error { n++; return nil })
	if n != 0 {
		t.Fatalf("refused publishes stored %d assets", n)
	}
	// The limit is on the tarball, not on its base64 and JSON around it.
	if w := fx.publishTo(repo.WithMaxUploadSize(t.Context(), int64(len(tgz))), h, good, nil); w.Code != http.StatusOK {
		t.Fatalf("at the limit: %d %s", w.Code, w.Body.String())
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Concurrent publishes of different versions of one package all land.
func TestConcurrentPublishes(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	versions := []string{"1.0.0", "1.1.0", "2.0.0-rc.1", "1.0.1", "3.0.0", "0.9.0"}
	var wg sync.WaitGroup
	codes := make([]int, len(versions))
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = fx.publishTo(t.Context(), h, npmtest.Package{Name: "@acme/app", Version: v}, nil).Code
		}()
	}
	wg.Wait()
	d := fx.doc(h, "@acme%2fapp")
	for i, v := range versions {
		if codes[i] != http.StatusOK || d.Versions[v] == nil || d.Time[v] == "" {
			t.Errorf("version %s: publish status %d, in the packument %v", v, codes[i], d.Versions[v] != nil)
		}
	}
	if d.DistTags["latest"] == "" || d.Versions[d.DistTags["latest"]] == nil {
		t.Errorf("latest %q is no published version", d.DistTags["latest"])
	}
	if !strings.HasPrefix(d.Rev, "6-") {
		t.Errorf("_rev %s after six writes", d.Rev)
	}
}

// A packument changed between modify's read and its write (by a writer
// the package lock does not see) is read again and the change applied
// anew: neither write is lost.
func TestModifyRetriesOnConflict(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.publish(h, npmtest.Package{Name: "cas", Version: "1.0.0"})
	calls := 0
	_, err := modify(t.Context(), putter{}, h, "cas", func(cur []byte) ([]byte, error) {
		calls++
		if calls == 1 {
			// Another writer lands in between.
			fx.publish(h, npmtest.Package{Name: "cas", Version: "2.0.0"})
		}
		doc, err := parseObject(cur)
		if err != nil {
			return nil, err
		}
		doc.set("description", jsonString("changed"))
		return doc.marshal(), nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("modify: %v after %d calls, want success after 2", err, calls)
	}
	raw := fx.get(h, "cas", nil, http.StatusOK)
	d := fx.doc(h, "cas")
	if d.Versions["2.0.0"] == nil || !strings.Contains(string(raw), `"description":"changed"`) {
		t.Fatalf("a write was lost: versions %v, %s", keysOf(d.Versions), raw)
	}
}
