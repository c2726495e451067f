package docker

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// A proxied manifest larger than maxManifestSize is refused and never
// cached, whether the upstream announces its length or streams it, by tag
// or by digest; a second GET asks the upstream again rather than serve it.
func TestProxyManifestTooLarge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		ref     string
		chunked bool
	}{{"tag", "big", false}, {"tag streamed", "big", true}, {"digest", "", false}, {"digest streamed", "", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx, up, r, c := proxyFixture(t, func(cfg map[string]any) {
				sectionOf(cfg, "httpClient")["autoBlock"] = false
			})
			config := []byte(`{"architecture":"amd64"}`)
			up.putBlob("team/app", config)
			// A valid manifest, made 5 MiB by an annotation.
			m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[],"annotations":{"pad":%q}}`,
				mtOCIManifest, digest.FromBytes(config), len(config), strings.Repeat("x", 5<<20)))
			d := up.putManifest("team/app", "big", mtOCIManifest, m)
			ref := tc.ref
			if ref == "" {
				ref = d.String()
			}
			p := "/v2/team/app/manifests/" + ref
			if tc.chunked {
				up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
					if req.URL.Path != p {
						return false
					}
					w.Header().Set("Content-Type", mtOCIManifest)
					w.Header().Set("Docker-Content-Digest", d.String())
					if req.Method == http.MethodHead {
						return true
					}
					for rest := m; len(rest) > 0; {
						n := min(len(rest), 64<<10)
						w.Write(rest[:n])
						w.(http.Flusher).Flush()
						rest = rest[n:]
					}
					return true
				})
			}
			for i := range 2 {
				resp, err := pgSend(c, http.MethodGet, p, map[string]string{"Accept": mtOCIManifest})
				if err == nil && resp.status == http.StatusOK && len(resp.body) == len(m) {
					t.Fatalf("GET %d of a 5 MiB manifest: a complete 200", i+1)
				}
				if err == nil && resp.status != http.StatusOK {
					checkErrorBody(t, "GET of a 5 MiB manifest", resp, "")
				}
				settle(t, fx)
				notCached(t, fx, r, "v2/team/app/manifests/"+ref, d)
			}
			if n := up.count(http.MethodGet, p); n != 2 {
				t.Fatalf("upstream GETs: %d, want 2 (nothing served from a cache)", n)
			}
		})
	}
}

// settle waits until no proxy download is being written to the blob store.
func settle(t *testing.T, fx *fixture) {
	t.Helper()
	waitFor(t, "proxy downloads to end", func() bool { return len(fx.tempFiles()) == 0 })
}
