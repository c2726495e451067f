package main

// BenchmarkDockerPeers runs one Docker workload against nexus-go and, in
// the same run, against zot and an in-memory registry, so that their
// ratios are measured on one machine at one time. zot is built from its
// sources (it is not a Go module one can install) and named by
// NEXUS_GO_ZOT; without it that peer is skipped:
//
//	git clone <zot sources> /work/zot-src && cd /work/zot-src
//	CGO_ENABLED=0 GOEXPERIMENT=jsonv2 go build -o <repo>/bin/tools/zot ./cmd/zot
//	NEXUS_GO_ZOT=<repo>/bin/tools/zot go test -run '^$' -bench DockerPeers -benchtime 1x ./cmd/nexus-go/

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// peerWorkload is a blob count and size each registry is given.
type peerWorkload struct {
	name        string
	blobs, size int
}

// peerWorkloads are the workloads of BenchmarkDockerPeers.
var peerWorkloads = []peerWorkload{
	{"4MiB", benchBlobs, benchBlobSize},
	{"256MiB", 4, 256 << 20},
}

// peerResult is one registry's throughput on one workload.
type peerResult struct {
	push, pull float64 // MB/s
	manifest   float64 // req/s
	p50, p99   float64 // ms, manifest GETs
}

// peerRounds is how many times each phase is run, peer after peer; each
// peer's best round counts. The machine is shared:
// alternating keeps the peers' conditions alike, the best round is the
// least disturbed.
const peerRounds = 3

type peer struct {
	name string
	reg  *registry
}

// BenchmarkDockerPeers: for each workload, nexus-go (a hosted repository
// on a connector port, Bearer token), zot (no authentication) and the
// in-memory registry, each fresh, run side by side phase by phase: every
// peer pushes the layers, a config and a manifest with 8 clients (timed
// together; each round other bytes), then pulls every layer
// benchPullRounds times, then GETs the manifest by tag benchManifestGET
// times.
func BenchmarkDockerPeers(b *testing.B) {
	zot := os.Getenv("NEXUS_GO_ZOT")
	if zot == "" {
		b.Logf("zot skipped: NEXUS_GO_ZOT is not set (see bench_peers_test.go to build it)")
	}
	for _, w := range peerWorkloads {
		// One sub-benchmark per workload, so that its peers (an in-memory
		// registry holds every byte pushed) stop before the next starts.
		b.Run(w.name, func(b *testing.B) { runPeerWorkload(b, w, zot) })
	}
}

// runPeerWorkload runs workload w against nexus-go and its peers.
func runPeerWorkload(b *testing.B, w peerWorkload, zot string) {
	data, digests := benchData(b, w.blobs, w.size)
	config, manifest := bpManifest(b, digests, w.size)
	image := func(int) string { return bpUpImage }

	s := benchServer(b)
	port := testproc.FreePort(b)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		dockerHostedJSON("docker-bench", port, true), nil)
	peers := []peer{{"nexus-go", bpConnector(b, s, benchClient(), port)}}
	if zot != "" {
		peers = append(peers, peer{"zot", &registry{base: startZot(b, zot), client: benchClient()}})
	}
	peers = append(peers, peer{"memory", &registry{base: startMemRegistry(b), client: benchClient()}})

	got := make([]peerResult, len(peers))
	for round := range peerRounds {
		if round > 0 {
			// New bytes, or the push would be deduplicated.
			for j := range data {
				binary.LittleEndian.PutUint64(data[j], uint64(round))
				digests[j] = "sha256:" + sha(data[j])
			}
			config, manifest = bpManifest(b, digests, w.size)
		}
		for i, p := range peers {
			start := time.Now()
			if err := bpPushImage(p.reg, bpUpImage, data, digests, config, manifest); err != nil {
				b.Fatalf("%s: push: %v", p.name, err)
			}
			got[i].push = max(got[i].push, mbps(int64(len(data))*int64(w.size), time.Since(start)))
		}
	}
	for range peerRounds {
		for i, p := range peers {
			pull, _, err := bpPull(p.reg, len(data)*benchPullRounds, image, digests, w.size)
			if err != nil {
				b.Fatalf("%s: pull: %v", p.name, err)
			}
			got[i].pull = max(got[i].pull, pull)
		}
	}
	for range peerRounds {
		for i, p := range peers {
			rps, p50, p99, err := bpManifestGETs(p.reg, benchManifestGET, image, manifest)
			if err != nil {
				b.Fatalf("%s: manifest GETs: %v", p.name, err)
			}
			if rps > got[i].manifest {
				got[i].manifest, got[i].p50, got[i].p99 = rps, p50, p99
			}
		}
	}
	for _, p := range peers {
		p.reg.client.CloseIdleConnections()
	}
	s.stop()

	for i, p := range peers {
		r := got[i]
		b.ReportMetric(r.push, w.name+"-"+p.name+"-push-MB/s")
		b.ReportMetric(r.pull, w.name+"-"+p.name+"-pull-MB/s")
		b.ReportMetric(r.manifest, w.name+"-"+p.name+"-manifest-req/s")
		b.Logf("%s x %d, %-8s push %6.0f MB/s  pull %6.0f MB/s  manifest GET %6.0f req/s (p50 %.2f ms, p99 %.2f ms)",
			w.name, w.blobs, p.name, r.push, r.pull, r.manifest, r.p50, r.p99)
	}
	n := got[0]
	for i, p := range peers[1:] {
		r := got[i+1]
		b.ReportMetric(n.push/r.push, w.name+"-push-x-"+p.name)
		b.ReportMetric(n.pull/r.pull, w.name+"-pull-x-"+p.name)
		b.ReportMetric(n.manifest/r.manifest, w.name+"-manifest-x-"+p.name)
		b.Logf("%s x %d, nexus-go/%s: push %.2f  pull %.2f  manifest GET %.2f",
			w.name, w.blobs, p.name, n.push/r.push, n.pull/r.pull, n.manifest/r.manifest)
	}
}

// startZot runs zot with a minimal configuration (storage in a temp dir,
// no authentication, warnings only) and returns its base URL.
func startZot(b *testing.B, bin string) string {
	b.Helper()
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		b.Fatalf("zot at %s (NEXUS_GO_ZOT) is not an executable", bin)
	}
	return bpStartPeer(b, "zot", bin, clientEnv(), func(dir, host string, attempt int) []string {
		_, port, _ := net.SplitHostPort(host)
		cfg, err := json.Marshal(map[string]any{
			"distSpecVersion": "1.1.1",
			"storage":         map[string]any{"rootDirectory": filepath.Join(dir, "storage")},
			"http":            map[string]any{"address": "127.0.0.1", "port": port},
			"log":             map[string]any{"level": "warn"},
		})
		if err != nil {
			b.Fatal(err)
		}
		config := filepath.Join(dir, fmt.Sprintf("config-%d.json", attempt))
		if err := os.WriteFile(config, cfg, 0o644); err != nil {
			b.Fatal(err)
		}
		return []string{"serve", config}
	})
}

// memRegistryArg, then an address, makes the test binary serve a
// memRegistry there (see TestMain): the ceiling runs in a process of its
// own, as the other peers do, not sharing the client's runtime and heap.
const memRegistryArg = "nexus-go-bench-memory-registry"

func startMemRegistry(b *testing.B) string {
	b.Helper()
	return bpStartPeer(b, "the memory registry", os.Args[0], clientEnv(), func(_, host string, _ int) []string {
		return []string{memRegistryArg, host}
	})
}

func serveMemRegistry(addr string) int {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memory registry:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "memory registry:", (&http.Server{Handler: newMemRegistry()}).Serve(l))
	return 1
}

// memRegistry is the machine's ceiling: the registry API over maps, with
// no checks, no durability and nothing on disk.
type memRegistry struct {
	next      atomic.Int64
	mu        sync.RWMutex
	uploads   map[string]*bytes.Buffer
	blobs     map[string][]byte
	manifests map[string]memManifest // by name + "\x00" + tag or digest
}

type memManifest struct {
	body        []byte
	contentType string
	digest      string
}

func newMemRegistry() *memRegistry {
	return &memRegistry{uploads: map[string]*bytes.Buffer{}, blobs: map[string][]byte{}, manifests: map[string]memManifest{}}
}

func (m *memRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := strings.TrimPrefix(req.URL.Path, "/v2/")
	if i := strings.Index(p, "/blobs/uploads/"); i >= 0 {
		m.upload(w, req, p[:i], p[i+len("/blobs/uploads/"):])
		return
	}
	if i := strings.Index(p, "/blobs/"); i >= 0 && req.Method == http.MethodGet {
		m.mu.RLock()
		data, ok := m.blobs[p[i+len("/blobs/"):]]
		m.mu.RUnlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
		return
	}
	if i := strings.Index(p, "/manifests/"); i >= 0 {
		m.manifest(w, req, p[:i], p[i+len("/manifests/"):])
		return
	}
	if p == "" {
		return // GET /v2/: 200
	}
	http.NotFound(w, req)
}

func (m *memRegistry) upload(w http.ResponseWriter, req *http.Request, name, id string) {
	switch req.Method {
	case http.MethodPost:
		id = strconv.FormatInt(m.next.Add(1), 10)
		m.mu.Lock()
		m.uploads[id] = &bytes.Buffer{}
		m.mu.Unlock()
		w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPatch, http.MethodPut:
		m.mu.RLock()
		buf, ok := m.uploads[id]
		m.mu.RUnlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		// One client per upload: the buffer is its own. MinRead more, or
		// ReadFrom doubles a full buffer to look for the end.
		if req.ContentLength > 0 {
			buf.Grow(int(req.ContentLength) + bytes.MinRead)
		}
		if _, err := buf.ReadFrom(req.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.Method == http.MethodPatch {
			w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		d := req.URL.Query().Get("digest")
		m.mu.Lock()
		m.blobs[d] = buf.Bytes()
		delete(m.uploads, id)
		m.mu.Unlock()
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (m *memRegistry) manifest(w http.ResponseWriter, req *http.Request, name, ref string) {
	switch req.Method {
	case http.MethodPut:
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		mf := memManifest{body: body, contentType: req.Header.Get("Content-Type"), digest: "sha256:" + hex.EncodeToString(sum[:])}
		m.mu.Lock()
		m.manifests[name+"\x00"+ref] = mf
		m.manifests[name+"\x00"+mf.digest] = mf
		m.mu.Unlock()
		w.Header().Set("Docker-Content-Digest", mf.digest)
		w.WriteHeader(http.StatusCreated)
	case http.MethodGet:
		m.mu.RLock()
		mf, ok := m.manifests[name+"\x00"+ref]
		m.mu.RUnlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		h := w.Header()
		h.Set("Content-Type", mf.contentType)
		h.Set("Docker-Content-Digest", mf.digest)
		h.Set("Content-Length", strconv.Itoa(len(mf.body)))
		w.Write(mf.body)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}
