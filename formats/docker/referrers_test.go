package docker

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Referrers through proxies: the upstream's referrers API where it has
// one, the referrers tag schema where it does not.

const (
	typeSig  = "application/vnd.example.sig"
	typeSBOM = "application/vnd.example.sbom"
)

// upArtifact stores on the upstream an artifact manifest of artifactType
// whose subject is subject, and returns its descriptor as a referrers
// list names it.
func (u *upstreamRegistry) upArtifact(name string, subject digest.Digest, artifactType, note string) descriptor {
	u.t.Helper()
	empty := []byte("{}")
	u.putBlob(name, empty)
	m := mustJSON(u.t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": artifactType,
		"config":      desc("application/vnd.oci.empty.v1+json", empty),
		"layers":      []descriptor{desc("application/vnd.oci.empty.v1+json", empty)},
		"subject":     descriptor{MediaType: mtOCIManifest, Digest: subject.String(), Size: 1},
		"annotations": map[string]string{"note": note},
	})
	d := u.putManifest(name, "", mtOCIManifest, m)
	return descriptor{MediaType: mtOCIManifest, Digest: d.String(), Size: int64(len(m)),
		ArtifactType: artifactType, Annotations: map[string]string{"note": note}}
}

// tagReferrers writes the referrers tag schema's index of subject, as a
// client attaching to a registry without the referrers API does.
func (u *upstreamRegistry) tagReferrers(name string, subject digest.Digest, descs ...descriptor) {
	u.t.Helper()
	idx := mustJSON(u.t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": descs})
	u.putManifest(name, referrersTag(subject), mtOCIIndex, idx)
}

// serveReferrersAPI makes the upstream answer the referrers API of subject
// with descs; other referrers requests still get the 404 of a registry
// without the API.
func (u *upstreamRegistry) serveReferrersAPI(name string, subject digest.Digest, descs ...descriptor) {
	body := mustJSON(u.t, referrersIndex(descs))
	u.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/"+referrersPath(name, subject.String()) {
			return false
		}
		w.Header().Set("Content-Type", mtOCIIndex)
		w.Write(body)
		return true
	})
}

// referrerDigests GETs the referrers of subject (with query) and returns
// the listed digests, sorted, and the response.
func referrerDigests(t *testing.T, c *client, name string, subject digest.Digest, query string) ([]string, *response) {
	t.Helper()
	resp := pgDo(t, c, http.MethodGet, "/v2/"+name+"/referrers/"+subject.String()+query)
	expect(t, "referrers"+query, resp, http.StatusOK)
	if ct := resp.header.Get("Content-Type"); ct != mtOCIIndex {
		t.Fatalf("referrers Content-Type %q", ct)
	}
	var idx manifest
	if err := json.Unmarshal(resp.body, &idx); err != nil || idx.SchemaVersion != 2 || idx.Manifests == nil {
		t.Fatalf("referrers body %s (%v)", resp.body, err)
	}
	out := []string{}
	for _, d := range idx.Manifests {
		out = append(out, d.Digest)
	}
	sort.Strings(out)
	return out, resp
}

func wantReferrers(t *testing.T, c *client, name string, subject digest.Digest, query string, want ...descriptor) *response {
	t.Helper()
	got, resp := referrerDigests(t, c, name, subject, query)
	digests := []string{}
	for _, d := range want {
		digests = append(digests, d.Digest)
	}
	sort.Strings(digests)
	if !slices.Equal(got, digests) {
		t.Fatalf("referrers%s: %q, want %q", query, got, digests)
	}
	return resp
}

// expire makes the cached asset at p of r older than any metadataMaxAge.
func expire(t *testing.T, fx *fixture, r repo.Repository, p string) {
	t.Helper()
	fx.settle()
	a, err := r.Stat(context.Background(), p)
	if err != nil {
		t.Fatalf("%s not cached: %v", p, err)
	}
	if err := fx.db.UpdateAsset(a.ID, func(a *meta.Asset) { a.LastVerified = time.Now().Add(-30 * 24 * time.Hour) }); err != nil {
		t.Fatal(err)
	}
}

func TestReferrersTag(t *testing.T) {
	t.Parallel()
	long := digest.Digest("sha512:" + strings.Repeat("ab", 64))
	for d, want := range map[digest.Digest]string{
		"sha256:" + digest.Digest(strings.Repeat("0", 64)): "sha256-" + strings.Repeat("0", 64),
		long: "sha512-" + strings.Repeat("ab", 32),
	} {
		if got := referrersTag(d); got != want {
			t.Errorf("referrersTag(%s) = %s, want %s", d, got, want)
		}
	}
}

// TestProxyReferrersTagSchema: an upstream without the referrers API (it
// answers 404) has its referrers read from the tag schema; the answer is
// cached as metadata, and no referrers yet is never remembered longer.
func TestProxyReferrersTagSchema(t *testing.T) {
	t.Parallel()
	fx, up, proxy, c := proxyFixture(t, nil)
	_, subject := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"c":1}`), randomBytes(t, 512))
	refPath := "/" + referrersPath("team/app", subject.String())
	tagPath := "/" + manifestPath("team/app", referrersTag(subject))

	// Nothing attached yet: an empty list, after asking the API and the tag.
	wantReferrers(t, c, "team/app", subject, "")
	if a, g := up.count("GET", refPath), up.count("GET", tagPath); a != 1 || g != 1 {
		t.Fatalf("first listing: %d GETs of the API, %d of the tag upstream, want 1, 1", a, g)
	}
	// Cached as metadata: within metadataMaxAge the upstream is not asked.
	before := up.total()
	wantReferrers(t, c, "team/app", subject, "")
	if n := up.total() - before; n != 0 {
		t.Fatalf("a fresh cached listing made %d upstream requests", n)
	}

	// Signatures are attached upstream, the tag schema's way.
	sig := up.upArtifact("team/app", subject, typeSig, "g")
	sbom := up.upArtifact("team/app", subject, typeSBOM, "s")
	up.tagReferrers("team/app", subject, sig, sbom)
	wantReferrers(t, c, "team/app", subject, "") // still the cached answer
	// Once the cached answer expires they show, though the tag's 404 is in
	// the negative cache (timeToLive 1440 minutes) and the answer was empty.
	expire(t, fx, proxy, referrersPath("team/app", subject.String()))
	wantReferrers(t, c, "team/app", subject, "", sig, sbom)
	resp := wantReferrers(t, c, "team/app", subject, "?artifactType="+typeSig, sig)
	if got := resp.header.Get("OCI-Filters-Applied"); got != "artifactType" {
		t.Errorf("OCI-Filters-Applied %q", got)
	}
	if resp := wantReferrers(t, c, "team/app", subject, "", sig, sbom); resp.header.Get("OCI-Filters-Applied") != "" {
		t.Errorf("unfiltered listing has OCI-Filters-Applied")
	}
	var idx manifest
	json.Unmarshal(pgDo(t, c, http.MethodGet, refPath+"?artifactType="+typeSBOM).body, &idx)
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != typeSBOM || idx.Manifests[0].Annotations["note"] != "s" ||
		idx.Manifests[0].Size != sbom.Size || idx.Manifests[0].MediaType != mtOCIManifest {
		t.Errorf("the listed descriptor lost fields: %+v", idx.Manifests)
	}
	// The tag came through the proxy's manifest path: it is cached too.
	waitCached(t, proxy, manifestPath("team/app", referrersTag(subject)))
	if a, g := up.count("GET", refPath), up.count("GET", tagPath); a != 2 || g != 2 {
		t.Errorf("after the expiry: %d GETs of the API, %d of the tag upstream, want 2, 2", a, g)
	}

	// A group merges the proxy's list with a hosted member's own referrer
	// of the same subject.
	hosted := fx.create(hostedConfig("docker-hosted", "allow", ""))
	group := fx.create(groupConfig("docker-group", "", "docker-hosted", "docker-proxy"))
	hc := fx.admin(fx.connector(hosted))
	empty := []byte("{}")
	hc.pushBlob("team/app", empty)
	note := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": typeSig,
		"config":  desc("application/vnd.oci.empty.v1+json", empty),
		"layers":  []descriptor{desc("application/vnd.oci.empty.v1+json", empty)},
		"subject": descriptor{MediaType: mtOCIManifest, Digest: subject.String(), Size: 1},
	})
	expect(t, "push a hosted referrer", hc.putManifest("team/app", digest.FromBytes(note).String(), mtOCIManifest, note), http.StatusCreated)
	own := descriptor{Digest: digest.FromBytes(note).String()}
	gc := fx.admin(fx.connector(group))
	wantReferrers(t, gc, "team/app", subject, "", sig, sbom, own)
	wantReferrers(t, gc, "team/app", subject, "?artifactType="+typeSig, sig, own)
}

// TestProxyReferrersAPI: an upstream with the referrers API is asked, and
// its answer cached; the tag schema is not consulted.
func TestProxyReferrersAPI(t *testing.T) {
	t.Parallel()
	fx, up, proxy, c := proxyFixture(t, nil)
	_, subject := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"c":2}`), randomBytes(t, 512))
	sig := up.upArtifact("team/app", subject, typeSig, "g")
	sbom := up.upArtifact("team/app", subject, typeSBOM, "s")
	up.serveReferrersAPI("team/app", subject, sig, sbom)
	// A stale tag schema index upstream (left by an older client) is not
	// what an upstream with the API is asked for.
	up.tagReferrers("team/app", subject, sig)
	tagPath := "/" + manifestPath("team/app", referrersTag(subject))

	wantReferrers(t, c, "team/app", subject, "", sig, sbom)
	resp := wantReferrers(t, c, "team/app", subject, "?artifactType="+typeSBOM, sbom)
	if got := resp.header.Get("OCI-Filters-Applied"); got != "artifactType" {
		t.Errorf("OCI-Filters-Applied %q", got)
	}
	refPath := "/" + referrersPath("team/app", subject.String())
	if a, g := up.count("GET", refPath), up.count("GET", tagPath); a != 1 || g != 0 {
		t.Fatalf("%d GETs of the API (the filter is applied here), %d of the tag upstream, want 1, 0", a, g)
	}
	// The answer is revalidated once stale and follows the upstream.
	late := up.upArtifact("team/app", subject, typeSig, "late")
	up.serveReferrersAPI("team/app", subject, sig, sbom, late)
	wantReferrers(t, c, "team/app", subject, "", sig, sbom)
	expire(t, fx, proxy, referrersPath("team/app", subject.String()))
	wantReferrers(t, c, "team/app", subject, "", sig, sbom, late)
	if g := up.count("GET", tagPath); g != 0 {
		t.Errorf("the tag schema was read %d times from an upstream with the API", g)
	}

	// A 200 that is no index (a web page served for any path) is an
	// upstream without the API.
	_, other := up.pushImage("team/web", "1.0", mtOCIManifest, []byte(`{"c":3}`), randomBytes(t, 64))
	websig := up.upArtifact("team/web", other, typeSig, "w")
	up.tagReferrers("team/web", other, websig)
	up.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.Contains(r.URL.Path, "/referrers/") {
			return false
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<html><body>registry front end</body></html>"))
		return true
	})
	wantReferrers(t, c, "team/web", other, "", websig)
}

// TestProxyReferrersUpstreamDown: a failing upstream is not a missing API.
// The cached answer is served, however old; without one the client gets
// the distribution API's error, not an empty list.
func TestProxyReferrersUpstreamDown(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "proxy")["metadataMaxAge"] = 0
		sectionOf(cfg, "httpClient")["autoBlock"] = false
	})
	_, subject := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"c":4}`), randomBytes(t, 512))
	_, unasked := up.pushImage("team/app", "2.0", mtOCIManifest, []byte(`{"c":5}`), randomBytes(t, 512))
	sig := up.upArtifact("team/app", subject, typeSig, "g")
	up.tagReferrers("team/app", subject, sig)
	wantReferrers(t, c, "team/app", subject, "", sig)

	for _, fault := range []struct {
		name string
		fn   func(w http.ResponseWriter, r *http.Request) bool
	}{
		{"503 for everything", func(w http.ResponseWriter, r *http.Request) bool {
			upstreamError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE")
			return true
		}},
		// The API is missing as before, but the tag cannot be read.
		{"503 for the tag", func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/manifests/sha256-") {
				return false
			}
			upstreamError(w, r, http.StatusServiceUnavailable, "UNAVAILABLE")
			return true
		}},
	} {
		up.setFault(fault.fn)
		before := up.total()
		wantReferrers(t, c, "team/app", subject, "", sig)
		if up.total() == before {
			t.Fatalf("%s: the stale answer was served without asking the upstream", fault.name)
		}
		wantServerError(t, fault.name+": referrers never cached",
			pgDo(t, c, http.MethodGet, "/v2/team/app/referrers/"+unasked.String()))
	}
	// The upstream is back: the subject first asked while it was down is
	// listed (its failure was not cached as "no referrers").
	up.setFault(nil)
	late := up.upArtifact("team/app", unasked, typeSBOM, "late")
	up.tagReferrers("team/app", unasked, late)
	wantReferrers(t, c, "team/app", unasked, "", late)
}

// TestProxyReferrersHub: a HUB proxy asks for the referrers of a
// one-segment name in library/, as for its manifests.
func TestProxyReferrersHub(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "dockerProxy")["indexType"] = "HUB"
	})
	_, subject := up.pushImage("library/alpine", "3.19", mtOCIManifest, []byte(`{"os":"alpine"}`), randomBytes(t, 256))
	sig := up.upArtifact("library/alpine", subject, typeSig, "g")
	up.tagReferrers("library/alpine", subject, sig)
	wantReferrers(t, c, "alpine", subject, "", sig)
	for _, p := range []string{"/" + referrersPath("library/alpine", subject.String()), "/" + manifestPath("library/alpine", referrersTag(subject))} {
		if up.count("GET", p) != 1 {
			t.Errorf("upstream GETs of %s: %d, want 1", p, up.count("GET", p))
		}
	}
}
