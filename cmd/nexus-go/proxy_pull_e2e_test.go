package main

// First pulls of big layers through a proxy of CNCF Distribution: every
// client, whatever its pace, gets every byte, and the cache ends up whole.

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// tarLayer is an uncompressed layer: a tar of one file of size random bytes.
func tarLayer(t *testing.T, size int, seed uint64) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.Grow(size + 4096)
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "data/blob.bin", Mode: 0o644, Size: int64(size), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	rng := rand.NewChaCha8([32]byte{byte(seed)})
	chunk := make([]byte, 1<<20)
	for left := size; left > 0; left -= len(chunk) {
		rng.Read(chunk)
		if _, err := tw.Write(chunk[:min(left, len(chunk))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newCrane is crane with a Docker configuration holding the credentials
// for hosts.
func newCrane(t *testing.T, user, pass string, hosts ...string) clientCmd {
	t.Helper()
	config := t.TempDir()
	auths := map[string]any{}
	for _, h := range hosts {
		auths[h] = map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	}
	b, _ := json.Marshal(map[string]any{"auths": auths})
	if err := os.WriteFile(filepath.Join(config, "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return clientCmd{name: "crane", bin: e2eTool(t, "NEXUS_GO_CRANE", "crane"), env: []string{"DOCKER_CONFIG=" + config}}
}

// wantLayoutBlobs checks that every blob of img is in the OCI layout at dir
// (or the skopeo dir: at dir/<hex>) with the right digest.
func wantLayoutBlobs(t *testing.T, who string, img dpImage, path func(hex string) string) {
	t.Helper()
	for i, l := range append([][]byte{img.config}, img.layers...) {
		want := sha(l)
		f, err := os.Open(path(want))
		if err != nil {
			t.Fatalf("%s: blob %d missing: %v", who, i, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != want || n != int64(len(l)) {
			t.Fatalf("%s: blob %d: %d bytes, digest %x, err %v; want %d bytes %s", who, i, n, h.Sum(nil), err, len(l), want)
		}
	}
}

// pullBlob GETs a blob through a connector and checks its bytes; hangUpAt
// > 0 closes the response after that many bytes instead.
func pullBlob(port int, c *creds, name, digest string, size int, hangUpAt int) error {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/v2/%s/blobs/%s", port, name, digest), nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.pass)
	client := &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if hangUpAt > 0 {
		_, err := io.CopyN(io.Discard, resp.Body, int64(hangUpAt))
		return err
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil {
		return fmt.Errorf("after %d of %d bytes: %w", n, size, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest || n != int64(size) {
		return fmt.Errorf("got %d bytes %s, want %d %s", n, got, size, digest)
	}
	return nil
}

// TestDockerProxyFirstPulls pulls images with 100 MiB and 300 MiB layers,
// never cached before, through proxies of CNCF Distribution: with crane,
// skopeo, the Docker engine and a rate-limited curl; four clients at once
// on one layer; and a client hanging up mid-way while another goes on.
// Every client gets every byte and checks the digests; the cache then
// serves the layers whole.
func TestDockerProxyFirstPulls(t *testing.T) {
	reg := startDistRegistry(t)
	small, big := newDPImage(t, tarLayer(t, 100<<20, 1)), newDPImage(t, tarLayer(t, 300<<20, 2))
	reg.pushImage(t, "pulls/small", "1", small)
	reg.pushImage(t, "pulls/big", "1", big)
	s := startServer(t)
	admin := s.admin()
	// One proxy per client, so that each pull is a first pull.
	proxy := func(name string) int {
		port := testproc.FreePort(t)
		createDockerProxy(s, dockerProxyJSON(name, reg.base, port, true, ""))
		return port
	}
	ports := map[string]int{}
	for _, name := range []string{"crane", "skopeo", "engine", "curl", "together", "hangup"} {
		ports[name] = proxy("pull-" + name)
	}
	host := func(client string) string { return "127.0.0.1:" + strconv.Itoa(ports[client]) }
	cached := func(repo string, img dpImage) {
		t.Helper()
		for _, l := range img.layers {
			if !pollUntil(100, func() bool { return dpHasAsset(s, repo, sha(l)) }) {
				t.Fatalf("%s did not cache layer %s", repo, sha(l))
			}
		}
	}

	t.Run("crane", func(t *testing.T) {
		cr := newCrane(t, admin.user, admin.pass, host("crane"))
		for name, img := range map[string]dpImage{"pulls/small": small, "pulls/big": big} {
			dir := filepath.Join(t.TempDir(), "layout")
			cr.must(t, "pull", "--insecure", "--format", "oci", host("crane")+"/"+name+":1", dir)
			wantLayoutBlobs(t, "crane "+name, img, func(h string) string { return filepath.Join(dir, "blobs", "sha256", h) })
		}
		cached("pull-crane", big)
	})

	t.Run("skopeo", func(t *testing.T) {
		sk := newSkopeo(t)
		for name, img := range map[string]dpImage{"pulls/small": small, "pulls/big": big} {
			dir := filepath.Join(t.TempDir(), "dir")
			sk.must(t, "copy", "--src-tls-verify=false", "--src-creds", admin.user+":"+admin.pass,
				"docker://"+host("skopeo")+"/"+name+":1", "dir:"+dir)
			wantLayoutBlobs(t, "skopeo "+name, img, func(h string) string { return filepath.Join(dir, h) })
		}
		cached("pull-skopeo", big)
	})

	t.Run("engine", func(t *testing.T) {
		e := startDockerEngine(t)
		e.login(t, host("engine"), admin.user, admin.pass)
		for name, img := range map[string]dpImage{"pulls/small": small, "pulls/big": big} {
			e.pullExpect(t, host("engine")+"/"+name+":1", "sha256:"+sha(img.config))
		}
		cached("pull-engine", big)
	})

	t.Run("curl rate-limited", func(t *testing.T) {
		layer := small.layers[0]
		res := curl(t, "--limit-rate", "40M", "-u", admin.user+":"+admin.pass,
			fmt.Sprintf("http://%s/v2/pulls/small/blobs/sha256:%s", host("curl"), sha(layer)))
		if res.exit != 0 || res.status != http.StatusOK || sha(res.body) != sha(layer) {
			t.Fatalf("curl: exit %d (%s), status %d, %d bytes; want the %d-byte layer", res.exit, res.stderr, res.status, len(res.body), len(layer))
		}
		cached("pull-curl", small)
	})

	t.Run("four at once", func(t *testing.T) {
		layer := big.layers[0]
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for range 4 {
			wg.Go(func() { errc <- pullBlob(ports["together"], admin, "pulls/big", "sha256:"+sha(layer), len(layer), 0) })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		cached("pull-together", big)
	})

	t.Run("hang-up", func(t *testing.T) {
		layer := big.layers[0]
		var wg sync.WaitGroup
		var quitter, stayer error
		wg.Go(func() {
			quitter = pullBlob(ports["hangup"], admin, "pulls/big", "sha256:"+sha(layer), len(layer), 10<<20)
		})
		wg.Go(func() { stayer = pullBlob(ports["hangup"], admin, "pulls/big", "sha256:"+sha(layer), len(layer), 0) })
		wg.Wait()
		if quitter != nil || stayer != nil {
			t.Fatalf("quitter: %v; stayer: %v", quitter, stayer)
		}
		cached("pull-hangup", big)
		// The cached copy is whole.
		if err := pullBlob(ports["hangup"], admin, "pulls/big", "sha256:"+sha(layer), len(layer), 0); err != nil {
			t.Fatalf("from the cache: %v", err)
		}
	})
}
