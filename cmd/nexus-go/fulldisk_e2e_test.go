package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// mountTmpfs mounts a tmpfs of size ("4m") at dir until the test ends, or
// skips the test where this process may not mount one.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// fillUp writes path until the file system is full, then gives back keep
// bytes (so the server has some, but not enough).
func fillUp(t *testing.T, path string, keep int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(max(n-keep, 0)); err != nil {
		t.Fatal(err)
	}
}

// blobStoresReady returns the "Blob Stores Ready" entry of the health check.
func blobStoresReady(s *nexusServer) (bool, string) {
	s.t.Helper()
	var status map[string]struct {
		Healthy bool   `json:"healthy"`
		Message string `json:"message"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/status/check", s.admin(), nil, &status)
	c := status["Blob Stores Ready"]
	return c.Healthy, c.Message
}

// A full blob store answers 507 with a clear message, in each protocol's
// own error format, stores nothing, and shows in the health check; freeing
// space brings writes back.
func TestFullDisk(t *testing.T) {
	s := startServerEnv(t, "NEXUS_GO_BLOBSTORE_MIN_FREE_SPACE=1MiB")
	s.createRepo("hosted", hostedBody("raw-h", "allow"))
	createDockerHosted(s, "docker-h", testproc.FreePort(t))
	s.stop()
	blobs := filepath.Join(s.dataDir, "blobs")
	mountTmpfs(t, blobs, "4m")
	s.restart()
	defer s.stop() // before the tmpfs goes

	if ok, msg := blobStoresReady(s); !ok {
		t.Fatalf("health check with 4 MiB free: unhealthy (%s)", msg)
	}
	small := randomBytes(t, 1000)
	s.put("raw-h", "small.bin", small)

	fillUp(t, filepath.Join(blobs, "filler"), 256<<10)
	if ok, msg := blobStoresReady(s); ok || !strings.Contains(msg, "blobstore.min-free-space") {
		t.Errorf("health check with 256 KiB free: healthy=%v %q, want unhealthy naming the threshold", ok, msg)
	}

	big := randomBytes(t, 1<<20)
	res := s.do(http.MethodPut, "/repository/raw-h/big.bin", s.admin(), big, nil)
	if res.status != http.StatusInsufficientStorage || !strings.Contains(string(res.body), "insufficient storage") {
		t.Errorf("raw PUT on a full disk: %d %q, want 507 saying insufficient storage", res.status, res.body)
	}
	if res := s.do(http.MethodGet, "/repository/raw-h/big.bin", s.admin(), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET of the refused upload: %d, want 404", res.status)
	}

	status, _, body := dpDo(t, http.MethodPost, s.url("/v2/docker-h/team/app/blobs/uploads/?digest=sha256:"+sha(big)), s.admin(), big,
		map[string]string{"Content-Type": "application/octet-stream"})
	var oci struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if status != http.StatusInsufficientStorage || json.Unmarshal(body, &oci) != nil || len(oci.Errors) != 1 ||
		!strings.Contains(oci.Errors[0].Message, "insufficient storage") {
		t.Errorf("Docker blob push on a full disk: %d %s, want 507 with a distribution error saying insufficient storage", status, body)
	}
	if tmp := s.tempFiles(); len(tmp) != 0 {
		t.Errorf("refused writes left temp files: %v", tmp)
	}
	s.getExpect("raw-h", "small.bin", small)

	if err := os.Remove(filepath.Join(blobs, "filler")); err != nil {
		t.Fatal(err)
	}
	if ok, msg := blobStoresReady(s); !ok {
		t.Errorf("health check after freeing space: unhealthy (%s)", msg)
	}
	s.put("raw-h", "big.bin", big)
}

// The Docker engine, pushing to a full blob store, fails saying why (it
// shows the status of a failed upload, not its body) after its retries,
// some 50 s; once space is free the same push goes through.
func TestDockerEngineFullDisk(t *testing.T) {
	eng := startDockerEngine(t)
	s := startServer(t)
	port := testproc.FreePort(t)
	createDockerHosted(s, "docker-h", port)
	s.stop()
	blobs := filepath.Join(s.dataDir, "blobs")
	mountTmpfs(t, blobs, "4m")
	s.restart()
	defer s.stop() // before the tmpfs goes

	build := t.TempDir()
	for name, data := range map[string][]byte{
		"Dockerfile": []byte("FROM scratch\nCOPY big.bin /big.bin\n"),
		"big.bin":    randomBytes(t, 1<<20),
	} {
		if err := os.WriteFile(filepath.Join(build, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := "127.0.0.1:" + strconv.Itoa(port) + "/team/big:1"
	eng.must(t, "build", "-q", "-t", ref, build)
	eng.login(t, "127.0.0.1:"+strconv.Itoa(port), "admin", s.adminPW)

	fillUp(t, filepath.Join(blobs, "filler"), 256<<10)
	if out := eng.mustFail(t, "push", ref); !strings.Contains(strings.ToLower(out), "insufficient storage") {
		t.Errorf("docker push to a full disk does not say why:\n%s", out)
	}
	if err := os.Remove(filepath.Join(blobs, "filler")); err != nil {
		t.Fatal(err)
	}
	eng.must(t, "push", ref)
}
