package main

import (
	"bytes"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// scrape is one parsed scrape: every sample as "name{k=v,…}" (labels
// sorted; a histogram as its _count and _sum) → value.
type scrape map[string]float64

func parseScrape(t *testing.T, body []byte) scrape {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the scrape: %v\n%.500s", err, body)
	}
	out := scrape{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name + "{" + labelString(m) + "}"
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[name+"_count{"+labelString(m)+"}"] = float64(m.Histogram.GetSampleCount())
				out[name+"_sum{"+labelString(m)+"}"] = m.Histogram.GetSampleSum()
			case m.Untyped != nil:
				out[key] = m.Untyped.GetValue()
			}
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var l []string
	for _, p := range m.GetLabel() {
		l = append(l, p.GetName()+"="+p.GetValue())
	}
	sort.Strings(l)
	return strings.Join(l, ",")
}

// labelValues returns every label value of the scrape's nexus_ series.
func labelValues(t *testing.T, body []byte) []string {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for name, f := range families {
		if !strings.HasPrefix(name, "nexus_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// scrapeMetrics reads /service/metrics/prometheus as c and requires 200.
func (s *nexusServer) scrapeMetrics(c *creds) []byte {
	s.t.Helper()
	res := s.do(http.MethodGet, "/service/metrics/prometheus", c, nil, http.Header{"Accept": {"text/plain;version=0.0.4"}})
	if res.status != http.StatusOK {
		s.t.Fatalf("scrape as %v: %d %s", c, res.status, res.body)
	}
	return res.body
}

// TestMetricsScrape scrapes the metrics before and after requests through
// a hosted, a proxy and a group raw repository and a Docker connector,
// and checks that the counters moved by exactly those requests, that no
// label value is a path, who may scrape, and the debug listener.
func TestMetricsScrape(t *testing.T) {
	up := newFakeUpstream(t, 1, 0)
	remote := randomBytes(t, 40<<10)
	up.set("/dir/remote.bin", remote)
	debugPort := testproc.FreePort(t)
	s := startServerEnv(t, "NEXUS_GO_HTTP_DEBUG_ADDR=127.0.0.1:"+strconv.Itoa(debugPort))
	s.createRepo("hosted", hostedRawH)
	s.createRepo("proxy", anonProxyBody("raw-p", up.srv.URL+"/", 1440))
	s.createRepo("group", groupRawG)
	dockerPort := testproc.FreePort(t)
	createDockerHosted(s, "docker-h", dockerPort)
	local := randomBytes(t, 30<<10)
	s.put("raw-h", "dir/local.bin", local)
	s.createRole("metrics-all", "nx-metrics-all")
	s.createUser("scraper", "scraper-password-1", "metrics-all")
	s.createRole("metrics-read", "nx-metrics-read")
	s.createUser("reader", "reader-password-1", "metrics-read")
	scraper := &creds{"scraper", "scraper-password-1"}

	// Who may scrape: nx-metrics-all (or nx-all) only.
	for _, c := range []struct {
		who  string
		c    *creds
		want int
	}{
		{"anonymous", nil, http.StatusUnauthorized},
		{"nx-metrics-read", &creds{"reader", "reader-password-1"}, http.StatusForbidden},
		{"nx-metrics-all", scraper, http.StatusOK},
		{"admin", s.admin(), http.StatusOK},
	} {
		if res := s.do(http.MethodGet, "/service/metrics/prometheus", c.c, nil, nil); res.status != c.want {
			t.Errorf("scrape as %s: %d, want %d", c.who, res.status, c.want)
		}
	}

	before := parseScrape(t, s.scrapeMetrics(scraper))
	for range 3 {
		s.getExpect("raw-h", "dir/local.bin", local)
	}
	s.getExpect("raw-p", "dir/remote.bin", remote) // a miss
	if !pollUntil(100, func() bool { return len(s.assets("raw-p")) == 1 }) {
		t.Fatal("the proxy did not cache its download")
	}
	s.getExpect("raw-p", "dir/remote.bin", remote) // a hit
	s.getExpect("raw-g", "dir/local.bin", local)   // the first member has it
	s.getExpect("raw-g", "dir/remote.bin", remote) // the second has it, cached: a hit
	if status, _, body, err := v2Get(dockerPort, "/v2/", s.admin()); err != nil || status != http.StatusOK {
		t.Fatalf("GET /v2/ on the connector: %d %s %v", status, body, err)
	}
	afterBody := s.scrapeMetrics(scraper)
	after := parseScrape(t, afterBody)

	moved := func(key string) float64 { return after[key] - before[key] }
	for key, want := range map[string]float64{
		`nexus_http_requests_total{code=2xx,format=raw,method=GET,repository=raw-h}`:              3,
		`nexus_http_request_duration_seconds_count{format=raw,method=GET,repository=raw-h}`:       3,
		`nexus_http_response_body_bytes_total{format=raw,repository=raw-h}`:                       float64(3 * len(local)),
		`nexus_http_request_body_bytes_total{format=raw,repository=raw-h}`:                        0,
		`nexus_http_requests_total{code=2xx,format=raw,method=GET,repository=raw-p}`:              2,
		`nexus_http_requests_total{code=2xx,format=raw,method=GET,repository=raw-g}`:              2,
		`nexus_http_requests_total{code=2xx,format=docker,method=GET,repository=docker-h}`:        1,
		`nexus_proxy_cache_misses_total{repository=raw-p}`:                                        1,
		`nexus_proxy_cache_hits_total{repository=raw-p}`:                                          2, // its own and the group's
		`nexus_proxy_upstream_request_duration_seconds_count{repository=raw-p}`:                   1,
		`nexus_proxy_upstream_errors_total{repository=raw-p}`:                                     0,
		`nexus_group_members_asked_count{repository=raw-g}`:                                       2,
		`nexus_group_members_asked_sum{repository=raw-g}`:                                         3,
		`nexus_http_requests_total{code=4xx,format=raw,method=GET,repository=raw-h}`:              0,
		`nexus_login_failures_total{credential=password}`:                                         0,
		`nexus_http_requests_total{code=2xx,format=raw,method=PUT,repository=raw-h}`:              0,
		`nexus_proxy_blocked{repository=raw-p}`:                                                   0,
		`nexus_blobstore_uploads_in_progress{blobstore=default}`:                                  0,
		`nexus_http_requests_total{code=5xx,format=raw,method=GET,repository=raw-p}`:              0,
		`nexus_http_requests_total{code=2xx,format=docker,method=GET,repository=}`:                0,
		`nexus_http_response_body_bytes_total{format=raw,repository=raw-p}`:                       float64(2 * len(remote)),
		`nexus_http_request_duration_seconds_count{format=raw,method=GET,repository=raw-g}`:       2,
		`nexus_http_request_duration_seconds_count{format=docker,method=GET,repository=docker-h}`: 1,
	} {
		if got := moved(key); got != want {
			t.Errorf("%s moved by %v, want %v (before %v, after %v)", key, got, want, before[key], after[key])
		}
	}
	if _, ok := after[`nexus_proxy_blocked{repository=raw-p}`]; !ok {
		t.Errorf("no nexus_proxy_blocked series for raw-p")
	}
	bs := s.blobStore()
	if got := after[`nexus_blobstore_blobs{blobstore=default}`]; got != float64(bs.BlobCount) {
		t.Errorf("nexus_blobstore_blobs = %v, the REST API says %d", got, bs.BlobCount)
	}
	if got := after[`nexus_blobstore_size_bytes{blobstore=default}`]; got != float64(bs.TotalSizeInBytes) {
		t.Errorf("nexus_blobstore_size_bytes = %v, the REST API says %d", got, bs.TotalSizeInBytes)
	}
	if after[`nexus_blobstore_free_bytes{blobstore=default}`] <= 0 {
		t.Errorf("no free space reported for the default store")
	}
	if after[`go_goroutines{}`] <= 0 || after[`process_resident_memory_bytes{}`] <= 0 {
		t.Errorf("the Go runtime and process metrics are missing")
	}
	for _, v := range labelValues(t, afterBody) {
		if strings.Contains(v, "/") || strings.Contains(v, ".bin") {
			t.Errorf("label value %q is (part of) a path", v)
		}
	}

	// The debug listener: the same metrics without credentials, and the
	// profiles, which the main port does not serve.
	debug := "http://127.0.0.1:" + strconv.Itoa(debugPort)
	for path, want := range map[string]string{"/metrics": "nexus_http_requests_total", "/debug/pprof/": "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile"} {
		res, err := readResult(s.client.Get(debug + path))
		if err != nil || res.status != http.StatusOK || !strings.Contains(string(res.body), want) {
			t.Errorf("debug listener %s: %d %v, want 200 with %q", path, res.status, err, want)
		}
	}
	if res, err := readResult(s.client.Get(debug + "/metrics")); err == nil {
		parseScrape(t, res.body)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/metrics"} {
		if res := s.do(http.MethodGet, path, s.admin(), nil, nil); res.status != http.StatusNotFound {
			t.Errorf("main port %s: %d, want 404", path, res.status)
		}
	}
}

// TestReadinessDrain: readiness answers 200 once the server is up, and
// 503 from SIGTERM until the listener closes, after shutdown.drain-delay;
// meanwhile other requests are still served. The process then exits
// cleanly.
func TestReadinessDrain(t *testing.T) {
	const drain = 3 * time.Second
	s := startServerEnv(t, "NEXUS_GO_SHUTDOWN_DRAIN_DELAY="+drain.String())
	ready := func() (int, error) {
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := c.Get(s.url("/service/rest/v1/status/ready"))
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if st, err := ready(); err != nil || st != http.StatusOK {
		t.Fatalf("readiness of a started server: %d %v, want 200", st, err)
	}
	s.client.CloseIdleConnections()
	began := time.Now()
	s.signal(syscall.SIGTERM)
	if !pollUntil(10, func() bool { st, _ := ready(); return st == http.StatusServiceUnavailable }) {
		t.Fatal("readiness did not answer 503 after SIGTERM")
	}
	if res := s.do(http.MethodGet, "/service/rest/v1/status", nil, nil, nil); res.status != http.StatusOK {
		t.Errorf("status while draining: %d, want 200", res.status)
	}
	select {
	case <-s.done:
	case <-time.After(drain + 20*time.Second):
		t.Fatal("the server did not exit after its drain")
	}
	if s.waitErr != nil {
		t.Fatalf("exit after SIGTERM: %v", s.waitErr)
	}
	if took := time.Since(began); took < drain {
		t.Errorf("the server exited %v after SIGTERM, before its drain delay of %v", took, drain)
	}
}
