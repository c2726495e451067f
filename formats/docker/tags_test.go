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

// A push by digest with ?tag= parameters (OCI 1.1) sets every tag with the
// manifest; more than maxPushTags is refused with nothing stored.
func TestPushWithManyTags(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config := []byte(`{"architecture":"amd64"}`)
	admin.pushBlob("team/app", config)
	m := imageManifest(t, mtOCIManifest, config)
	d := digest.FromBytes(m)

	query := func(n int) (string, []string) {
		var tags, q []string
		for i := range n {
			tags = append(tags, fmt.Sprintf("t%03d", i))
			q = append(q, "tag="+tags[i])
		}
		return strings.Join(q, "&"), tags
	}

	q, _ := query(maxPushTags + 1)
	expectError(t, "101 tags", admin.putManifest("team/app", d.String()+"?"+q, mtOCIManifest, m), http.StatusBadRequest, "TAG_INVALID")
	expectError(t, "manifest of the refused push", admin.do(http.MethodGet, "/v2/team/app/manifests/"+d.String(), nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")
	expectError(t, "a tag of the refused push", admin.do(http.MethodGet, "/v2/team/app/manifests/t000", nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")
	// The tag reference counts too: it and 100 ?tag= are 101.
	q, _ = query(maxPushTags)
	expectError(t, "tag reference and 100 ?tag=", admin.putManifest("team/app", "latest?"+q, mtOCIManifest, m), http.StatusBadRequest, "TAG_INVALID")

	q, tags := query(maxPushTags)
	resp := admin.putManifest("team/app", d.String()+"?"+q, mtOCIManifest, m)
	expect(t, "100 tags", resp, http.StatusCreated)
	if got := resp.header.Values("OCI-Tag"); !slices.Equal(got, tags) {
		t.Fatalf("OCI-Tag = %d values, want %d", len(got), len(tags))
	}
	resp = admin.do(http.MethodGet, "/v2/team/app/tags/list", nil, nil)
	expect(t, "tags/list", resp, http.StatusOK)
	var list struct{ Tags []string }
	if err := json.Unmarshal(resp.body, &list); err != nil || !slices.Equal(list.Tags, tags) {
		t.Fatalf("tags/list = %d tags (%v), want %d", len(list.Tags), err, len(tags))
	}
	for _, tag := range []string{"t000", "t099"} {
		resp := admin.do(http.MethodGet, "/v2/team/app/manifests/"+tag, nil, map[string]string{"Accept": mtOCIManifest})
		expect(t, "GET "+tag, resp, http.StatusOK)
		if resp.header.Get("Docker-Content-Digest") != d.String() || string(resp.body) != string(m) {
			t.Fatalf("GET %s: digest %s", tag, resp.header.Get("Docker-Content-Digest"))
		}
	}
}
