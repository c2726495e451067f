package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// cuttingUpstream answers every GET with a 1 MiB Content-Length, sends
// 64 KiB, and hangs up once the test says so.
func cuttingUpstream(t *testing.T, cut <-chan struct{}) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Length", "1048576")
		w.Write(make([]byte, 64<<10))
		w.(http.Flusher).Flush()
		select {
		case <-cut:
		case <-r.Context().Done():
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(up.Close)
	return up
}

// TestAbortedTransfersAreLogged: a proxied download that fails once its
// client has bytes cuts the client's transfer (never a short body taken
// for whole), and the request log shows it, on the main port and on a
// connector.
func TestAbortedTransfersAreLogged(t *testing.T) {
	ts := startTestServer(t, nil)
	port := testproc.FreePort(t)
	for _, tc := range []struct {
		kind, body, target string
	}{
		{"raw/proxy", `{"name":"raw-p","online":true,"storage":{"blobStoreName":"default"},
			"proxy":{"remoteUrl":%q,"contentMaxAge":1440,"metadataMaxAge":1440},
			"negativeCache":{"enabled":false,"timeToLive":1},"httpClient":{"blocked":false,"autoBlock":false}}`,
			"http://" + ts.main + "/repository/raw-p/file.bin"},
		{"docker/proxy", `{"name":"docker-p","online":true,"storage":{"blobStoreName":"default"},
			"proxy":{"remoteUrl":%q,"contentMaxAge":1440,"metadataMaxAge":1440},
			"negativeCache":{"enabled":false,"timeToLive":1},"httpClient":{"blocked":false,"autoBlock":false},
			"docker":{"forceBasicAuth":true,"httpPort":` + strconv.Itoa(port) + `},"dockerProxy":{"indexType":"REGISTRY"}}`,
			"http://127.0.0.1:" + strconv.Itoa(port) + "/v2/img/blobs/sha256:" + strings.Repeat("ab", 32)},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			cut := make(chan struct{})
			up := cuttingUpstream(t, cut)
			req, _ := http.NewRequest(http.MethodPost, "http://"+ts.main+"/service/rest/v1/repositories/"+tc.kind,
				strings.NewReader(fmt.Sprintf(tc.body, up.URL)))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth("admin", ts.adminPW)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("creating the proxy: %d", resp.StatusCode)
			}

			req, _ = http.NewRequest(http.MethodGet, tc.target, nil)
			req.SetBasicAuth("admin", ts.adminPW)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET: %d", resp.StatusCode)
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
				t.Fatalf("the first bytes: %v", err)
			}
			close(cut)
			if n, err := io.Copy(io.Discard, resp.Body); err == nil {
				t.Fatalf("a cut download ended cleanly after %d more bytes", n)
			}
			path := req.URL.Path
			deadline := time.Now().Add(5 * time.Second)
			for !ts.logs.has("request aborted", path) {
				if time.Now().After(deadline) {
					t.Fatalf("no request aborted logged for %s", path)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
