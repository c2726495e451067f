package docker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

func TestBlobUploadWrongDigest(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	data := []byte("the real content")
	claimed := digest.FromString("something else")

	// Monolithic.
	resp := admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+claimed.String(), data, nil)
	expectError(t, "monolithic wrong digest", resp, http.StatusBadRequest, "DIGEST_INVALID")
	for _, d := range []digest.Digest{claimed, digest.FromBytes(data)} {
		expect(t, "HEAD "+d.String(), admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusNotFound)
	}
	if n := len(fx.blobFiles()); n != 0 {
		t.Fatalf("%d blobs stored after a refused upload", n)
	}
	// The client never learnt the session of a monolithic POST, so nothing
	// may be left behind for it.
	if ups, tmp := fx.uploadFiles(), fx.tempFiles(); len(ups)+len(tmp) != 0 {
		t.Fatalf("monolithic upload with a wrong digest left files behind: uploads %v, temporary %v", ups, tmp)
	}

	// Chunked: the PUT names the wrong digest.
	loc := admin.startUpload("team/app")
	expect(t, "PATCH", admin.do(http.MethodPatch, loc, data, nil), http.StatusAccepted)
	resp = admin.do(http.MethodPut, withQuery(loc, "digest="+claimed.String()), nil, nil)
	expectError(t, "chunked wrong digest", resp, http.StatusBadRequest, "DIGEST_INVALID")
	expect(t, "HEAD claimed", admin.do(http.MethodHead, "/v2/team/app/blobs/"+claimed.String(), nil, nil), http.StatusNotFound)
	expect(t, "HEAD real", admin.do(http.MethodHead, "/v2/team/app/blobs/"+digest.FromBytes(data).String(), nil, nil), http.StatusNotFound)
	// The session is either still usable or gone, never half-committed.
	switch resp := admin.do(http.MethodGet, loc, nil, nil); resp.status {
	case http.StatusNoContent:
		expect(t, "cancel after failed commit", admin.do(http.MethodDelete, loc, nil, nil), http.StatusNoContent)
	case http.StatusNotFound:
		checkErrorBody(t, "status after failed commit", resp, "BLOB_UPLOAD_UNKNOWN")
	default:
		t.Fatalf("upload status after failed commit: %s", resp)
	}

	// A malformed digest is refused too.
	resp = admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?digest=sha256:nothex", data, nil)
	expectError(t, "malformed digest", resp, http.StatusBadRequest, "DIGEST_INVALID")
}

// rawRequest writes a request whose body is shorter than its Content-Length
// and returns the open connection.
func rawRequest(t *testing.T, srv *httptest.Server, method, path, authz string, length int, body []byte) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", hostOf(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n",
		method, path, hostOf(srv), authz, length)
	if _, err := conn.Write(body); err != nil {
		t.Fatal(err)
	}
	return conn
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestBlobUploadTruncated(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	authz := basicAuth(auth.AdminUser, fx.adminPass)
	data := randomBytes(t, 64<<10)
	d := digest.FromBytes(data)

	// Monolithic POST: half the body, then the client goes away.
	conn := rawRequest(t, srv, http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+d.String(), authz, len(data), data[:len(data)/2])
	waitFor(t, "the server to receive part of the body", func() bool {
		for _, size := range fx.tempFiles() {
			if size > 0 {
				return true
			}
		}
		return false
	})
	if ups := fx.uploadFiles(); len(ups) != 0 {
		t.Fatalf("a monolithic upload made upload sessions: %v", ups)
	}
	conn.Close()
	waitFor(t, "the truncated upload to be discarded", func() bool { return len(fx.tempFiles()) == 0 })
	expect(t, "HEAD after truncated monolithic upload", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusNotFound)
	if n := len(fx.blobFiles()); n != 0 {
		t.Fatalf("%d blobs stored after a truncated upload", n)
	}

	// PATCH: the session survives a truncated chunk, at its old size.
	loc := admin.startUpload("team/app")
	first := data[:1000]
	expect(t, "first chunk", admin.do(http.MethodPatch, loc, first, map[string]string{"Content-Range": "0-999"}), http.StatusAccepted)
	id := storeID(loc)
	conn = rawRequest(t, srv, http.MethodPatch, loc, authz, len(data)-1000, data[1000:5000])
	waitFor(t, "the server to receive part of the chunk", func() bool { return fx.uploadFiles()[id] > 1000 })
	conn.Close()
	// The status waits for the append in progress to be cut back.
	resp := admin.do(http.MethodGet, loc, nil, nil)
	expect(t, "status after truncated chunk", resp, http.StatusNoContent)
	if r := resp.header.Get("Range"); r != "0-999" {
		t.Fatalf("Range after truncated chunk %q, want 0-999", r)
	}
	expect(t, "HEAD during upload", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusNotFound)
	// Retry the chunk and finish.
	resp = admin.do(http.MethodPatch, loc, data[1000:], map[string]string{"Content-Range": fmt.Sprintf("1000-%d", len(data)-1)})
	expect(t, "retried chunk", resp, http.StatusAccepted)
	resp = admin.do(http.MethodPut, withQuery(resp.header.Get("Location"), "digest="+d.String()), nil, nil)
	expect(t, "commit after retry", resp, http.StatusCreated)
	got := admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(data) {
		t.Fatalf("blob after retried upload: %d, %d bytes", got.status, len(got.body))
	}

	// A session with a truncated chunk can be cancelled.
	loc = admin.startUpload("team/app")
	id = storeID(loc)
	conn = rawRequest(t, srv, http.MethodPatch, loc, authz, 5000, data[:100])
	waitFor(t, "the server to receive part of the chunk", func() bool { return fx.uploadFiles()[id] > 0 })
	conn.Close()
	expect(t, "cancel", admin.do(http.MethodDelete, loc, nil, nil), http.StatusNoContent)
	expectError(t, "status after cancel", admin.do(http.MethodGet, loc, nil, nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	expectError(t, "PATCH after cancel", admin.do(http.MethodPatch, loc, data[:10], nil), http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	if _, ok := fx.uploadFiles()[id]; ok {
		t.Fatal("cancelled upload still on disk")
	}
}

func TestBlobUploadRangesAndDigestParameter(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	data := randomBytes(t, 30)

	loc := admin.startUpload("team/app")
	resp := admin.do(http.MethodPatch, loc, data[:10], map[string]string{"Content-Range": "0-9"})
	expect(t, "first chunk", resp, http.StatusAccepted)
	loc = resp.header.Get("Location")
	for _, cr := range []string{"20-29", "0-9", "5-14", "11-20"} {
		start := 0
		fmt.Sscanf(cr, "%d-", &start)
		resp := admin.do(http.MethodPatch, loc, data[start:start+10], map[string]string{"Content-Range": cr})
		expectError(t, "chunk "+cr, resp, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID")
		if r := resp.header.Get("Range"); r != "0-9" {
			t.Fatalf("416 for %s: Range %q, want 0-9", cr, r)
		}
		if resp.header.Get("Location") == "" {
			t.Errorf("416 for %s: no Location", cr)
		}
	}
	// Content-Range disagreeing with the body's length.
	resp = admin.do(http.MethodPatch, loc, data[10:15], map[string]string{"Content-Range": "10-19"})
	expectError(t, "short chunk", resp, http.StatusRequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID")
	// The refused chunks left the upload as it was.
	resp = admin.do(http.MethodGet, loc, nil, nil)
	if resp.status != http.StatusNoContent || resp.header.Get("Range") != "0-9" {
		t.Fatalf("status after refused chunks: %s Range %q", resp, resp.header.Get("Range"))
	}

	// PUT without, or with a malformed, digest.
	for _, q := range []string{"", "digest=", "digest=md5:abc", "digest=sha256:xyz"} {
		p := loc
		if q != "" {
			p = withQuery(loc, q)
		}
		expectError(t, "PUT "+q, admin.do(http.MethodPut, p, data[10:], nil), http.StatusBadRequest, "DIGEST_INVALID")
	}
	resp = admin.do(http.MethodPut, withQuery(loc, "digest="+digest.FromBytes(data).String()), data[10:], nil)
	expect(t, "PUT with the last chunk", resp, http.StatusCreated)

	// Unknown and malformed upload ids.
	expectError(t, "unknown upload", admin.do(http.MethodGet, "/v2/team/app/blobs/uploads/0b9d5c3e-7c41-4cf6-9e36-1d2a7cb1b1a1", nil, nil),
		http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	resp = admin.do(http.MethodPatch, "/v2/team/app/blobs/uploads/..%2F..%2Fetc", data, nil)
	if resp.status < 400 || resp.status >= 500 {
		t.Fatalf("malformed upload id: %s", resp)
	}
}

func TestUploadSizeLimit(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", ""))
	srv := fx.connectorWith(r, func(ctx context.Context) context.Context { return repo.WithMaxUploadSize(ctx, 1000) })
	admin := fx.admin(srv)
	data := randomBytes(t, 2000)
	d := digest.FromBytes(data)

	resp := admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+d.String(), data, nil)
	expectError(t, "oversized monolithic upload", resp, http.StatusRequestEntityTooLarge, "SIZE_INVALID")
	loc := admin.startUpload("team/app")
	resp = admin.do(http.MethodPatch, loc, data, nil)
	expectError(t, "oversized chunk", resp, http.StatusRequestEntityTooLarge, "SIZE_INVALID")
	expect(t, "HEAD", admin.do(http.MethodHead, "/v2/team/app/blobs/"+d.String(), nil, nil), http.StatusNotFound)
	expect(t, "a blob within the limit", admin.pushBlobChunked("team/app", data[:900], 300), http.StatusCreated)
}

func TestManifestReferences(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	strictSrv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	sparseSrv := fx.connector(fx.create(hostedConfig("docker-sparse", "allow", `"forceBasicAuth":true,"allowSparseManifests":true`)))
	config := []byte(`{"architecture":"amd64"}`)
	present, missing := []byte("present layer"), []byte("missing layer")
	m := imageManifest(t, mtOCIManifest, config, present, missing)

	strict := fx.admin(strictSrv)
	strict.pushBlob("team/app", config)
	strict.pushBlob("team/app", present)
	e := expectError(t, "missing layer", strict.putManifest("team/app", "1.0", mtOCIManifest, m), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
	var detail string
	if err := json.Unmarshal(e.Detail, &detail); err != nil || detail != digest.FromBytes(missing).String() {
		t.Fatalf("MANIFEST_BLOB_UNKNOWN detail %s, want the missing digest %s", e.Detail, digest.FromBytes(missing))
	}
	expectError(t, "refused manifest by tag", strict.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	expectError(t, "refused manifest by digest", strict.do(http.MethodGet, "/v2/team/app/manifests/"+digest.FromBytes(m).String(), nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")
	// A blob of another image does not count.
	strict.pushBlob("team/other", missing)
	expectError(t, "layer in another image", strict.putManifest("team/app", "1.0", mtOCIManifest, m), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")

	// An index whose child manifest is missing.
	child := imageManifest(t, mtOCIManifest, config, present)
	index := mustJSON(t, map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex,
		"manifests": []descriptor{desc(mtOCIManifest, child)}})
	e = expectError(t, "missing child", strict.putManifest("team/app", "multi", mtOCIIndex, index), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
	if !strings.Contains(string(e.Detail), digest.FromBytes(child).String()) {
		t.Fatalf("MANIFEST_BLOB_UNKNOWN detail %s lacks %s", e.Detail, digest.FromBytes(child))
	}
	// Once the child is there, the index goes in.
	expect(t, "child", strict.putManifest("team/app", digest.FromBytes(child).String(), mtOCIManifest, child), http.StatusCreated)
	expect(t, "index", strict.putManifest("team/app", "multi", mtOCIIndex, index), http.StatusCreated)

	// Sparse manifests are accepted where the repository allows them.
	sparse := fx.admin(sparseSrv)
	expect(t, "sparse manifest", sparse.putManifest("team/app", "1.0", mtOCIManifest, m), http.StatusCreated)
	expect(t, "sparse index", sparse.putManifest("team/app", "multi", mtOCIIndex, index), http.StatusCreated)
	got := sparse.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(m) {
		t.Fatalf("sparse manifest pull: %s", got)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestManifestInvalid(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config := []byte(`{"architecture":"arm64"}`)
	layer := []byte("a layer")
	admin.pushBlob("team/app", config)
	admin.pushBlob("team/app", layer)
	good := imageManifest(t, mtOCIManifest, config, layer)

	// 4 MiB + 1: still valid JSON, so only the size can be the reason.
	big := append([]byte(`{"schemaVersion":2,"mediaType":"`+mtOCIManifest+`","annotations":{"pad":"`),
		[]byte(strings.Repeat("x", maxManifestSize))...)
	big = append(big, []byte(`"}}`)...)
	big = big[:maxManifestSize+1]
	expectError(t, "oversized manifest", admin.putManifest("team/app", "big", mtOCIManifest, big),
		http.StatusRequestEntityTooLarge, "SIZE_INVALID")

	schema1 := []byte(`{"schemaVersion":1,"mediaType":"` + mtSchema1Signed + `","name":"team/app","tag":"old",
		"architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}`)
	cases := []struct {
		name, ct string
		body     []byte
		contains string
	}{
		{"not JSON", mtOCIManifest, []byte(`{"schemaVersion":2,`), ""},
		{"empty body", mtOCIManifest, []byte{}, ""},
		{"schema 1 signed", mtSchema1Signed, schema1, "schema 1"},
		{"schema 1 as json", "application/json", schema1, "schema 1"},
		{"schema 1 by field", "", schema1, "schema 1"},
		{"media type disagrees", mtDockerManifest, good, ""},
		{"schemaVersion 3", mtOCIManifest, []byte(`{"schemaVersion":3,"config":{"mediaType":"a/b","digest":"` +
			digest.FromBytes(config).String() + `","size":1},"layers":[]}`), ""},
		{"manifest without config", mtOCIManifest, []byte(`{"schemaVersion":2,"mediaType":"` + mtOCIManifest + `","layers":[]}`), ""},
		{"bad descriptor digest", mtOCIManifest, []byte(`{"schemaVersion":2,"mediaType":"` + mtOCIManifest +
			`","config":{"mediaType":"a/b","digest":"sha256:nothex","size":1},"layers":[]}`), ""},
		{"index with layers", mtOCIIndex, []byte(`{"schemaVersion":2,"mediaType":"` + mtOCIIndex + `","manifests":[],"layers":[]}`), ""},
	}
	for _, c := range cases {
		e := expectError(t, c.name, admin.putManifest("team/app", "bad", c.ct, c.body), http.StatusBadRequest, "MANIFEST_INVALID")
		if c.contains != "" && !strings.Contains(e.Message, c.contains) {
			t.Errorf("%s: message %q does not mention %q", c.name, e.Message, c.contains)
		}
	}
	expectError(t, "nothing was stored", admin.do(http.MethodGet, "/v2/team/app/manifests/bad", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")

	// By digest, the body must hash to the reference.
	other := digest.FromString("not the manifest")
	expectError(t, "digest mismatch", admin.putManifest("team/app", other.String(), mtOCIManifest, good), http.StatusBadRequest, "DIGEST_INVALID")
	expectError(t, "mismatched manifest not stored", admin.do(http.MethodGet, "/v2/team/app/manifests/"+other.String(), nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")
	expectError(t, "malformed digest reference", admin.putManifest("team/app", "sha256:xyz", mtOCIManifest, good), http.StatusBadRequest, "")
	// sha512 references are verified with sha512.
	d512 := digest.SHA512.FromBytes(good)
	resp := admin.putManifest("team/app", d512.String(), mtOCIManifest, good)
	expect(t, "sha512 reference", resp, http.StatusCreated)
	if resp.header.Get("Docker-Content-Digest") != d512.String() {
		t.Fatalf("sha512 push Docker-Content-Digest %q", resp.header.Get("Docker-Content-Digest"))
	}
	expect(t, "good manifest", admin.putManifest("team/app", "1.0", mtOCIManifest, good), http.StatusCreated)
	// Without a Content-Type the mediaType field settles it.
	resp = admin.putManifest("team/app", "no-ct", "", good)
	expect(t, "no Content-Type", resp, http.StatusCreated)
	if ct := admin.do(http.MethodHead, "/v2/team/app/manifests/no-ct", nil, nil).header.Get("Content-Type"); ct != mtOCIManifest {
		t.Fatalf("stored media type %q", ct)
	}
}

func TestInvalidNamesAndTags(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	config := []byte(`{}`)
	admin.pushBlob("team/app", config)
	good := imageManifest(t, mtOCIManifest, config)

	for _, name := range []string{"Team/App", "a..b", "-x", "x-", "a//b", "a/_b", strings.Repeat("a", 256)} {
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/v2/" + name + "/tags/list"},
			{http.MethodGet, "/v2/" + name + "/manifests/1.0"},
			{http.MethodPut, "/v2/" + name + "/manifests/1.0"},
			{http.MethodPost, "/v2/" + name + "/blobs/uploads/"},
			{http.MethodHead, "/v2/" + name + "/blobs/" + digest.FromBytes(config).String()},
		} {
			var body []byte
			if r.method == http.MethodPut {
				body = good
			}
			resp := admin.do(r.method, r.path, body, map[string]string{"Content-Type": mtOCIManifest})
			what := fmt.Sprintf("%s %.40s", r.method, r.path)
			switch resp.status {
			case http.StatusBadRequest:
				if r.method != http.MethodHead {
					checkErrorBody(t, what, resp, "NAME_INVALID")
				}
			case http.StatusNotFound:
				if r.method != http.MethodHead {
					checkErrorBody(t, what, resp, "")
				}
			default:
				t.Fatalf("%s: %s, want 400 NAME_INVALID or 404", what, resp)
			}
		}
	}
	// 255 characters is still a name.
	long := strings.Repeat("a", 255)
	admin.pushBlob(long, config)
	expect(t, "255-character name", admin.putManifest(long, "1.0", mtOCIManifest, good), http.StatusCreated)

	for _, tag := range []string{"-bad", ".bad", strings.Repeat("t", 129), "a+b"} {
		expectError(t, "tag "+tag[:min(len(tag), 10)], admin.putManifest("team/app", tag, mtOCIManifest, good),
			http.StatusBadRequest, "TAG_INVALID")
	}
	// An invalid tag among ?tag= parameters refuses the whole push.
	d := digest.FromBytes(good)
	expectError(t, "?tag=-bad", admin.putManifest("team/app", d.String()+"?tag=ok&tag=-bad", mtOCIManifest, good),
		http.StatusBadRequest, "TAG_INVALID")
	expectError(t, "tag ok not created", admin.do(http.MethodGet, "/v2/team/app/manifests/ok", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")
	expect(t, "128-character tag", admin.putManifest("team/app", strings.Repeat("t", 128), mtOCIManifest, good), http.StatusCreated)
	expect(t, "_tag", admin.putManifest("team/app", "_tag.1-A", mtOCIManifest, good), http.StatusCreated)
	expectError(t, "GET invalid tag", admin.do(http.MethodGet, "/v2/team/app/manifests/-bad", nil, nil), http.StatusNotFound, "MANIFEST_UNKNOWN")

	// Endpoints that do not exist.
	expectError(t, "unknown endpoint", admin.do(http.MethodGet, "/v2/team/app/nothing/x", nil, nil), http.StatusNotFound, "")
	expectError(t, "wrong method", admin.do(http.MethodPost, "/v2/team/app/manifests/1.0", nil, nil), http.StatusMethodNotAllowed, "UNSUPPORTED")
	expectError(t, "blob bad digest", admin.do(http.MethodGet, "/v2/team/app/blobs/sha256:xyz", nil, nil), http.StatusBadRequest, "DIGEST_INVALID")
	expectError(t, "unknown blob", admin.do(http.MethodGet, "/v2/team/app/blobs/"+digest.FromString("x").String(), nil, nil),
		http.StatusNotFound, "BLOB_UNKNOWN")
}

// storeID is the blob store's upload id in a session URL, whose last
// segment is "<store id>.<signature>".
func storeID(loc string) string {
	id, _, _ := strings.Cut(loc[strings.LastIndexByte(loc, '/')+1:], ".")
	return id
}
