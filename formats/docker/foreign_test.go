package docker

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

const mtForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

// A proxy with cacheForeignLayers fetches a manifest's foreign layer from
// its URL when the whitelist allows it, caches it (digest checked) and
// serves it; without a matching entry the layer is the upstream's to
// serve, which here lacks it. The upstream's credentials never go to the
// layer's server.
func TestForeignLayers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	layer := []byte("a non-distributable base layer")
	ld := digest.FromBytes(layer)
	var hits atomic.Int32
	var authz atomic.Value
	authz.Store("")
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		authz.Store(r.Header.Get("Authorization"))
		if r.URL.Path != "/layers/base.tar.gz" {
			http.NotFound(w, r)
			return
		}
		w.Write(layer)
	}))
	t.Cleanup(foreign.Close)

	up := newUpstream(t)
	config := []byte(`{"os":"windows"}`)
	cd := up.putBlob("win/app", config)
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mtDockerManifest,
		"config": descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: cd.String(), Size: int64(len(config))},
		"layers": []descriptor{{MediaType: mtForeignLayer, Digest: ld.String(), Size: int64(len(layer)),
			URLs: []string{"ftp://elsewhere.example/x", foreign.URL + "/layers/base.tar.gz"}}}})
	up.putManifest("win/app", "1.0", mtDockerManifest, m)

	for name, whitelist := range map[string][]string{"docker-fl": {`http://127\.0\.0\.1:\d+/layers/.*`}, "docker-nofl": {`.*\.example/.*`}} {
		r := fx.create(proxyConfig(t, name, up.srv.URL, func(cfg map[string]any) {
			cfg["dockerProxy"] = map[string]any{"indexType": "REGISTRY", "cacheForeignLayers": true, "foreignLayerUrlWhitelist": whitelist}
			cfg["httpClient"].(map[string]any)["authentication"] = map[string]any{"type": "username", "username": "u", "password": "p"}
		}))
		admin := fx.admin(fx.connector(r))
		expect(t, name+": manifest", admin.do(http.MethodGet, "/v2/win/app/manifests/1.0", nil, map[string]string{"Accept": mtDockerManifest}), http.StatusOK)
		resp := admin.do(http.MethodGet, "/v2/win/app/blobs/"+ld.String(), nil, nil)
		if name == "docker-nofl" {
			expect(t, name+": layer outside the whitelist", resp, http.StatusNotFound)
			continue
		}
		if resp.status != http.StatusOK || string(resp.body) != string(layer) {
			t.Fatalf("%s: foreign layer: %s", name, resp)
		}
		fx.settle()
		resp = admin.do(http.MethodGet, "/v2/win/app/blobs/"+ld.String(), nil, nil)
		if resp.status != http.StatusOK || string(resp.body) != string(layer) || hits.Load() != 1 {
			t.Errorf("%s: cached foreign layer: %s, %d fetches", name, resp, hits.Load())
		}
		if a := authz.Load().(string); a != "" {
			t.Errorf("%s: the layer's server got Authorization %q", name, a)
		}
	}
}

// The whitelist compiles an entry once, not per request, and matches whole
// URLs: an alternation does not let a URL through on a part.
func TestWhitelistCompilesOnce(t *testing.T) {
	t.Parallel()
	w := newWhitelist()
	ps := proxySettings{ForeignLayerURLWhitelist: []string{"(unclosed", `https://a\.example/.*|https://b\.example/.*`}}
	for _, tc := range []struct{ url, want string }{
		{"https://b.example/l", "https://b.example/l"},
		{"https://a.example/l", "https://a.example/l"},
		{"https://evil.example/https://b.example/l", ""},
	} {
		if got := w.allowed(ps, []string{tc.url}); got != tc.want {
			t.Errorf("allowed(%s) = %q, want %q", tc.url, got, tc.want)
		}
	}
	if re := w.compiled(ps.ForeignLayerURLWhitelist[1]); re != w.compiled(ps.ForeignLayerURLWhitelist[1]) || re == nil {
		t.Errorf("an entry compiled twice or not at all: %v", re)
	}
	if re := w.compiled("(unclosed"); re != nil {
		t.Errorf("an invalid entry compiled: %v", re)
	}
}
