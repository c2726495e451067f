package docker

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

func TestWritePolicyDeny(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	// Fill an allow repository, then make it read-only.
	fx.create(hostedConfig("docker-h", "allow", ""))
	r, _ := fx.m.Lookup("docker-h")
	srv := fx.connector(r)
	config := []byte(`{"c":1}`)
	m, d := fx.admin(srv).pushImage("team/app", "1.0", config, []byte("layer"))
	cfg := r.Config()
	cfg.Storage.WritePolicy = "deny"
	if err := fx.m.Update(fx.adminContext(), cfg); err != nil {
		t.Fatal(err)
	}
	r, _ = fx.m.Lookup("docker-h")
	srv = fx.connector(r)
	admin := fx.admin(srv)

	data := []byte("new layer")
	nd := digest.FromBytes(data)
	resp := admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+nd.String(), data, nil)
	expectError(t, "monolithic upload to deny", resp, http.StatusForbidden, "DENIED")
	// A chunked upload is refused at the latest when it is committed.
	resp = admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil)
	if resp.status == http.StatusAccepted {
		loc := resp.header.Get("Location")
		expect(t, "PATCH", admin.do(http.MethodPatch, loc, data, nil), http.StatusAccepted)
		resp = admin.do(http.MethodPut, withQuery(loc, "digest="+nd.String()), nil, nil)
	}
	expectError(t, "chunked upload to deny", resp, http.StatusForbidden, "DENIED")
	expect(t, "HEAD refused blob", admin.do(http.MethodHead, "/v2/team/app/blobs/"+nd.String(), nil, nil), http.StatusNotFound)
	// Mounting is writing too.
	resp = admin.do(http.MethodPost, "/v2/team/other/blobs/uploads/?mount="+digest.FromBytes(config).String()+"&from=team/app", nil, nil)
	if resp.status != http.StatusAccepted {
		expectError(t, "mount into deny", resp, http.StatusForbidden, "DENIED")
	}
	expect(t, "HEAD unmounted blob", admin.do(http.MethodHead, "/v2/team/other/blobs/"+digest.FromBytes(config).String(), nil, nil),
		http.StatusNotFound)

	expectError(t, "manifest push to deny", admin.putManifest("team/app", "2.0", mtOCIManifest, m), http.StatusForbidden, "DENIED")
	expectError(t, "same tag push to deny", admin.putManifest("team/app", "1.0", mtOCIManifest, m), http.StatusForbidden, "DENIED")
	expectError(t, "tag not created", admin.do(http.MethodGet, "/v2/team/app/manifests/2.0", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	expectError(t, "manifest delete in deny", admin.do(http.MethodDelete, "/v2/team/app/manifests/"+d.String(), nil, nil),
		http.StatusForbidden, "DENIED")
	expectError(t, "blob delete in deny", admin.do(http.MethodDelete, "/v2/team/app/blobs/"+digest.FromBytes(config).String(), nil, nil),
		http.StatusForbidden, "DENIED")
	// Reads still work.
	got := admin.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(m) {
		t.Fatalf("pull from deny: %s", got)
	}
}

func TestWritePolicyAllowOnce(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow_once", "")))
	admin := fx.admin(srv)
	config, layer := []byte(`{"c":1}`), []byte("layer one")
	m1, d1 := admin.pushImage("team/app", "1.0", config, layer)

	// Blobs are content-addressed: uploading one again is fine, either way.
	admin.pushBlob("team/app", layer)
	expect(t, "chunked re-upload", admin.pushBlobChunked("team/app", layer, 4), http.StatusCreated)
	resp := admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?mount="+digest.FromBytes(layer).String()+"&from=team/app", nil, nil)
	if resp.status != http.StatusCreated && resp.status != http.StatusAccepted {
		t.Fatalf("mount of an existing blob: %s", resp)
	}

	// The identical manifest may be pushed again, by tag and by digest.
	expect(t, "identical manifest to the same tag", admin.putManifest("team/app", "1.0", mtOCIManifest, m1), http.StatusCreated)
	expect(t, "identical manifest by digest", admin.putManifest("team/app", d1.String(), mtOCIManifest, m1), http.StatusCreated)
	// And under a new tag.
	expect(t, "identical manifest to a new tag", admin.putManifest("team/app", "latest", mtOCIManifest, m1), http.StatusCreated)

	// A different manifest may not take the tag.
	layer2 := []byte("layer two")
	admin.pushBlob("team/app", layer2)
	m2 := imageManifest(t, mtOCIManifest, config, layer2)
	expectError(t, "different manifest to an existing tag", admin.putManifest("team/app", "1.0", mtOCIManifest, m2),
		http.StatusForbidden, "DENIED")
	got := admin.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(m1) || got.header.Get("Docker-Content-Digest") != d1.String() {
		t.Fatalf("tag 1.0 after refused overwrite: %s (%s)", got, got.header.Get("Docker-Content-Digest"))
	}
	// Under a new tag it is fine.
	expect(t, "different manifest to a new tag", admin.putManifest("team/app", "2.0", mtOCIManifest, m2), http.StatusCreated)
}

// TestConcurrentSameLayer pushes one layer from many clients at once, as
// parallel pushes of images sharing a base layer do.
func TestConcurrentSameLayer(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	layer := randomBytes(t, 2<<20)
	d := digest.FromBytes(layer)
	// Log in once, so that the clients do not all pay bcrypt.
	expect(t, "login", admin.do(http.MethodGet, "/v2/", nil, nil), http.StatusOK)

	const clients = 10
	statuses := make([]string, clients*2)
	var wg sync.WaitGroup
	for i := range clients * 2 {
		wg.Go(func() {
			// Half push to one image, half each to their own.
			name := "team/app"
			if i >= clients {
				name = fmt.Sprintf("team/app%d", i)
			}
			c := &client{t: t, base: srv.URL, user: admin.user, pass: admin.pass}
			resp, err := c.tryPushChunked(name, layer, 512<<10)
			switch {
			case err != nil:
				statuses[i] = err.Error()
			case resp.status != http.StatusCreated || resp.header.Get("Docker-Content-Digest") != d.String():
				statuses[i] = resp.String()
			}
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != "" {
			t.Errorf("client %d: %s", i, s)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	files := fx.blobFiles()
	if len(files) != 1 || !files[d.String()] {
		t.Fatalf("blob files %v, want just %s", files, d)
	}
	rec, err := fx.db.BlobRecord(meta.DefaultBlobStore, d)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Refs != clients+1 {
		t.Fatalf("blob has %d references, want %d (one per image)", rec.Refs, clients+1)
	}
	for _, name := range []string{"team/app", fmt.Sprintf("team/app%d", clients)} {
		resp := admin.do(http.MethodHead, "/v2/"+name+"/blobs/"+d.String(), nil, nil)
		expect(t, "HEAD "+name, resp, http.StatusOK)
		if resp.header.Get("Content-Length") != fmt.Sprint(len(layer)) || resp.header.Get("Docker-Content-Digest") != d.String() {
			t.Fatalf("HEAD %s headers %v", name, resp.header)
		}
	}
	got := admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, nil)
	if digest.FromBytes(got.body) != d {
		t.Fatal("blob content differs")
	}
	if ups := fx.uploadFiles(); len(ups) != 0 {
		t.Fatalf("upload sessions left: %v", ups)
	}
}

// tryPushChunked is pushBlobChunked for goroutines: it reports failures
// instead of failing the test.
func (c *client) tryPushChunked(name string, data []byte, size int) (*response, error) {
	resp, err := c.send(http.MethodPost, "/v2/"+name+"/blobs/uploads/", nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusAccepted {
		return resp, nil
	}
	loc := resp.header.Get("Location")
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		resp, err := c.send(http.MethodPatch, loc, data[off:end], map[string]string{"Content-Range": fmt.Sprintf("%d-%d", off, end-1)})
		if err != nil {
			return nil, err
		}
		if resp.status != http.StatusAccepted {
			return resp, nil
		}
		loc = resp.header.Get("Location")
	}
	return c.send(http.MethodPut, withQuery(loc, "digest="+digest.FromBytes(data).String()), nil, nil)
}
