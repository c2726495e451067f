package npm

import (
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
)

// A proxy asks its upstream for full packuments, scoped names as npm
// writes them; serves them with tarball URLs of its own; caches tarballs
// checked against the packument's integrity (a mismatch is a 502 and
// caches nothing); and with the upstream gone serves what it cached.
func TestProxy(t *testing.T) {
	reg := newRegistry(t)
	reg.add(t, "@up/scoped", []string{"1.0.0", "1.1.0"}, "1.1.0")
	reg.add(t, "plain", []string{"0.1.0"}, "")
	fx := newFixture(t)
	p := fx.proxy("npm-proxy", reg.URL+"/")

	d := fx.doc(p, "@up%2fscoped")
	if want := "http://127.0.0.1/repository/npm-proxy/@up/scoped/-/scoped-1.0.0.tgz"; d.tarballURL("1.0.0") != want || d.Rev != "3-upstream" {
		t.Fatalf("proxied packument: tarball %s (want %s), _rev %s", d.tarballURL("1.0.0"), want, d.Rev)
	}
	if !slices.Contains(reg.seen(), "application/json /@up%2fscoped") {
		t.Fatalf("upstream requests %v: no full packument asked as @up%%2fscoped", reg.seen())
	}
	// Abbreviated for the client, from the one cached full document.
	abbrev := string(fx.get(p, "@up%2fscoped", map[string]string{"Accept": corgi}, http.StatusOK))
	if strings.Contains(abbrev, "upstream readme") || !strings.Contains(abbrev, `"hasInstallScript":true`) {
		t.Fatalf("abbreviated answer: %s", abbrev)
	}

	tgz := fx.get(p, "@up/scoped/-/scoped-1.0.0.tgz", nil, http.StatusOK)
	if string(tgz) != string(reg.files["@up/scoped/-/scoped-1.0.0.tgz"]) {
		t.Fatal("the proxied tarball differs from the upstream's")
	}
	fx.M.Settle(t.Context())
	if _, err := p.Stat(t.Context(), "@up/scoped/-/scoped-1.0.0.tgz"); err != nil {
		t.Fatalf("the tarball was not cached: %v", err)
	}
	if w := fx.do(t.Context(), p, http.MethodGet, "@up/scoped/-/scoped-1.1.0.tgz", nil, nil); w.Code != http.StatusBadGateway && !w.Aborted {
		t.Fatalf("a tarball that does not match its integrity: %d", w.Code)
	}
	fx.M.Settle(t.Context())
	if _, err := p.Stat(t.Context(), "@up/scoped/-/scoped-1.1.0.tgz"); err == nil {
		t.Fatal("a tarball that does not match its integrity was cached")
	}

	// Writes to a proxy are refused.
	if w := fx.publishTo(t.Context(), p, npmtest.Package{Name: "plain", Version: "9.0.0"}, nil); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("publish to a proxy: %d %s", w.Code, w.Body.String())
	}

	// A DELETE forgets a cached tarball; the next GET fetches it again.
	if w := fx.do(t.Context(), p, http.MethodDelete, "@up/scoped/-/scoped-1.0.0.tgz", nil, nil); w.Code != http.StatusOK {
		t.Fatalf("DELETE of a cached tarball: %d %s", w.Code, w.Body.String())
	}
	if _, err := p.Stat(t.Context(), "@up/scoped/-/scoped-1.0.0.tgz"); err == nil {
		t.Fatal("the deleted tarball is still cached")
	}
	fx.get(p, "@up/scoped/-/scoped-1.0.0.tgz", nil, http.StatusOK)
	fx.M.Settle(t.Context())

	// The upstream goes away: the cached packument and tarball still serve
	// (metadataMaxAge is 0: every request tries the upstream first).
	reg.Close()
	if d := fx.doc(p, "@up%2fscoped"); d.Versions["1.0.0"] == nil {
		t.Fatal("the cached packument is not served with the upstream down")
	}
	if got := fx.get(p, "@up/scoped/-/scoped-1.0.0.tgz", nil, http.StatusOK); string(got) != string(tgz) {
		t.Fatal("the cached tarball is not served with the upstream down")
	}
}

// After the first request, a big packument through a group is served
// from the engine's caches (merge, rewrite, abbreviation, gzip): a GET
// allocates a small fraction of the document, so nothing parses it.
func TestBigPackumentServedFromCaches(t *testing.T) {
	reg := newRegistry(t)
	doc := bigPackument(3000)
	reg.mu.Lock()
	reg.docs["big"] = doc
	reg.mu.Unlock()
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.Create(strings.Replace(`{"name":"npm-proxy","format":"npm","type":"proxy","online":true,
		"storage":{"blobStoreName":"default","strictContentTypeValidation":true},
		"proxy":{"remoteUrl":"URL/","contentMaxAge":-1,"metadataMaxAge":1440},
		"negativeCache":{"enabled":true,"timeToLive":1440},"httpClient":{"autoBlock":true}}`, "URL", reg.URL, 1))
	g := fx.group("npm-group", "", "", "npm-hosted", "npm-proxy")
	fx.publish(h, npmtest.Package{Name: "other", Version: "1.0.0"})
	hdr := map[string]string{"Accept": corgi, "Accept-Encoding": "gzip"}
	first := fx.get(g, "big", hdr, http.StatusOK)
	var before, after runtime.MemStats
	const n = 20
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		if got := fx.get(g, "big", hdr, http.StatusOK); len(got) != len(first) {
			t.Fatalf("answers of %d and %d bytes", len(first), len(got))
		}
	}
	runtime.ReadMemStats(&after)
	perGet := (after.TotalAlloc - before.TotalAlloc) / n
	t.Logf("a %d-byte packument: %d bytes gzipped, %d bytes allocated per GET", len(doc), len(first), perGet)
	if perGet > uint64(len(doc)/20) {
		t.Fatalf("%d bytes allocated per GET of a %d-byte packument: it is parsed or copied per request", perGet, len(doc))
	}
}
