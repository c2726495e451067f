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

// catalogPages reads the whole catalog n names at a time, following the
// Link headers.
func catalogPages(t *testing.T, c *client, n int) []string {
	t.Helper()
	var all []string
	p := fmt.Sprintf("/v2/_catalog?n=%d", n)
	for range 100 {
		resp := c.do(http.MethodGet, p, nil, nil)
		expect(t, "catalog "+p, resp, http.StatusOK)
		var body struct {
			Repositories []string `json:"repositories"`
		}
		if err := json.Unmarshal(resp.body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Repositories) > n {
			t.Fatalf("catalog page %v exceeds n=%d", body.Repositories, n)
		}
		all = append(all, body.Repositories...)
		link := resp.header.Get("Link")
		if link == "" {
			return all
		}
		p = strings.TrimSuffix(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	}
	t.Fatal("catalog pages never ended")
	return nil
}

// The catalog follows pushes and deletes of manifests and tags (it reads
// the folder index, kept in their transactions), page by page; an image
// with blob links only is not in it.
func TestCatalogAfterPushesAndDeletes(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	digests := map[string]digest.Digest{}
	for i, name := range []string{"e/five", "a/one", "c/three", "b/two", "d/four"} {
		_, digests[name] = admin.pushImage(name, "1.0", []byte(fmt.Sprintf(`{"n":%d}`, i)), []byte(name))
	}
	admin.pushBlob("f/blobs-only", []byte("x"))
	want := []string{"a/one", "b/two", "c/three", "d/four", "e/five"}
	for _, n := range []int{1, 2, 5, 100} {
		if got := catalogPages(t, admin, n); !slices.Equal(got, want) {
			t.Fatalf("catalog by %d: %v, want %v", n, got, want)
		}
	}

	// Deleting a manifest by digest takes its tags and the image with it.
	expect(t, "delete c/three", admin.do(http.MethodDelete, "/v2/c/three/manifests/"+digests["c/three"].String(), nil, nil), http.StatusAccepted)
	// Deleting the only tag leaves the manifest, and the image.
	expect(t, "delete tag of b/two", admin.do(http.MethodDelete, "/v2/b/two/manifests/1.0", nil, nil), http.StatusAccepted)
	want = []string{"a/one", "b/two", "d/four", "e/five"}
	for _, n := range []int{1, 3} {
		if got := catalogPages(t, admin, n); !slices.Equal(got, want) {
			t.Fatalf("catalog by %d after deletes: %v, want %v", n, got, want)
		}
	}
	expect(t, "delete b/two", admin.do(http.MethodDelete, "/v2/b/two/manifests/"+digests["b/two"].String(), nil, nil), http.StatusAccepted)
	resp := admin.do(http.MethodGet, "/v2/_catalog?n=2&last=a/one", nil, nil)
	var body struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || !slices.Equal(body.Repositories, []string{"d/four", "e/five"}) {
		t.Fatalf("catalog after a/one: %s", resp)
	}
	// Pushed again, it is back.
	admin.pushImage("c/three", "2.0", []byte(`{"n":2}`), []byte("c/three"))
	if got := catalogPages(t, admin, 2); !slices.Equal(got, []string{"a/one", "c/three", "d/four", "e/five"}) {
		t.Fatalf("catalog after pushing c/three again: %v", got)
	}
}

// A mount without from finds the blob in any image of the repository
// through the folder index, and none it does not have.
func TestMountWithoutFrom(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	for _, name := range []string{"a/one", "m/middle", "z/last"} {
		admin.pushBlob(name, []byte("layer of "+name))
	}
	d := digest.FromBytes([]byte("layer of m/middle"))
	resp := admin.do(http.MethodPost, "/v2/new/image/blobs/uploads/?mount="+d.String(), nil, nil)
	expect(t, "mount without from", resp, http.StatusCreated)
	got := admin.do(http.MethodGet, "/v2/new/image/blobs/"+d.String(), nil, nil)
	if got.status != http.StatusOK || string(got.body) != "layer of m/middle" {
		t.Fatalf("mounted blob: %s", got)
	}
	missing := digest.FromString("nowhere")
	resp = admin.do(http.MethodPost, "/v2/new/image/blobs/uploads/?mount="+missing.String(), nil, nil)
	expect(t, "mount of an unknown blob starts a session", resp, http.StatusAccepted)
}
