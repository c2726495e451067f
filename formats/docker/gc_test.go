package docker

import (
	"net/http"
	"slices"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// componentVersions returns the versions of the components of repoName
// named name.
func componentVersions(t *testing.T, fx *fixture, repoName, name string) []string {
	t.Helper()
	comps, _, err := fx.db.ListComponents(t.Context(), repoName, "", 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range comps {
		if c.Format != "docker" {
			t.Errorf("component %+v has format %q", c, c.Format)
		}
		if c.Name == name {
			out = append(out, c.Version)
		}
	}
	slices.Sort(out)
	return out
}

func TestComponentsAndCollection(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	shared := randomBytes(t, 3000)
	only1, only2 := randomBytes(t, 2000), randomBytes(t, 1000)
	config1, config2 := []byte(`{"v":"1.0"}`), []byte(`{"v":"2.0"}`)
	_, d1 := admin.pushImage("team/app", "1.0", config1, shared, only1)
	admin.pushImage("team/app", "2.0", config2, shared, only2)

	if v := componentVersions(t, fx, "docker-h", "team/app"); !slices.Equal(v, []string{"1.0", "2.0"}) {
		t.Fatalf("component versions %v, want [1.0 2.0]", v)
	}
	comps, _, err := fx.db.ListComponents(t.Context(), "docker-h", "", 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(comps) != 2 {
		t.Fatalf("components %+v, want one per tag", comps)
	}

	files := fx.blobFiles()
	for _, b := range [][]byte{shared, only1, only2, config1, config2} {
		if !files[digest.FromBytes(b).String()] {
			t.Fatalf("blob %s not on disk", digest.FromBytes(b))
		}
	}

	// With no grace, deleting 1.0 frees what only 1.0 used at once.
	expect(t, "delete 1.0", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d1.String(), nil, nil), http.StatusAccepted)
	files = fx.blobFiles()
	for _, b := range [][]byte{only1, config1} {
		d := digest.FromBytes(b)
		if files[d.String()] {
			t.Errorf("blob %s used only by the deleted manifest is still on disk", d)
		}
		expectError(t, "HEAD freed blob", admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusNotFound, "BLOB_UNKNOWN")
	}
	for _, b := range [][]byte{shared, only2, config2} {
		d := digest.FromBytes(b)
		if !files[d.String()] {
			t.Errorf("blob %s still used by 2.0 is gone", d)
		}
		expect(t, "HEAD kept blob", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusOK)
	}
	if v := componentVersions(t, fx, "docker-h", "team/app"); !slices.Equal(v, []string{"2.0"}) {
		t.Fatalf("component versions after delete %v, want [2.0]", v)
	}
	got := admin.do(http.MethodGet, "/v2/team/app/blobs/"+digest.FromBytes(shared).String(), nil, nil)
	if string(got.body) != string(shared) {
		t.Fatal("shared layer content changed")
	}

	// A blob shared with another image stays on disk for it.
	admin.pushImage("other/app", "1.0", config2, only1)
	_, d3 := admin.pushImage("team/app", "3.0", config2, only1)
	expect(t, "delete 3.0", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d3.String(), nil, nil), http.StatusAccepted)
	if !fx.blobFiles()[digest.FromBytes(only1).String()] {
		t.Fatal("blob still linked by other/app was deleted")
	}
	expect(t, "HEAD other/app layer", admin.do(http.MethodHead, "/v2/other/app/blobs/"+digest.FromBytes(only1).String(), nil, nil), http.StatusOK)
	expect(t, "HEAD team/app unlinked layer", admin.do(http.MethodHead, "/v2/team/app/blobs/"+digest.FromBytes(only1).String(), nil, nil),
		http.StatusNotFound)
}

func TestCollectionGrace(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, time.Hour)
	r := fx.create(hostedConfig("docker-h", "allow", ""))
	srv := fx.connector(r)
	admin := fx.admin(srv)
	config, layer := []byte(`{"v":1}`), randomBytes(t, 2000)
	_, d := admin.pushImage("team/app", "1.0", config, layer)
	abandoned := admin.pushBlob("team/abandoned", randomBytes(t, 500))

	// Within the grace period, the deleted manifest's layers stay linked.
	expect(t, "delete 1.0", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d.String(), nil, nil), http.StatusAccepted)
	ld := digest.FromBytes(layer)
	expect(t, "HEAD layer in grace", admin.do(http.MethodHead, "/v2/team/app/blobs/"+ld.String(), nil, nil), http.StatusOK)
	if err := fx.f.Maintain(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	expect(t, "HEAD layer after Maintain in grace", admin.do(http.MethodHead, "/v2/team/app/blobs/"+ld.String(), nil, nil), http.StatusOK)
	expect(t, "HEAD abandoned after Maintain in grace", admin.do(http.MethodHead, "/v2/team/abandoned/blobs/"+abandoned.String(), nil, nil), http.StatusOK)
	files := fx.blobFiles()
	if !files[ld.String()] || !files[abandoned.String()] {
		t.Fatalf("blobs in their grace period gone from disk: %v", files)
	}
	// A manifest pushed now still finds them.
	m := imageManifest(t, mtOCIManifest, config, layer)
	expect(t, "re-push 1.0", admin.putManifest("team/app", "1.0", mtOCIManifest, m), http.StatusCreated)
}

func TestMaintainCollectsAbandonedBlobs(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", ""))
	srv := fx.connector(r)
	admin := fx.admin(srv)
	config, layer := []byte(`{"v":1}`), randomBytes(t, 2000)
	admin.pushImage("team/app", "1.0", config, layer)
	abandoned := admin.pushBlob("team/app", randomBytes(t, 500))
	lonely := admin.pushBlob("team/lonely", randomBytes(t, 600))

	if err := fx.f.Maintain(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	files := fx.blobFiles()
	for _, d := range []digest.Digest{abandoned, lonely} {
		if files[d.String()] {
			t.Errorf("abandoned blob %s still on disk after Maintain", d)
		}
	}
	expect(t, "HEAD abandoned", admin.do(http.MethodHead, "/v2/team/app/blobs/"+abandoned.String(), nil, nil), http.StatusNotFound)
	expect(t, "HEAD lonely", admin.do(http.MethodHead, "/v2/team/lonely/blobs/"+lonely.String(), nil, nil), http.StatusNotFound)
	for _, b := range [][]byte{config, layer} {
		d := digest.FromBytes(b)
		if !files[d.String()] {
			t.Errorf("referenced blob %s collected", d)
		}
		expect(t, "HEAD referenced", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusOK)
	}
	expect(t, "pull after Maintain", admin.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
}
