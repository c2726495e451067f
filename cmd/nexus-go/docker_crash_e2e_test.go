package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// TestKill9DuringMonolithicBlobUpload kills the server while a monolithic
// POST .../blobs/uploads/?digest= streams its body: after the restart no
// file of it remains (no client could resume it), while a chunked upload
// session started before the kill is still there and can be finished.
func TestKill9DuringMonolithicBlobUpload(t *testing.T) {
	s := startServer(t)
	createDockerHosted(s, "docker-h", testproc.FreePort(t))
	admin := s.admin()
	const uploads = "/v2/docker-h/team/app/blobs/uploads/"

	// A chunked session with its first chunk.
	blob := randomBytes(t, 3000)
	res := s.do(http.MethodPost, uploads, admin, nil, nil)
	if res.status != http.StatusAccepted {
		t.Fatalf("start session: %d %s", res.status, res.body)
	}
	res = s.do(http.MethodPatch, res.header.Get("Location"), admin, blob[:1000], http.Header{"Content-Range": {"0-999"}})
	if res.status != http.StatusAccepted {
		t.Fatalf("first chunk: %d %s", res.status, res.body)
	}
	session := res.header.Get("Location")
	if n := len(s.uploadFiles()); n != 1 {
		t.Fatalf("upload files after starting a session: %d, want 1", n)
	}

	// A monolithic upload of 64 MiB, sent slowly; its digest is never
	// reached.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reqErr := s.slowUpload(ctx, http.MethodPost, uploads+"?digest=sha256:"+strings.Repeat("0", 64), admin, 64<<20)
	if !pollUntil(300, func() bool {
		for _, size := range mergeFiles(s.tempFiles(), s.uploadFiles()) {
			if size >= 2<<20 {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("the monolithic upload never reached 2 MiB on disk: temporary %v, uploads %v", s.tempFiles(), s.uploadFiles())
	}
	s.kill9()
	cancel()
	if err := <-reqErr; err == nil {
		t.Fatal("the monolithic upload did not fail")
	}

	s.restart()
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("temporary files of the killed monolithic upload after the restart: %v", tmp)
	}
	if ups := s.uploadFiles(); len(ups) != 1 {
		t.Errorf("upload files after the restart: %v, want only the chunked session's", ups)
	}
	res = s.do(http.MethodGet, session, admin, nil, nil)
	if res.status != http.StatusNoContent || res.header.Get("Range") != "0-999" {
		t.Fatalf("session status after the restart: %d, Range %q; want 204, 0-999", res.status, res.header.Get("Range"))
	}
	d := "sha256:" + sha(blob)
	res = s.do(http.MethodPut, session+"?digest="+d, admin, blob[1000:], http.Header{"Content-Range": {"1000-2999"}})
	if res.status != http.StatusCreated {
		t.Fatalf("finishing the session after the restart: %d %s", res.status, res.body)
	}
	res = s.do(http.MethodGet, "/v2/docker-h/team/app/blobs/"+d, admin, nil, nil)
	if res.status != http.StatusOK || string(res.body) != string(blob) {
		t.Fatalf("blob of the resumed session: %d, %d bytes", res.status, len(res.body))
	}
	if ups := s.uploadFiles(); len(ups) != 0 {
		t.Errorf("upload files after the session finished: %v", ups)
	}
}

func mergeFiles(a, b map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range []map[string]int64{a, b} {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
