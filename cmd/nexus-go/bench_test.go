package main

// End-to-end performance benchmarks: each starts the built server as a
// subprocess (see harness_test.go), runs one fixed workload against it over
// HTTP on 127.0.0.1 and reports throughput, latency and the server's memory.
// They run only with -bench, e.g.
//
//	go test -run '^$' -bench . -benchtime 1x ./cmd/nexus-go/

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// The fixed workload.
const (
	benchBlobs       = 24      // blobs (raw files) pushed
	benchBlobSize    = 4 << 20 // bytes each
	benchClients     = 8       // concurrent clients
	benchPullRounds  = 4       // times every blob is pulled
	benchManifestGET = 3000    // manifest GETs per auth variant
	benchWarmup      = 100     // untimed manifest GETs before each variant
	benchImage       = "bench/img"
)

// benchServer starts a server whose log level is warn, so that the request
// log line of every call does not weigh on the measurement: the harness
// strips NEXUS_GO_* from the environment, so the setting goes into the data
// directory's properties file and the server is restarted once. With
// NEXUS_GO_E2E_DEBUG_ADDR set, the first such server of the process gets
// a debug listener there (http.debug.addr), to profile it under the load.
func benchServer(b *testing.B) *nexusServer {
	b.Helper()
	s := startServer(b)
	s.stop()
	etc := filepath.Join(s.dataDir, "etc")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		b.Fatal(err)
	}
	props := "log.level=warn\n"
	if addr := os.Getenv("NEXUS_GO_E2E_DEBUG_ADDR"); addr != "" && !debugListenerGiven.Swap(true) {
		props += "http.debug.addr=" + addr + "\n"
		b.Logf("the benchmarked server's debug listener: http://%s/debug/pprof/", addr)
	}
	if err := os.WriteFile(filepath.Join(etc, "nexus-go.properties"), []byte(props), 0o600); err != nil {
		b.Fatal(err)
	}
	s.restart()
	// The status polls of the launch are logged at info; none must be.
	out := s.logs.String()
	if i := strings.LastIndex(out, "=== launch"); i >= 0 && strings.Contains(out[i:], "msg=request") {
		b.Logf("the server still logs requests: log.level=warn was not applied")
	}
	return s
}

// debugListenerGiven is set once a benchServer has the debug listener:
// the address can be bound once.
var debugListenerGiven atomic.Bool

// procMem is the resident set of a process: now and its high-water mark.
type procMem struct{ rssKiB, hwmKiB int64 }

func (m procMem) rssMiB() float64 { return float64(m.rssKiB) / 1024 }
func (m procMem) hwmMiB() float64 { return float64(m.hwmKiB) / 1024 }

// serverMem reads VmRSS and VmHWM of the server process from /proc.
func serverMem(b *testing.B, s *nexusServer) procMem {
	b.Helper()
	return pidMem(b, s.cmd.Process.Pid)
}

// pidMem reads VmRSS and VmHWM of a process from /proc.
func pidMem(b *testing.B, pid int) procMem {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("server memory: %v", err)
	}
	defer f.Close()
	var m procMem
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			b.Fatalf("server memory: %s: %q", key, val)
		}
		if key == "VmRSS" {
			m.rssKiB = kib
		} else {
			m.hwmKiB = kib
		}
	}
	if err := sc.Err(); err != nil {
		b.Fatalf("server memory: %v", err)
	}
	if m.rssKiB == 0 || m.hwmKiB == 0 {
		b.Fatalf("server memory: no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return m
}

// benchClient is a keep-alive client with a connection per worker.
func benchClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			MaxIdleConns:        4 * benchClients,
			MaxIdleConnsPerHost: 2 * benchClients,
			DisableCompression:  true,
		},
		Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// parallel runs job(0..n-1) on benchClients workers and returns the wall
// time and the first error; every worker stops at the first error.
func parallel(n int, job func(i int) error) (time.Duration, error) {
	var (
		next    atomic.Int64
		failed  atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	start := time.Now()
	for w := 0; w < benchClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := job(i); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}

// mbps is throughput in MB (10^6 bytes) per second.
func mbps(bytes int64, d time.Duration) float64 { return float64(bytes) / 1e6 / d.Seconds() }

// fetch sends one request and reads the whole answer; want is the status
// required.
func fetch(c *http.Client, req *http.Request, want int) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL, err)
	}
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("%s %s: status %d, want %d: %.300s", req.Method, req.URL, resp.StatusCode, want, body)
	}
	return resp, body, nil
}

// drain GETs url and discards the body, which must be size bytes long.
func drain(c *http.Client, req *http.Request, size int64) error {
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return fmt.Errorf("GET %s: status %d: %s", req.URL, resp.StatusCode, msg)
	}
	if resp.ContentLength != size {
		return fmt.Errorf("GET %s: Content-Length %d, want %d", req.URL, resp.ContentLength, size)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: reading body: %w", req.URL, err)
	}
	if n != size {
		return fmt.Errorf("GET %s: %d bytes, want %d", req.URL, n, size)
	}
	return nil
}

// latencies returns the p50 and p99 of ds in milliseconds.
func latencies(ds []time.Duration) (p50, p99 float64) {
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(q*float64(len(s))+0.5) - 1
		i = max(0, min(i, len(s)-1))
		return float64(s[i]) / float64(time.Millisecond)
	}
	return at(0.50), at(0.99)
}

// registry is a client of one repository's /v2/ API on its connector port.
type registry struct {
	base   string // http://127.0.0.1:<port>
	client *http.Client
	auth   string // Authorization header value
}

func (r *registry) newRequest(method, target string, body []byte, hdr map[string]string) (*http.Request, error) {
	u, err := url.Parse(r.base)
	if err != nil {
		return nil, err
	}
	ref, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u.ResolveReference(ref).String(), rd)
	if err != nil {
		return nil, err
	}
	if r.auth != "" {
		req.Header.Set("Authorization", r.auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req, nil
}

func (r *registry) call(method, target string, body []byte, hdr map[string]string, want int) (*http.Response, []byte, error) {
	req, err := r.newRequest(method, target, body, hdr)
	if err != nil {
		return nil, nil, err
	}
	return fetch(r.client, req, want)
}

// pushBlob uploads data as a session: POST, one PATCH, then PUT ?digest=.
func (r *registry) pushBlob(image string, data []byte, digest string) error {
	resp, _, err := r.call(http.MethodPost, "/v2/"+image+"/blobs/uploads/", nil, nil, http.StatusAccepted)
	if err != nil {
		return err
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return errors.New("POST blobs/uploads/: no Location")
	}
	resp, _, err = r.call(http.MethodPatch, loc, data, map[string]string{"Content-Type": "application/octet-stream"}, http.StatusAccepted)
	if err != nil {
		return err
	}
	if l := resp.Header.Get("Location"); l != "" {
		loc = l
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	resp, _, err = r.call(http.MethodPut, loc+sep+"digest="+url.QueryEscape(digest), nil, nil, http.StatusCreated)
	if err != nil {
		return err
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
		return fmt.Errorf("PUT %s: Docker-Content-Digest %q, want %q", loc, got, digest)
	}
	return nil
}

// manifestGETs times n GETs of the tag's manifest after an untimed warm-up
// and returns requests per second and p50/p99 latencies in ms.
func (r *registry) manifestGETs(n int, want []byte, digest string) (rps, p50, p99 float64, err error) {
	hdr := map[string]string{"Accept": "application/vnd.oci.image.manifest.v1+json"}
	get := func() error {
		req, err := r.newRequest(http.MethodGet, "/v2/"+benchImage+"/manifests/latest", nil, hdr)
		if err != nil {
			return err
		}
		resp, body, err := fetch(r.client, req, http.StatusOK)
		if err != nil {
			return err
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("GET manifests/latest: %d bytes, not the manifest pushed", len(body))
		}
		if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
			return fmt.Errorf("GET manifests/latest: Docker-Content-Digest %q, want %q", got, digest)
		}
		return nil
	}
	if _, err := parallel(benchWarmup, func(int) error { return get() }); err != nil {
		return 0, 0, 0, err
	}
	lat := make([]time.Duration, n)
	wall, err := parallel(n, func(i int) error {
		start := time.Now()
		err := get()
		lat[i] = time.Since(start)
		return err
	})
	if err != nil {
		return 0, 0, 0, err
	}
	p50, p99 = latencies(lat)
	return float64(n) / wall.Seconds(), p50, p99, nil
}

// benchDockerRepo creates the hosted Docker repository of the benchmarks on
// a connector port of s and returns its client, signed in with a Bearer
// token for benchImage, and the Basic credentials it got the token with.
func benchDockerRepo(b *testing.B, s *nexusServer, client *http.Client) (reg *registry, basic string) {
	b.Helper()
	port := testproc.FreePort(b)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		`{"name":"docker-bench","online":true,"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow"},`+
			`"docker":{"v1Enabled":false,"forceBasicAuth":true,"httpPort":`+strconv.Itoa(port)+`}}`, nil)
	reg = &registry{base: "http://127.0.0.1:" + strconv.Itoa(port), client: client}

	// The connector answers the version check with a challenge.
	if !pollUntil(50, func() bool {
		_, _, err := reg.call(http.MethodGet, "/v2/", nil, nil, http.StatusUnauthorized)
		return err == nil
	}) {
		b.Fatalf("the connector on port %d does not answer GET /v2/ with 401", port)
	}

	// One token for the whole run (they last five minutes).
	basic = "Basic " + basicAuth(s.admin())
	reg.auth = basic
	_, body, err := reg.call(http.MethodGet, "/v2/token?scope="+url.QueryEscape("repository:"+benchImage+":pull,push"), nil, nil, http.StatusOK)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		b.Fatalf("GET /v2/token: no token in %q (%v)", body, err)
	}
	reg.auth = "Bearer " + tok.Token
	return reg, basic
}

// benchData returns n random blobs of size bytes and their sha256 digests.
func benchData(b *testing.B, n, size int) ([][]byte, []string) {
	b.Helper()
	data := make([][]byte, n)
	digests := make([]string, n)
	for i := range data {
		data[i] = randomBytes(b, size)
		digests[i] = "sha256:" + sha(data[i])
	}
	return data, digests
}

// BenchmarkDockerRegistry pushes 24 layers of 4 MiB and a manifest to a
// hosted Docker repository over its connector port, pulls every layer four
// times, then GETs the manifest by tag with a Bearer token and with Basic
// credentials; the workload runs once per call whatever b.N is.
func BenchmarkDockerRegistry(b *testing.B) {
	data, digests := benchData(b, benchBlobs, benchBlobSize)
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	configDigest := "sha256:" + sha(config)

	s := benchServer(b)
	idle := serverMem(b, s)

	client := benchClient()
	defer client.CloseIdleConnections()
	reg, basic := benchDockerRepo(b, s, client)

	// Push.
	pushWall, err := parallel(benchBlobs, func(i int) error { return reg.pushBlob(benchImage, data[i], digests[i]) })
	if err != nil {
		b.Fatal(err)
	}
	pushed := int64(benchBlobs * benchBlobSize)

	// The manifest: a config blob and the layers, tagged latest.
	if err := reg.pushBlob(benchImage, config, configDigest); err != nil {
		b.Fatal(err)
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{
		SchemaVersion: 2,
		MediaType:     "application/vnd.oci.image.manifest.v1+json",
		Config:        desc{"application/vnd.oci.image.config.v1+json", configDigest, int64(len(config))},
	}
	for _, d := range digests {
		m.Layers = append(m.Layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", d, benchBlobSize})
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	manifestDigest := "sha256:" + sha(manifest)
	resp, _, err := reg.call(http.MethodPut, "/v2/"+benchImage+"/manifests/latest", manifest,
		map[string]string{"Content-Type": m.MediaType}, http.StatusCreated)
	if err != nil {
		b.Fatal(err)
	}
	if got := resp.Header.Get("Docker-Content-Digest"); got != manifestDigest {
		b.Fatalf("PUT manifests/latest: Docker-Content-Digest %q, want %q", got, manifestDigest)
	}

	// Pull every layer benchPullRounds times.
	pullWall, err := parallel(benchBlobs*benchPullRounds, func(i int) error {
		req, err := reg.newRequest(http.MethodGet, "/v2/"+benchImage+"/blobs/"+digests[i%benchBlobs], nil, nil)
		if err != nil {
			return err
		}
		return drain(client, req, benchBlobSize)
	})
	if err != nil {
		b.Fatal(err)
	}
	pulled := int64(benchBlobs * benchPullRounds * benchBlobSize)
	// One layer's content, checked outside the timed part.
	if _, got, err := reg.call(http.MethodGet, "/v2/"+benchImage+"/blobs/"+digests[0], nil, nil, http.StatusOK); err != nil {
		b.Fatal(err)
	} else if "sha256:"+sha(got) != digests[0] {
		b.Fatalf("GET blobs/%s: got content sha256:%s", digests[0], sha(got))
	}

	// Manifest GETs by tag: Bearer token, then Basic credentials.
	bearerRPS, bearerP50, bearerP99, err := reg.manifestGETs(benchManifestGET, manifest, manifestDigest)
	if err != nil {
		b.Fatal(err)
	}
	reg.auth = basic
	basicRPS, basicP50, basicP99, err := reg.manifestGETs(benchManifestGET, manifest, manifestDigest)
	if err != nil {
		b.Fatal(err)
	}

	after := serverMem(b, s)

	b.ReportMetric(mbps(pushed, pushWall), "push-MB/s")
	b.ReportMetric(mbps(pulled, pullWall), "pull-MB/s")
	b.ReportMetric(bearerRPS, "manifest-req/s")
	b.ReportMetric(bearerP50, "manifest-p50-ms")
	b.ReportMetric(bearerP99, "manifest-p99-ms")
	b.ReportMetric(basicRPS, "manifest-basic-req/s")
	b.ReportMetric(basicP50, "manifest-basic-p50-ms")
	b.ReportMetric(basicP99, "manifest-basic-p99-ms")
	b.ReportMetric(idle.rssMiB(), "rss-idle-MiB")
	b.ReportMetric(after.rssMiB(), "rss-after-MiB")
	b.ReportMetric(after.hwmMiB(), "rss-peak-MiB")
	b.Logf("docker: push %d x %d MiB by %d clients in %v: %.0f MB/s; pull %d x %d MiB in %v: %.0f MB/s",
		benchBlobs, benchBlobSize>>20, benchClients, pushWall.Round(time.Millisecond), mbps(pushed, pushWall),
		benchBlobs*benchPullRounds, benchBlobSize>>20, pullWall.Round(time.Millisecond), mbps(pulled, pullWall))
	b.Logf("docker: %d manifest GETs by %d clients: Bearer %.0f req/s (p50 %.2f ms, p99 %.2f ms); Basic %.0f req/s (p50 %.2f ms, p99 %.2f ms)",
		benchManifestGET, benchClients, bearerRPS, bearerP50, bearerP99, basicRPS, basicP50, basicP99)
	b.Logf("docker: server RSS %.1f MiB idle (peak so far %.1f MiB), %.1f MiB after the workload, peak %.1f MiB",
		idle.rssMiB(), idle.hwmMiB(), after.rssMiB(), after.hwmMiB())
}

// BenchmarkRawRepository PUTs 24 files of 4 MiB to a hosted raw repository
// with 8 clients and GETs each of them four times; the workload runs once
// per call whatever b.N is.
func BenchmarkRawRepository(b *testing.B) {
	data, digests := benchData(b, benchBlobs, benchBlobSize)
	s := benchServer(b)
	idle := serverMem(b, s)
	s.createRepo("hosted", hostedBody("raw-bench", "allow"))

	client := benchClient()
	defer client.CloseIdleConnections()
	reg := &registry{base: s.base, client: client, auth: "Basic " + basicAuth(s.admin())}
	path := func(i int) string { return "/repository/raw-bench/bench/file-" + strconv.Itoa(i) + ".bin" }

	putWall, err := parallel(benchBlobs, func(i int) error {
		_, _, err := reg.call(http.MethodPut, path(i), data[i], map[string]string{"Content-Type": "application/octet-stream"}, http.StatusCreated)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	getWall, err := parallel(benchBlobs*benchPullRounds, func(i int) error {
		req, err := reg.newRequest(http.MethodGet, path(i%benchBlobs), nil, nil)
		if err != nil {
			return err
		}
		return drain(client, req, benchBlobSize)
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, got, err := reg.call(http.MethodGet, path(0), nil, nil, http.StatusOK); err != nil {
		b.Fatal(err)
	} else if "sha256:"+sha(got) != digests[0] {
		b.Fatalf("GET %s: got content sha256:%s, want %s", path(0), sha(got), digests[0])
	}
	after := serverMem(b, s)

	put, got := int64(benchBlobs*benchBlobSize), int64(benchBlobs*benchPullRounds*benchBlobSize)
	b.ReportMetric(mbps(put, putWall), "put-MB/s")
	b.ReportMetric(mbps(got, getWall), "get-MB/s")
	b.ReportMetric(idle.rssMiB(), "rss-idle-MiB")
	b.ReportMetric(after.hwmMiB(), "rss-peak-MiB")
	b.Logf("raw: PUT %d x %d MiB by %d clients in %v: %.0f MB/s; GET %d x %d MiB in %v: %.0f MB/s; server RSS %.1f MiB idle, peak %.1f MiB",
		benchBlobs, benchBlobSize>>20, benchClients, putWall.Round(time.Millisecond), mbps(put, putWall),
		benchBlobs*benchPullRounds, benchBlobSize>>20, getWall.Round(time.Millisecond), mbps(got, getWall),
		idle.rssMiB(), after.hwmMiB())
}

// basicAuth is the credential part of a Basic Authorization header.
func basicAuth(c *creds) string {
	return base64.StdEncoding.EncodeToString([]byte(c.user + ":" + c.pass))
}
