package main

// BenchmarkDockerProxyGroup: pulls through Docker hosted, proxy and group
// repositories, with CNCF Distribution (NEXUS_GO_REGISTRY) as the proxy's
// upstream, against pulls from that registry itself. Like the other
// workloads of bench_test.go it runs once whatever b.N is:
//
//	go test -run '^$' -bench BenchmarkDockerProxyGroup -benchtime 1x ./cmd/nexus-go/

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// The two image names: the upstream (and so the proxy) has bpUpImage, the
// hosted repository bpHostedImage, with the same layers. Each name exists
// in one member of the group only, so a pull through the group by one name
// is served by the hosted member and by the other by the proxy member.
const (
	bpUpImage     = "bench/img"
	bpHostedImage = "bench/hosted"
)

// bpStartRegistry starts the CNCF Distribution registry NEXUS_GO_REGISTRY
// names, as startDistRegistry does for tests, and returns its base URL; it
// is stopped when b ends.
func bpStartRegistry(b *testing.B) string {
	b.Helper()
	bin := os.Getenv("NEXUS_GO_REGISTRY")
	if bin == "" {
		e2eClientMissing(b, "the CNCF Distribution registry (NEXUS_GO_REGISTRY is not set)")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		e2eClientMissing(b, "the CNCF Distribution registry at "+bin+" (NEXUS_GO_REGISTRY)")
	}
	var env []string
	for _, kv := range clientEnv("OTEL_TRACES_EXPORTER=none", "OTEL_SDK_DISABLED=true") {
		if !strings.HasPrefix(kv, "REGISTRY_") { // would override the config file
			env = append(env, kv)
		}
	}
	return bpStartPeer(b, "the registry", bin, env, func(dir, host string, attempt int) []string {
		config := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
		yml := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"+
			"storage:\n  filesystem:\n    rootdirectory: %s\n"+
			"http:\n  addr: %s\n", filepath.Join(dir, "storage"), host)
		if err := os.WriteFile(config, []byte(yml), 0o644); err != nil {
			b.Fatal(err)
		}
		return []string{"serve", config}
	})
}

// bpStartPeer runs bin, a registry, on a free 127.0.0.1 port until b ends
// and returns its base URL once GET /v2/ answers 200. args gives the
// command line for the address host ("127.0.0.1:<port>"), writing any
// configuration file into dir; a port taken meanwhile is retried.
func bpStartPeer(b *testing.B, what, bin string, env []string, args func(dir, host string, attempt int) []string) string {
	b.Helper()
	dir := b.TempDir()
	for attempt := 0; attempt < 3; attempt++ {
		host := "127.0.0.1:" + strconv.Itoa(testproc.FreePort(b))
		logs := &logBuffer{}
		cmd := exec.Command(bin, args(dir, host, attempt)...)
		cmd.Dir, cmd.Env = dir, env
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			b.Fatalf("starting %s: %v", what, err)
		}
		done := make(chan struct{})
		go func() {
			cmd.Wait()
			close(done)
		}()
		stop := func() {
			select {
			case <-done:
				return
			default:
			}
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		ready := false
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		for i := 0; i < 150 && !ready; i++ {
			select {
			case <-done:
				i = 150
				continue
			default:
			}
			if resp, err := c.Get("http://" + host + "/v2/"); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == http.StatusOK
			}
			if !ready {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if ready {
			b.Cleanup(func() {
				stop()
				if b.Failed() {
					b.Logf("%s output:\n%s", what, conformanceTail(logs.String(), 32<<10))
				}
			})
			return "http://" + host
		}
		stop()
		if !strings.Contains(logs.String(), "address already in use") {
			b.Fatalf("%s did not answer on %s:\n%s", what, host, logs.String())
		}
	}
	b.Fatalf("%s could not get a free port", what)
	return ""
}

// bpPushImage pushes the layers (8 clients), the config and the manifest
// as image:latest.
func bpPushImage(r *registry, image string, data [][]byte, digests []string, config, manifest []byte) error {
	if _, err := parallel(len(data), func(i int) error { return r.pushBlob(image, data[i], digests[i]) }); err != nil {
		return err
	}
	if err := r.pushBlob(image, config, "sha256:"+sha(config)); err != nil {
		return err
	}
	resp, _, err := r.call(http.MethodPut, "/v2/"+image+"/manifests/latest", manifest,
		map[string]string{"Content-Type": dpOCIManifest}, http.StatusCreated)
	if err != nil {
		return err
	}
	if got, want := resp.Header.Get("Docker-Content-Digest"), "sha256:"+sha(manifest); got != want {
		return fmt.Errorf("PUT %s:latest: Docker-Content-Digest %q, want %q", image, got, want)
	}
	return nil
}

// bpManifest is an OCI image manifest of a config and the layers, each
// size bytes long.
func bpManifest(b *testing.B, digests []string, size int) (config, manifest []byte) {
	b.Helper()
	config = []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
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
		MediaType:     dpOCIManifest,
		Config:        desc{"application/vnd.oci.image.config.v1+json", "sha256:" + sha(config), int64(len(config))},
	}
	for _, d := range digests {
		m.Layers = append(m.Layers, desc{"application/vnd.oci.image.layer.v1.tar+gzip", d, int64(size)})
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	return config, manifest
}

// bpConnector waits for a connector's challenge and returns a client of
// it holding a Bearer token for pull and push of both image names.
func bpConnector(b *testing.B, s *nexusServer, client *http.Client, port int) *registry {
	b.Helper()
	reg := &registry{base: "http://127.0.0.1:" + strconv.Itoa(port), client: client}
	if !pollUntil(50, func() bool {
		_, _, err := reg.call(http.MethodGet, "/v2/", nil, nil, http.StatusUnauthorized)
		return err == nil
	}) {
		b.Fatalf("the connector on port %d does not answer GET /v2/ with 401", port)
	}
	reg.auth = "Basic " + basicAuth(s.admin())
	q := url.Values{"scope": {"repository:" + bpUpImage + ":pull,push", "repository:" + bpHostedImage + ":pull,push"}}
	_, body, err := reg.call(http.MethodGet, "/v2/token?"+q.Encode(), nil, nil, http.StatusOK)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		b.Fatalf("GET /v2/token on port %d: no token in %q (%v)", port, body, err)
	}
	reg.auth = "Bearer " + tok.Token
	return reg
}

// bpPull pulls n blobs of size bytes with 8 clients, blob i from image(i),
// every body read to its end and its length checked; it returns MB/s.
func bpPull(r *registry, n int, image func(i int) string, digests []string, size int) (float64, time.Duration, error) {
	wall, err := parallel(n, func(i int) error {
		req, err := r.newRequest(http.MethodGet, "/v2/"+image(i)+"/blobs/"+digests[i%len(digests)], nil, nil)
		if err != nil {
			return err
		}
		return drain(r.client, req, int64(size))
	})
	return mbps(int64(n)*int64(size), wall), wall, err
}

// bpManifestGETs times n GETs of image(i):latest after an untimed warm-up
// and returns requests per second and p50/p99 latencies in ms.
func bpManifestGETs(r *registry, n int, image func(i int) string, want []byte) (rps, p50, p99 float64, err error) {
	digest := "sha256:" + sha(want)
	get := func(i int) error {
		req, err := r.newRequest(http.MethodGet, "/v2/"+image(i)+"/manifests/latest", nil,
			map[string]string{"Accept": dpOCIManifest})
		if err != nil {
			return err
		}
		resp, body, err := fetch(r.client, req, http.StatusOK)
		if err != nil {
			return err
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("GET %s: %d bytes, not the manifest pushed", req.URL, len(body))
		}
		if got := resp.Header.Get("Docker-Content-Digest"); got != digest {
			return fmt.Errorf("GET %s: Docker-Content-Digest %q, want %q", req.URL, got, digest)
		}
		return nil
	}
	if _, err := parallel(benchWarmup, get); err != nil {
		return 0, 0, 0, err
	}
	lat := make([]time.Duration, n)
	wall, err := parallel(n, func(i int) error {
		start := time.Now()
		err := get(i)
		lat[i] = time.Since(start)
		return err
	})
	if err != nil {
		return 0, 0, 0, err
	}
	p50, p99 = latencies(lat)
	return float64(n) / wall.Seconds(), p50, p99, nil
}

// bpAssetPaths returns the paths of repo's assets that start with prefix.
func bpAssetPaths(s *nexusServer, repo, prefix string) []string {
	var out []string
	for _, a := range s.assets(repo) {
		if strings.HasPrefix(strings.TrimPrefix(a.Path, "/"), prefix) {
			out = append(out, a.Path)
		}
	}
	return out
}

// BenchmarkDockerProxyGroup pushes 24 layers of 4 MiB and a manifest to a
// CNCF Distribution registry and to a hosted Docker repository, then pulls
// them with 8 clients: from the registry itself, through a proxy of it
// (cold, then warm), from the hosted repository and through a group of
// both; then GETs the manifest by tag 3000 times through each repository.
func BenchmarkDockerProxyGroup(b *testing.B) {
	upstream := bpStartRegistry(b)
	data, digests := benchData(b, benchBlobs, benchBlobSize)
	config, manifest := bpManifest(b, digests, benchBlobSize)

	client := benchClient()
	defer client.CloseIdleConnections()

	// The upstream: plain HTTP, no authentication.
	up := &registry{base: upstream, client: client}
	if err := bpPushImage(up, bpUpImage, data, digests, config, manifest); err != nil {
		b.Fatalf("pushing to the registry: %v", err)
	}

	s := benchServer(b)
	hostedPort, proxyPort, groupPort := testproc.FreePort(b), testproc.FreePort(b), testproc.FreePort(b)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		dockerHostedJSON("docker-hosted", hostedPort, true), nil)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", upstream, proxyPort, true, ""))
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/group", s.admin(),
		dockerGroupJSON("docker-group", groupPort, "", "docker-hosted", "docker-proxy"), nil)
	hosted := bpConnector(b, s, client, hostedPort)
	proxy := bpConnector(b, s, client, proxyPort)
	group := bpConnector(b, s, client, groupPort)
	idle := serverMem(b, s)

	upImage := func(int) string { return bpUpImage }
	hostedImage := func(int) string { return bpHostedImage }
	// Through the group: even blobs by the hosted member's name, odd ones
	// by the proxy member's.
	groupImage := func(i int) string {
		if i%2 == 0 {
			return bpHostedImage
		}
		return bpUpImage
	}

	direct, directWall, err := bpPull(up, benchBlobs, upImage, digests, benchBlobSize)
	if err != nil {
		b.Fatalf("direct-upstream: %v", err)
	}
	cold, coldWall, err := bpPull(proxy, benchBlobs, upImage, digests, benchBlobSize)
	if err != nil {
		b.Fatalf("cold-proxy: %v", err)
	}
	// The hosted copy is pushed only now, so that the cold pull above
	// stored bytes the blob store did not have yet (a blob it has is
	// deduplicated, which saves the proxy its fsync).
	if err := bpPushImage(hosted, bpHostedImage, data, digests, config, manifest); err != nil {
		b.Fatalf("pushing to docker-hosted: %v", err)
	}
	// Every layer is cached now (the proxy stores before it completes a
	// response); one layer's content is checked outside the timed part.
	if cached := bpAssetPaths(s, "docker-proxy", "v2/"+bpUpImage+"/blobs/"); len(cached) != benchBlobs {
		b.Fatalf("docker-proxy caches %d layers after the cold pull, want %d: %v", len(cached), benchBlobs, cached)
	}
	if _, got, err := proxy.call(http.MethodGet, "/v2/"+bpUpImage+"/blobs/"+digests[1], nil, nil, http.StatusOK); err != nil {
		b.Fatal(err)
	} else if "sha256:"+sha(got) != digests[1] {
		b.Fatalf("docker-proxy: blob %s has content sha256:%s", digests[1], sha(got))
	}

	// The warm pulls: benchPullRounds rounds of every layer from each
	// repository, the repositories taking turns round by round (in a
	// rotating order) so that a change in the machine's load weighs on all
	// three alike.
	// They start on new connections: those of the cold pull, which the
	// proxy fed more slowly, have grown larger TCP windows than those
	// the hosted push used, and would favour the proxy.
	client.CloseIdleConnections()
	n := benchBlobs * benchPullRounds
	warm := []struct {
		name  string
		reg   *registry
		image func(int) string
		wall  time.Duration
	}{{"warm-hosted", hosted, hostedImage, 0}, {"warm-proxy", proxy, upImage, 0}, {"warm-group", group, groupImage, 0}}
	for round := 0; round < benchPullRounds; round++ {
		for k := range warm {
			w := &warm[(round+k)%len(warm)]
			_, wall, err := bpPull(w.reg, benchBlobs, w.image, digests, benchBlobSize)
			if err != nil {
				b.Fatalf("%s: %v", w.name, err)
			}
			w.wall += wall
		}
	}
	hostedWall, proxyWall, groupWall := warm[0].wall, warm[1].wall, warm[2].wall
	warmHosted := mbps(int64(n)*benchBlobSize, hostedWall)
	warmProxy := mbps(int64(n)*benchBlobSize, proxyWall)
	warmGroup := mbps(int64(n)*benchBlobSize, groupWall)
	// Each name lives in one member only: the hosted repository never saw
	// bench/img, and the proxy was never asked for bench/hosted (a group
	// member is asked only when the ones before it miss).
	if p := bpAssetPaths(s, "docker-hosted", "v2/"+bpUpImage+"/"); len(p) != 0 {
		b.Fatalf("docker-hosted has assets of %s: %v", bpUpImage, p)
	}
	if p := bpAssetPaths(s, "docker-proxy", "v2/"+bpHostedImage+"/"); len(p) != 0 {
		b.Fatalf("docker-proxy has assets of %s: %v", bpHostedImage, p)
	}

	hostedRPS, hostedP50, hostedP99, err := bpManifestGETs(hosted, benchManifestGET, hostedImage, manifest)
	if err != nil {
		b.Fatalf("hosted manifests: %v", err)
	}
	proxyRPS, proxyP50, proxyP99, err := bpManifestGETs(proxy, benchManifestGET, upImage, manifest)
	if err != nil {
		b.Fatalf("proxy manifests: %v", err)
	}
	groupRPS, groupP50, groupP99, err := bpManifestGETs(group, benchManifestGET, groupImage, manifest)
	if err != nil {
		b.Fatalf("group manifests: %v", err)
	}
	after := serverMem(b, s)

	proxyRatio, groupRatio, coldRatio := warmProxy/warmHosted, warmGroup/warmHosted, cold/direct
	b.ReportMetric(direct, "direct-upstream-MB/s")
	b.ReportMetric(cold, "cold-proxy-MB/s")
	b.ReportMetric(warmHosted, "warm-hosted-MB/s")
	b.ReportMetric(warmProxy, "warm-proxy-MB/s")
	b.ReportMetric(warmGroup, "warm-group-MB/s")
	b.ReportMetric(hostedRPS, "manifest-hosted-req/s")
	b.ReportMetric(proxyRPS, "manifest-proxy-req/s")
	b.ReportMetric(groupRPS, "manifest-group-req/s")
	b.ReportMetric(proxyRatio, "warm-proxy/hosted")
	b.ReportMetric(groupRatio, "warm-group/hosted")
	b.ReportMetric(coldRatio, "cold-proxy/upstream")
	b.ReportMetric(after.hwmMiB(), "rss-peak-MiB")
	b.Logf("docker proxy/group: %d x %d MiB by %d clients: direct-upstream %.0f MB/s (%v), cold-proxy %.0f MB/s (%v); "+
		"%d pulls: warm-hosted %.0f MB/s (%v), warm-proxy %.0f MB/s (%v), warm-group %.0f MB/s (%v; half by %s from docker-hosted, half by %s from docker-proxy)",
		benchBlobs, benchBlobSize>>20, benchClients, direct, directWall.Round(time.Millisecond), cold, coldWall.Round(time.Millisecond),
		n, warmHosted, hostedWall.Round(time.Millisecond), warmProxy, proxyWall.Round(time.Millisecond),
		warmGroup, groupWall.Round(time.Millisecond), bpHostedImage, bpUpImage)
	b.Logf("docker proxy/group: ratios warm-proxy/warm-hosted %s, warm-group/warm-hosted %s, cold-proxy/direct-upstream %s",
		target(proxyRatio, 0.90), target(groupRatio, 0.90), target(coldRatio, 0.85))
	b.Logf("docker proxy/group: %d manifest GETs by tag: hosted %.0f req/s (p50 %.2f ms, p99 %.2f ms), proxy %.0f req/s (p50 %.2f ms, p99 %.2f ms), group %.0f req/s (p50 %.2f ms, p99 %.2f ms)",
		benchManifestGET, hostedRPS, hostedP50, hostedP99, proxyRPS, proxyP50, proxyP99, groupRPS, groupP50, groupP99)
	b.Logf("docker proxy/group: server RSS %.1f MiB before the pulls, %.1f MiB after, peak %.1f MiB",
		idle.rssMiB(), after.rssMiB(), after.hwmMiB())
}
