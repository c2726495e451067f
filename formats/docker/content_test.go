package docker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestManifestRoundTrip(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config, layer := []byte(`{"architecture":"amd64","os":"linux"}`), randomBytes(t, 4096)
	admin.pushBlob("team/app", config)
	admin.pushBlob("team/app", layer)

	for _, mt := range []string{mtOCIManifest, mtDockerManifest} {
		// Odd but valid JSON layout: the registry must keep the very bytes.
		m := imageManifest(t, mt, config, layer)
		m = []byte("{\n  " + strings.TrimPrefix(string(m), "{"))
		d := digest.FromBytes(m)
		tag := strings.ReplaceAll(mt[strings.LastIndexByte(mt, '.')+1:], "+", "-")
		resp := admin.putManifest("team/app", tag, mt, m)
		expect(t, "put "+mt, resp, http.StatusCreated)
		if loc := resp.header.Get("Location"); loc != "/v2/team/app/manifests/"+d.String() {
			t.Errorf("put %s: Location %q", mt, loc)
		}
		for _, ref := range []string{tag, d.String()} {
			for _, method := range []string{http.MethodHead, http.MethodGet} {
				resp := admin.do(method, "/v2/team/app/manifests/"+ref, nil, map[string]string{"Accept": mt})
				what := method + " " + mt + " by " + ref
				expect(t, what, resp, http.StatusOK)
				if got := resp.header.Get("Docker-Content-Digest"); got != d.String() {
					t.Errorf("%s: Docker-Content-Digest %q, want %s", what, got, d)
				}
				if got := resp.header.Get("Content-Type"); got != mt {
					t.Errorf("%s: Content-Type %q, want %s", what, got, mt)
				}
				if got := resp.header.Get("Content-Length"); got != fmt.Sprint(len(m)) {
					t.Errorf("%s: Content-Length %q, want %d", what, got, len(m))
				}
				if method == http.MethodGet && string(resp.body) != string(m) {
					t.Errorf("%s: body differs from what was pushed", what)
				}
			}
		}
		// A conditional GET with the digest as ETag.
		resp = admin.do(http.MethodGet, "/v2/team/app/manifests/"+tag, nil, map[string]string{"If-None-Match": `"` + d.String() + `"`})
		expect(t, "conditional GET", resp, http.StatusNotModified)
	}
	expectError(t, "unknown tag", admin.do(http.MethodGet, "/v2/team/app/manifests/nope", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	expectError(t, "unknown digest", admin.do(http.MethodGet, "/v2/team/app/manifests/"+digest.FromString("x").String(), nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")
	resp := admin.do(http.MethodHead, "/v2/team/app/manifests/nope", nil, nil)
	if resp.status != http.StatusNotFound || len(resp.body) != 0 || resp.header.Get("Docker-Content-Digest") != "" {
		t.Fatalf("HEAD unknown: %s %v", resp, resp.header)
	}
}

func TestDockerManifestList(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)

	var children []descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		config := []byte(`{"architecture":"` + arch + `"}`)
		layer := []byte("layer for " + arch)
		admin.pushBlob("team/app", config)
		admin.pushBlob("team/app", layer)
		m := imageManifest(t, mtDockerManifest, config, layer)
		expect(t, "child "+arch, admin.putManifest("team/app", digest.FromBytes(m).String(), mtDockerManifest, m), http.StatusCreated)
		cd := desc(mtDockerManifest, m)
		children = append(children, cd)
	}
	type platformDesc struct {
		descriptor
		Platform map[string]string `json:"platform"`
	}
	list := mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtDockerList, "manifests": []platformDesc{
		{children[0], map[string]string{"architecture": "amd64", "os": "linux"}},
		{children[1], map[string]string{"architecture": "arm64", "os": "linux"}},
	}})
	d := digest.FromBytes(list)
	expect(t, "put list", admin.putManifest("team/app", "multi", mtDockerList, list), http.StatusCreated)
	for _, ref := range []string{"multi", d.String()} {
		resp := admin.do(http.MethodGet, "/v2/team/app/manifests/"+ref, nil, nil)
		expect(t, "get list by "+ref, resp, http.StatusOK)
		if resp.header.Get("Content-Type") != mtDockerList || resp.header.Get("Docker-Content-Digest") != d.String() ||
			string(resp.body) != string(list) {
			t.Fatalf("list by %s: %s %v", ref, resp, resp.header)
		}
	}
	for _, c := range children {
		resp := admin.do(http.MethodGet, "/v2/team/app/manifests/"+c.Digest, nil, nil)
		expect(t, "child "+c.Digest, resp, http.StatusOK)
		if resp.header.Get("Content-Type") != mtDockerManifest {
			t.Fatalf("child Content-Type %q", resp.header.Get("Content-Type"))
		}
	}
	// The list's children are referenced: deleting nothing else, the
	// children's layers survive a collection.
	if err := fx.f.Maintain(t.Context(), mustLookup(t, fx, "docker-h")); err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		d := digest.FromString("layer for " + arch)
		expect(t, "layer after Maintain", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusOK)
	}
}

func TestBlobRange(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	data := randomBytes(t, 1000)
	d := admin.pushBlob("team/app", data)

	resp := admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, map[string]string{"Range": "bytes=100-199"})
	expect(t, "ranged GET", resp, http.StatusPartialContent)
	if string(resp.body) != string(data[100:200]) {
		t.Fatal("ranged GET returned the wrong bytes")
	}
	if cr := resp.header.Get("Content-Range"); cr != "bytes 100-199/1000" {
		t.Fatalf("Content-Range %q", cr)
	}
	resp = admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, map[string]string{"Range": "bytes=990-"})
	if resp.status != http.StatusPartialContent || string(resp.body) != string(data[990:]) {
		t.Fatalf("open-ended range: %d, %d bytes", resp.status, len(resp.body))
	}
	resp = admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, nil)
	if resp.status != http.StatusOK || string(resp.body) != string(data) || resp.header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("full GET: %d %v", resp.status, resp.header)
	}
	resp = admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil)
	if resp.status != http.StatusOK || resp.header.Get("Content-Length") != "1000" {
		t.Fatalf("HEAD: %d %v", resp.status, resp.header)
	}
}

func tagList(t *testing.T, c *client, p string) ([]string, string) {
	t.Helper()
	resp := c.do(http.MethodGet, p, nil, nil)
	expect(t, "GET "+p, resp, http.StatusOK)
	var body struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if body.Tags == nil {
		t.Fatalf("%s: tags is %s, want an array", p, resp.body)
	}
	return body.Tags, resp.header.Get("Link")
}

func TestTagsAndCatalogPagination(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config := []byte(`{}`)
	admin.pushBlob("team/app", config)
	m := imageManifest(t, mtOCIManifest, config)
	for _, tag := range []string{"d", "b", "a", "c"} {
		expect(t, "tag "+tag, admin.putManifest("team/app", tag, mtOCIManifest, m), http.StatusCreated)
	}
	tags, link := tagList(t, admin, "/v2/team/app/tags/list")
	if !slices.Equal(tags, []string{"a", "b", "c", "d"}) || link != "" {
		t.Fatalf("all tags %v, Link %q", tags, link)
	}
	tags, link = tagList(t, admin, "/v2/team/app/tags/list?n=2")
	if !slices.Equal(tags, []string{"a", "b"}) || link != `</v2/team/app/tags/list?n=2&last=b>; rel="next"` {
		t.Fatalf("first page %v, Link %q", tags, link)
	}
	next := strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	tags, link = tagList(t, admin, next)
	if !slices.Equal(tags, []string{"c", "d"}) || link != "" {
		t.Fatalf("second page %v, Link %q", tags, link)
	}
	tags, _ = tagList(t, admin, "/v2/team/app/tags/list?last=d")
	if len(tags) != 0 {
		t.Fatalf("after the last tag: %v", tags)
	}
	tags, _ = tagList(t, admin, "/v2/team/app/tags/list?n=10&last=bb")
	if !slices.Equal(tags, []string{"c", "d"}) {
		t.Fatalf("after a tag that does not exist: %v", tags)
	}
	expectError(t, "bad n", admin.do(http.MethodGet, "/v2/team/app/tags/list?n=-1", nil, nil), http.StatusBadRequest, "PAGINATION_NUMBER_INVALID")
	expectError(t, "unknown image", admin.do(http.MethodGet, "/v2/team/nothing/tags/list", nil, nil), http.StatusNotFound, "NAME_UNKNOWN")
	// Blobs alone do not make tags; they do not make an image unknown either.
	admin.pushBlob("team/blobsonly", config)
	if resp := admin.do(http.MethodGet, "/v2/team/blobsonly/tags/list", nil, nil); resp.status == http.StatusOK {
		tags, _ := tagList(t, admin, "/v2/team/blobsonly/tags/list")
		if len(tags) != 0 {
			t.Fatalf("image without manifests has tags %v", tags)
		}
	} else {
		checkErrorBody(t, "image without manifests", resp, "NAME_UNKNOWN")
	}

	// Catalog.
	for _, name := range []string{"c/z", "a/x", "b/y"} {
		admin.pushBlob(name, config)
		expect(t, "push "+name, admin.putManifest(name, "1", mtOCIManifest, m), http.StatusCreated)
	}
	want := []string{"a/x", "b/y", "c/z", "team/app"}
	var all []string
	p := "/v2/_catalog?n=2"
	for range 10 {
		resp := admin.do(http.MethodGet, p, nil, nil)
		expect(t, "catalog "+p, resp, http.StatusOK)
		var body struct {
			Repositories []string `json:"repositories"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Repositories) > 2 {
			t.Fatalf("catalog page %v exceeds n=2", body.Repositories)
		}
		all = append(all, body.Repositories...)
		link := resp.header.Get("Link")
		if link == "" {
			break
		}
		if want := fmt.Sprintf(`</v2/_catalog?n=2&last=%s>; rel="next"`, body.Repositories[len(body.Repositories)-1]); link != want {
			t.Fatalf("catalog Link %q, want %q", link, want)
		}
		p = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}
	if !slices.Equal(all, want) {
		t.Fatalf("catalog %v, want %v", all, want)
	}
	// Without credentials the catalog is challenged, for a catalog scope
	// whose token then lists it.
	resp := anon(t, srv).do(http.MethodGet, "/v2/_catalog", nil, nil)
	expectError(t, "anonymous catalog", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	scope := challengeParams(t, resp.header.Get("WWW-Authenticate"))["scope"]
	if scope != "registry:catalog:*" {
		t.Fatalf("catalog challenge scope %q", scope)
	}
	tok, _ := admin.getToken(scope)
	resp = bearerClient(t, srv, tok).do(http.MethodGet, "/v2/_catalog", nil, nil)
	expect(t, "catalog with a token", resp, http.StatusOK)
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &cat); err != nil || !slices.Equal(cat.Repositories, want) {
		t.Fatalf("catalog with a token: %s", resp)
	}
}

func TestReferrers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	_, subject := admin.pushImage("team/app", "1.0", []byte(`{"c":1}`), []byte("layer"))
	empty := []byte("{}")
	admin.pushBlob("team/app", empty)
	artifact := func(artifactType, note string) ([]byte, digest.Digest) {
		m := mustJSON(t, map[string]any{
			"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": artifactType,
			"config":      descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: digest.FromBytes(empty).String(), Size: 2},
			"layers":      []descriptor{{MediaType: "application/vnd.oci.empty.v1+json", Digest: digest.FromBytes(empty).String(), Size: 2}},
			"subject":     descriptor{MediaType: mtOCIManifest, Digest: subject.String(), Size: 1},
			"annotations": map[string]string{"note": note},
		})
		resp := admin.putManifest("team/app", digest.FromBytes(m).String(), mtOCIManifest, m)
		expect(t, "put "+artifactType, resp, http.StatusCreated)
		if resp.header.Get("OCI-Subject") != subject.String() {
			t.Fatalf("OCI-Subject %q", resp.header.Get("OCI-Subject"))
		}
		return m, digest.FromBytes(m)
	}
	_, sbom := artifact("application/vnd.example.sbom", "s")
	_, sig := artifact("application/vnd.example.sig", "g")

	list := func(query string) (*response, []descriptor) {
		resp := admin.do(http.MethodGet, "/v2/team/app/referrers/"+subject.String()+query, nil, nil)
		expect(t, "referrers"+query, resp, http.StatusOK)
		if ct := resp.header.Get("Content-Type"); ct != mtOCIIndex {
			t.Fatalf("referrers Content-Type %q", ct)
		}
		var idx manifest
		if err := json.Unmarshal(resp.body, &idx); err != nil {
			t.Fatal(err)
		}
		if idx.SchemaVersion != 2 || idx.MediaType != mtOCIIndex || idx.Manifests == nil {
			t.Fatalf("referrers body %s", resp.body)
		}
		return resp, idx.Manifests
	}
	resp, all := list("")
	if len(all) != 2 || resp.header.Get("OCI-Filters-Applied") != "" {
		t.Fatalf("unfiltered referrers %+v, OCI-Filters-Applied %q", all, resp.header.Get("OCI-Filters-Applied"))
	}
	resp, some := list("?artifactType=application/vnd.example.sbom")
	if len(some) != 1 || some[0].Digest != sbom.String() || some[0].ArtifactType != "application/vnd.example.sbom" ||
		some[0].Annotations["note"] != "s" || some[0].MediaType != mtOCIManifest {
		t.Fatalf("filtered referrers %+v", some)
	}
	if resp.header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("OCI-Filters-Applied %q", resp.header.Get("OCI-Filters-Applied"))
	}
	_, none := list("?artifactType=application/unknown")
	if len(none) != 0 {
		t.Fatalf("referrers of an unknown type %+v", none)
	}
	// Other subjects have no referrers; a bad digest is refused.
	resp = admin.do(http.MethodGet, "/v2/team/app/referrers/"+sig.String(), nil, nil)
	expect(t, "referrers of an artifact", resp, http.StatusOK)
	if strings.Contains(string(resp.body), sbom.String()) {
		t.Fatalf("unrelated referrers %s", resp.body)
	}
	expectError(t, "referrers bad digest", admin.do(http.MethodGet, "/v2/team/app/referrers/sha256:xyz", nil, nil),
		http.StatusBadRequest, "DIGEST_INVALID")
	// A deleted referrer is no longer listed.
	expect(t, "delete sig", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+sig.String(), nil, nil), http.StatusAccepted)
	if _, left := list(""); len(left) != 1 || left[0].Digest != sbom.String() {
		t.Fatalf("referrers after delete %+v", left)
	}
}

func TestDeleteManifestAndTag(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	m1, d1 := admin.pushImage("team/app", "1.0", []byte(`{"v":1}`), []byte("layer 1"))
	expect(t, "second tag", admin.putManifest("team/app", "latest", mtOCIManifest, m1), http.StatusCreated)
	_, d2 := admin.pushImage("team/app", "2.0", []byte(`{"v":2}`), []byte("layer 2"))

	// Deleting by digest takes the tags along.
	expect(t, "delete 1.0 by digest", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d1.String(), nil, nil), http.StatusAccepted)
	for _, ref := range []string{d1.String(), "1.0", "latest"} {
		expectError(t, "after delete: "+ref, admin.do(http.MethodGet, "/v2/team/app/manifests/"+ref, nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	}
	tags, _ := tagList(t, admin, "/v2/team/app/tags/list")
	if !slices.Equal(tags, []string{"2.0"}) {
		t.Fatalf("tags after delete %v", tags)
	}
	expectError(t, "delete again", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d1.String(), nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")

	// Deleting a tag keeps the manifest.
	expect(t, "delete tag 2.0", admin.do(http.MethodDelete, "/v2/team/app/manifests/2.0", nil, nil), http.StatusAccepted)
	expectError(t, "tag 2.0 after delete", admin.do(http.MethodGet, "/v2/team/app/manifests/2.0", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	expect(t, "2.0 by digest after tag delete", admin.do(http.MethodGet, "/v2/team/app/manifests/"+d2.String(), nil, nil), http.StatusOK)
	expect(t, "layer of 2.0 after tag delete", admin.do(http.MethodHead, "/v2/team/app/blobs/"+digest.FromString("layer 2").String(), nil, nil), http.StatusOK)
}

// TestNestedImageNames checks that an image whose name continues another's
// with a "manifests" or "blobs" segment is kept apart from it.
func TestNestedImageNames(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config, layer := []byte(`{"n":1}`), []byte("shared")
	m, d := admin.pushImage("team/app", "1.0", config, layer)
	for _, name := range []string{"team/app/manifests", "team/app/blobs", "team/app/blobs/uploads"} {
		admin.pushBlob(name, config)
		admin.pushBlob(name, layer)
		expect(t, "push "+name, admin.putManifest(name, "1.0", mtOCIManifest, m), http.StatusCreated)
		tags, _ := tagList(t, admin, "/v2/"+name+"/tags/list")
		if !slices.Equal(tags, []string{"1.0"}) {
			t.Fatalf("tags of %s: %v", name, tags)
		}
	}
	// A blob-only image under "manifests" makes no phantom image.
	admin.pushBlob("team/lonely/manifests", config)
	resp := admin.do(http.MethodGet, "/v2/_catalog", nil, nil)
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &cat); err != nil {
		t.Fatal(err)
	}
	if want := []string{"team/app", "team/app/blobs", "team/app/blobs/uploads", "team/app/manifests"}; !slices.Equal(cat.Repositories, want) {
		t.Errorf("catalog %v, want %v", cat.Repositories, want)
	}
	if resp := admin.do(http.MethodGet, "/v2/team/lonely/tags/list", nil, nil); resp.status != http.StatusNotFound {
		t.Errorf("tags of team/lonely, which has no manifests: %s, want 404 NAME_UNKNOWN", resp)
	}

	// Referrers of team/app do not include those pushed to team/app/manifests.
	empty := []byte("{}")
	admin.pushBlob("team/app/manifests", empty)
	ref := mustJSON(t, map[string]any{
		"schemaVersion": 2, "mediaType": mtOCIManifest, "artifactType": "application/vnd.example.sig",
		"config":  descriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: digest.FromBytes(empty).String(), Size: 2},
		"layers":  []descriptor{},
		"subject": descriptor{MediaType: mtOCIManifest, Digest: d.String(), Size: int64(len(m))},
	})
	expect(t, "referrer in nested image", admin.putManifest("team/app/manifests", digest.FromBytes(ref).String(), mtOCIManifest, ref), http.StatusCreated)
	resp = admin.do(http.MethodGet, "/v2/team/app/referrers/"+d.String(), nil, nil)
	if strings.Contains(string(resp.body), digest.FromBytes(ref).String()) {
		t.Errorf("referrers of team/app list a manifest of team/app/manifests: %s", resp.body)
	}

	// Deleting team/app's manifest leaves the nested images' tags alone.
	expect(t, "delete team/app manifest", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d.String(), nil, nil), http.StatusAccepted)
	for _, name := range []string{"team/app/manifests", "team/app/blobs", "team/app/blobs/uploads"} {
		resp := admin.do(http.MethodGet, "/v2/"+name+"/manifests/1.0", nil, nil)
		if resp.status != http.StatusOK || string(resp.body) != string(m) {
			t.Fatalf("%s:1.0 after deleting team/app's manifest: %s", name, resp)
		}
		expect(t, "layer of "+name, admin.do(http.MethodHead, "/v2/"+name+"/blobs/"+digest.FromBytes(layer).String(), nil, nil), http.StatusOK)
	}
}
