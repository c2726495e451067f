package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
)

// fetch sends method url with basic credentials (user "" for none) and
// returns the status, headers and body.
func fetch(t *testing.T, method, url, user, pass string, body string) (int, http.Header, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// nexusSeries gathers every nexus_ series of m as "name{k=v,…}" (labels
// sorted) → value (a histogram's count).
func nexusSeries(t *testing.T, m *metrics.Metrics) map[string]float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "nexus_") {
			continue
		}
		for _, s := range f.GetMetric() {
			var l []string
			for _, p := range s.GetLabel() {
				l = append(l, p.GetName()+"="+p.GetValue())
			}
			sort.Strings(l)
			v := s.GetCounter().GetValue() + s.GetGauge().GetValue() + float64(s.GetHistogram().GetSampleCount())
			out[f.GetName()+"{"+strings.Join(l, ",")+"}"] = v
		}
	}
	return out
}

// Every request of the main port and of a connector counts under its
// repository, or the fixed name of its route; bytes are counted both
// ways; names of repositories that do not exist and paths never become
// label values.
func TestRequestMetricsByRoute(t *testing.T) {
	s := startTestServer(t, nil)
	base := "http://" + s.main
	if st, _, _ := fetch(t, http.MethodPut, base+"/repository/raw-h/dir/a.txt", "admin", s.adminPW, "0123456789"); st != http.StatusCreated {
		t.Fatalf("PUT: %d", st)
	}
	for range 3 {
		if st, _, b := fetch(t, http.MethodGet, base+"/repository/raw-h/dir/a.txt", "admin", s.adminPW, ""); st != http.StatusOK || b != "0123456789" {
			t.Fatalf("GET: %d %q", st, b)
		}
	}
	fetch(t, http.MethodGet, base+"/repository/raw-h/missing/"+strings.Repeat("x", 20), "admin", s.adminPW, "")
	fetch(t, http.MethodGet, base+"/repository/no-such-repo-1/x", "admin", s.adminPW, "")
	fetch(t, http.MethodGet, base+"/repository/no-such-repo-2/x", "", "", "")
	fetch(t, http.MethodGet, base+"/service/rest/v1/status", "", "", "")
	fetch(t, http.MethodGet, base+"/ui/caller", "", "", "")
	fetch(t, http.MethodGet, base+"/stray/path", "", "", "")
	fetch(t, http.MethodGet, base+"/v2/", "", "", "")
	fetch(t, http.MethodGet, base+"/v2/docker-h/app/tags/list", "admin", s.adminPW, "")
	fetch(t, http.MethodGet, "http://"+s.connector+"/v2/", "admin", s.adminPW, "")
	fetch(t, "BREW", base+"/repository/raw-h/pot", "admin", s.adminPW, "")

	got := nexusSeries(t, s.metrics)
	for k, want := range map[string]float64{
		`nexus_http_requests_total{code=2xx,format=raw,method=PUT,repository=raw-h}`:       1,
		`nexus_http_requests_total{code=2xx,format=raw,method=GET,repository=raw-h}`:       3,
		`nexus_http_requests_total{code=4xx,format=raw,method=GET,repository=raw-h}`:       1,
		`nexus_http_requests_total{code=4xx,format=raw,method=OTHER,repository=raw-h}`:     1,
		`nexus_http_requests_total{code=4xx,format=other,method=GET,repository=}`:          3,
		`nexus_http_requests_total{code=2xx,format=api,method=GET,repository=}`:            1,
		`nexus_http_requests_total{code=2xx,format=ui,method=GET,repository=}`:             1,
		`nexus_http_requests_total{code=4xx,format=docker,method=GET,repository=}`:         1,
		`nexus_http_requests_total{code=4xx,format=docker,method=GET,repository=docker-h}`: 1,
		`nexus_http_requests_total{code=2xx,format=docker,method=GET,repository=docker-h}`: 1,
		`nexus_http_request_duration_seconds{format=raw,method=GET,repository=raw-h}`:      4,
		`nexus_http_request_body_bytes_total{format=raw,repository=raw-h}`:                 10,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	// The 404 and the 405 have bodies of their own besides the downloads.
	if k := `nexus_http_response_body_bytes_total{format=raw,repository=raw-h}`; got[k] < 30 {
		t.Errorf("%s = %v, want at least the 30 bytes downloaded", k, got[k])
	}
	for k := range got {
		if strings.Contains(k, "/") || strings.Contains(k, "no-such-repo") || strings.Contains(k, "xxxx") {
			t.Errorf("a path or an unknown name became a label value: %s", k)
		}
	}
}

// The main port's endpoint serves the metrics to holders of
// nx-metrics-all only; anonymous callers are challenged.
func TestMetricsEndpoint(t *testing.T) {
	s := startTestServer(t, nil)
	url := "http://" + s.main + "/service/metrics/prometheus"
	if st, h, _ := fetch(t, http.MethodGet, url, "", "", ""); st != http.StatusUnauthorized || h.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous scrape: %d %v, want 401 with a challenge", st, h)
	}
	if st, _, _ := fetch(t, http.MethodGet, url, "admin", "wrong", ""); st != http.StatusUnauthorized {
		t.Errorf("scrape with a wrong password: %d, want 401", st)
	}
	st, h, body := fetch(t, http.MethodGet, url, "admin", s.adminPW, "")
	if st != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") ||
		!strings.Contains(body, `nexus_login_failures_total{credential="password"} 1`) || !strings.Contains(body, "go_goroutines") {
		t.Errorf("admin scrape: %d %v\n%.500s", st, h, body)
	}
}

// The debug listener serves the metrics without authentication and Go's
// profiles; the main port serves no profile.
func TestDebugListener(t *testing.T) {
	s := startTestServer(t, func(c *config.Config) { c.DebugAddr = "127.0.0.1:0" })
	debug := "http://" + s.debug
	if st, _, body := fetch(t, http.MethodGet, debug+"/metrics", "", "", ""); st != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("debug /metrics: %d\n%.300s", st, body)
	}
	if st, _, body := fetch(t, http.MethodGet, debug+"/debug/pprof/", "", "", ""); st != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("debug /debug/pprof/: %d\n%.300s", st, body)
	}
	if st, _, body := fetch(t, http.MethodGet, debug+"/debug/pprof/heap?debug=1", "", "", ""); st != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("debug heap profile: %d\n%.300s", st, body)
	}
	if st, _, _ := fetch(t, http.MethodGet, debug+"/repository/raw-h/", "", "", ""); st != http.StatusNotFound {
		t.Errorf("a repository on the debug listener: %d, want 404", st)
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/metrics"} {
		if st, _, _ := fetch(t, http.MethodGet, "http://"+s.main+p, "admin", s.adminPW, ""); st != http.StatusNotFound {
			t.Errorf("main port %s: %d, want 404", p, st)
		}
	}
}

// Readiness answers 503 before Serve has the repositories and connectors
// up, 200 while serving, 503 again while draining after the shutdown
// began, when everything else is still answered; then the listener
// closes.
func TestReadiness(t *testing.T) {
	const drain = 1500 * time.Millisecond
	s := newTestServer(t, func(c *config.Config) { c.DrainDelay = drain }, nil)
	ready := "http://" + s.main + "/service/rest/v1/status/ready"
	w := httptest.NewRecorder()
	s.srv.http.Handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/service/rest/v1/status/ready", nil))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("readiness before Serve: %d, want 503", w.Code)
	}
	s.serve()
	if st, _, _ := fetch(t, http.MethodGet, ready, "", "", ""); st != http.StatusOK {
		t.Fatalf("readiness while serving: %d, want 200", st)
	}
	began := time.Now()
	s.shutdown()
	deadline := time.Now().Add(drain / 2)
	for {
		st, _, _ := fetch(t, http.MethodGet, ready, "", "", "")
		if st == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness after the shutdown began: %d, want 503", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := http.Get("http://" + s.main + "/service/rest/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Close: the client read "Connection: close" (and took the header out).
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("status while draining: %d, close %v; want 200 and the connection closed", resp.StatusCode, resp.Close)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if took := time.Since(began); took < drain {
		t.Errorf("the listeners closed %v after the shutdown began, before the drain delay of %v", took, drain)
	}
	if _, err := http.Get(ready); err == nil {
		t.Errorf("the main port still answers after Serve returned")
	}
}

// BenchmarkMeasure is the cost of the metrics middleware on a request to
// a repository: the same echo route with and without it.
func BenchmarkMeasure(b *testing.B) {
	log := slog.New(slog.DiscardHandler)
	e := managertest.New(b, nil, repo.Options{}, raw.New(log))
	e.Create(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	s := &Server{repos: e.M, metrics: metrics.New()}
	handler := func(c echo.Context) error { return c.String(http.StatusOK, "ok") }
	for _, bc := range []struct {
		name string
		mw   []echo.MiddlewareFunc
	}{{"bare", nil}, {"measured", []echo.MiddlewareFunc{s.measure}}} {
		b.Run(bc.name, func(b *testing.B) {
			ec := echo.New()
			ec.Use(bc.mw...)
			ec.GET("/repository/*", handler)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest(http.MethodGet, "/repository/raw-h/dir/file.bin", nil)
				for pb.Next() {
					w := httptest.NewRecorder()
					ec.ServeHTTP(w, req)
				}
			})
		})
	}
}
