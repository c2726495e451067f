package docker

import (
	"net/http"
	"strings"
	"testing"
)

// An upload session belongs to the repository and image it was started
// in: it cannot be continued through another repository or image, nor
// with a made-up id, and the session the client holds still works.
func TestUploadSessionIsBoundToItsRepositoryAndImage(t *testing.T) {
	fx := newFixture(t, 0)
	a := fx.admin(fx.connector(fx.create(hostedConfig("docker-a", "allow", ""))))
	b := fx.admin(fx.connector(fx.create(hostedConfig("docker-b", "allow", ""))))
	loc := a.startUpload("team/app")
	session := loc[strings.LastIndex(loc, "/")+1:]
	id, _, found := strings.Cut(session, ".")
	if !found {
		t.Fatalf("session %q is not signed", session)
	}
	chunk := []byte("some bytes")
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	for _, c := range []struct {
		name   string
		client *client
		path   string
	}{
		{"other repository", b, "/v2/team/app/blobs/uploads/" + session},
		{"other image", a, "/v2/team/other/blobs/uploads/" + session},
		{"bare store id", a, "/v2/team/app/blobs/uploads/" + id},
		{"forged signature", a, "/v2/team/app/blobs/uploads/" + id + ".AAAAAAAAAAAAAAAAAAAAAA"},
	} {
		resp := c.client.do(http.MethodPatch, c.path, chunk, hdr)
		expectError(t, c.name, resp, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
	}
	resp := a.do(http.MethodPatch, loc, chunk, hdr)
	expect(t, "PATCH of the real session", resp, http.StatusAccepted)
	if got := resp.header.Get("Range"); got != "0-9" {
		t.Fatalf("Range after the only accepted chunk = %q, want 0-9", got)
	}
}
