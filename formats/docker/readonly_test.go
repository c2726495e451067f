package docker

import (
	"net/http"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// While the server is read-only a push is refused with 503 and a message
// saying why; pulls go on.
func TestReadOnlyRefusesPushes(t *testing.T) {
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	d := admin.pushBlob("team/app", []byte("layer one"))
	if err := fx.m.SetReadOnly(fx.adminContext(), true); err != nil {
		t.Fatal(err)
	}
	data := []byte("layer two")
	resp := admin.do(http.MethodPost, "/v2/team/app/blobs/uploads/?digest="+digest.FromBytes(data).String(), data,
		map[string]string{"Content-Type": "application/octet-stream"})
	if resp.status != http.StatusServiceUnavailable || !strings.Contains(string(resp.body), "read-only") {
		t.Fatalf("push while frozen: %d %s", resp.status, resp.body)
	}
	if resp := admin.do(http.MethodGet, "/v2/team/app/blobs/"+d.String(), nil, nil); resp.status != http.StatusOK {
		t.Fatalf("pull while frozen: %d", resp.status)
	}
}
