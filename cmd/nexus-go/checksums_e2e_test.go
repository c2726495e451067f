package main

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// A Docker layer is stored with its sha256 only; the first GETs of its
// asset, concurrent, all show the four checksums.
func TestAssetChecksumsComputedOnFirstGet(t *testing.T) {
	s := startServer(t)
	createDockerHosted(s, "docker-h", testproc.FreePort(t))
	layer := randomBytes(t, 3<<20)
	status, _, body := dpDo(t, http.MethodPost, s.url("/v2/docker-h/team/app/blobs/uploads/?digest=sha256:"+sha(layer)), s.admin(), layer,
		map[string]string{"Content-Type": "application/octet-stream"})
	if status != http.StatusCreated {
		t.Fatalf("pushing the layer: %d %s", status, body)
	}
	var id string
	for _, a := range s.assets("docker-h") {
		if strings.HasSuffix(a.Path, "/blobs/sha256:"+sha(layer)) {
			id = a.ID
			if a.Checksum["md5"] != "" {
				t.Fatalf("md5 of a Docker layer computed at write time: %v", a.Checksum)
			}
		}
	}
	if id == "" {
		t.Fatal("no asset for the layer")
	}
	m5, s1, s512 := md5.Sum(layer), sha1.Sum(layer), sha512.Sum512(layer)
	want := map[string]string{"md5": hex.EncodeToString(m5[:]), "sha1": hex.EncodeToString(s1[:]),
		"sha256": sha(layer), "sha512": hex.EncodeToString(s512[:])}
	var wg sync.WaitGroup
	got := make([]asset, 4)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() {
			resp, err := s.request(t.Context(), http.MethodGet, "/service/rest/v1/assets/"+id, s.admin(), nil, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			errs[i] = json.NewDecoder(resp.Body).Decode(&got[i])
		})
	}
	wg.Wait()
	for i, a := range got {
		if errs[i] != nil {
			t.Fatalf("GET %d of the asset: %v", i, errs[i])
		}
		for alg, v := range want {
			if a.Checksum[alg] != v {
				t.Errorf("GET %d: %s = %q, want %q", i, alg, a.Checksum[alg], v)
			}
		}
	}
}
