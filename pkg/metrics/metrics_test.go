package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/managertest"
)

var discard = slog.New(slog.DiscardHandler)

// series gathers m and returns every series of the family name as its
// labels ("k=v,k=v", sorted) → value (a counter's or gauge's, a
// histogram's count).
func series(t *testing.T, m *Metrics, name string) map[string]float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			out[labelsOf(s)] = valueOf(s)
		}
	}
	return out
}

func labelsOf(s *dto.Metric) string {
	var l []string
	for _, p := range s.GetLabel() {
		l = append(l, p.GetName()+"="+p.GetValue())
	}
	sort.Strings(l)
	return strings.Join(l, ",")
}

func valueOf(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	}
	return -1
}

func wantSeries(t *testing.T, m *Metrics, name string, want map[string]float64) {
	t.Helper()
	got := series(t, m, name)
	if len(got) != len(want) {
		t.Errorf("%s: %v, want %v", name, got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", name, got, want)
			return
		}
	}
}

// Requests count by repository, format, method and status class; unknown
// methods and odd statuses fall into fixed values; only what occurred is
// exported, and the bytes add up.
func TestRouteObserve(t *testing.T) {
	m := New()
	h := m.Repository("raw-h", "raw")
	if m.Repository("raw-h", "raw") != h {
		t.Fatal("a route is not kept")
	}
	for range 3 {
		h.Observe(http.MethodGet, http.StatusOK, time.Millisecond, 0, 100)
	}
	h.Observe(http.MethodPut, http.StatusCreated, time.Second, 5000, 0)
	h.Observe("BREW", 418, time.Millisecond, 0, 0)
	h.Observe(http.MethodGet, 600, time.Millisecond, 0, 0)
	m.Fixed(API).Observe(http.MethodGet, 101, time.Millisecond, 0, 2)
	wantSeries(t, m, "nexus_http_requests_total", map[string]float64{
		"code=2xx,format=raw,method=GET,repository=raw-h":   3,
		"code=2xx,format=raw,method=PUT,repository=raw-h":   1,
		"code=4xx,format=raw,method=OTHER,repository=raw-h": 1,
		"code=5xx,format=raw,method=GET,repository=raw-h":   1,
		"code=1xx,format=api,method=GET,repository=":        1,
	})
	wantSeries(t, m, "nexus_http_request_duration_seconds", map[string]float64{
		"format=raw,method=GET,repository=raw-h":   4,
		"format=raw,method=PUT,repository=raw-h":   1,
		"format=raw,method=OTHER,repository=raw-h": 1,
		"format=api,method=GET,repository=":        1,
	})
	wantSeries(t, m, "nexus_http_request_body_bytes_total", map[string]float64{
		"format=raw,repository=raw-h": 5000, "format=api,repository=": 0})
	wantSeries(t, m, "nexus_http_response_body_bytes_total", map[string]float64{
		"format=raw,repository=raw-h": 300, "format=api,repository=": 2})
}

// What the engine and auth report lands in the proxy, group and login
// series.
func TestEngineAndLoginSeries(t *testing.T) {
	m := New()
	var _ repo.Meter = m
	var _ auth.LoginMeter = m
	m.ProxyLookup("p", false)
	m.ProxyLookup("p", true)
	m.ProxyLookup("p", true)
	m.UpstreamExchange("p", 20*time.Millisecond, false)
	m.UpstreamExchange("p", time.Second, true)
	m.GroupLookup("g", 1)
	m.GroupLookup("g", 3)
	m.LoginFailed(auth.CredentialPassword)
	m.LoginFailed(auth.CredentialPassword)
	m.LoginFailed(auth.CredentialToken)
	wantSeries(t, m, "nexus_proxy_cache_hits_total", map[string]float64{"repository=p": 2})
	wantSeries(t, m, "nexus_proxy_cache_misses_total", map[string]float64{"repository=p": 1})
	wantSeries(t, m, "nexus_proxy_upstream_errors_total", map[string]float64{"repository=p": 1})
	wantSeries(t, m, "nexus_proxy_upstream_request_duration_seconds", map[string]float64{"repository=p": 2})
	wantSeries(t, m, "nexus_group_members_asked", map[string]float64{"repository=g": 2})
	wantSeries(t, m, "nexus_login_failures_total", map[string]float64{"credential=password": 2, "credential=token": 1})
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "nexus_group_members_asked" {
			if sum := f.GetMetric()[0].GetHistogram().GetSampleSum(); sum != 4 {
				t.Errorf("members asked in all: %v, want 4", sum)
			}
		}
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if len(series(t, m, name)) != 1 {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
}

// The state collector reads blob store usage, uploads in progress and
// proxy blocks at each scrape.
func TestStateCollector(t *testing.T) {
	m := New()
	e := managertest.New(t, nil, repo.Options{Meter: m}, raw.New(discard))
	m.Watch(e.M)
	h := e.Create(`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
	e.Create(`{"name":"raw-p","format":"raw","type":"proxy","online":true,"storage":{"blobStoreName":"default"},
		"proxy":{"remoteUrl":"http://127.0.0.1:1/","contentMaxAge":1440,"metadataMaxAge":1440},"httpClient":{"blocked":true,"autoBlock":true}}`)
	ctx := context.Background()
	for _, body := range []string{"twelve bytes", "twelve bytes", "five!"} {
		if _, err := h.Put(ctx, "f-"+body, strings.NewReader(body), repo.PutOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.(repo.Uploader).NewUpload(ctx); err != nil {
		t.Fatal(err)
	}
	wantSeries(t, m, "nexus_blobstore_blobs", map[string]float64{"blobstore=default": 2})
	wantSeries(t, m, "nexus_blobstore_size_bytes", map[string]float64{"blobstore=default": 17})
	wantSeries(t, m, "nexus_blobstore_uploads_in_progress", map[string]float64{"blobstore=default": 1})
	if free := series(t, m, "nexus_blobstore_free_bytes")["blobstore=default"]; free <= 0 {
		t.Errorf("free bytes of the default store: %v", free)
	}
	wantSeries(t, m, "nexus_proxy_blocked", map[string]float64{"repository=raw-p": 1})
	wantSeries(t, m, "nexus_proxy_auto_blocked", map[string]float64{"repository=raw-p": 0})
}

// Deleting a repository deletes its series, so that names do not pile up;
// those of the others stay.
func TestDeletedRepositoryIsForgotten(t *testing.T) {
	m := New()
	e := managertest.New(t, nil, repo.Options{Meter: m}, raw.New(discard))
	m.Watch(e.M)
	for _, name := range []string{"gone", "kept"} {
		e.Create(`{"name":"` + name + `","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`)
		m.Repository(name, "raw").Observe(http.MethodGet, http.StatusOK, time.Millisecond, 0, 1)
		m.ProxyLookup(name, true)
		m.GroupLookup(name, 1)
	}
	m.Fixed(UI).Observe(http.MethodGet, http.StatusOK, time.Millisecond, 0, 1)
	if err := e.M.Delete(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	wantSeries(t, m, "nexus_http_requests_total", map[string]float64{
		"code=2xx,format=raw,method=GET,repository=kept": 1, "code=2xx,format=ui,method=GET,repository=": 1})
	wantSeries(t, m, "nexus_http_response_body_bytes_total", map[string]float64{
		"format=raw,repository=kept": 1, "format=ui,repository=": 1})
	wantSeries(t, m, "nexus_proxy_cache_hits_total", map[string]float64{"repository=kept": 1})
	wantSeries(t, m, "nexus_group_members_asked", map[string]float64{"repository=kept": 1})
	// A route of the deleted name made again starts from nothing.
	m.Repository("gone", "raw").Observe(http.MethodGet, http.StatusOK, time.Millisecond, 0, 0)
	if v := series(t, m, "nexus_http_requests_total")["code=2xx,format=raw,method=GET,repository=gone"]; v != 1 {
		t.Errorf("requests of a route made again: %v, want 1", v)
	}
}

// deciding is an authorizer that answers err.
type deciding struct{ err error }

func (d deciding) Require(context.Context, auth.Privilege) error { return d.err }

// Protected serves the metrics only to callers the authorizer lets
// through, answering the others as the REST API does.
func TestProtected(t *testing.T) {
	m := New()
	m.LoginFailed(auth.CredentialToken)
	for _, c := range []struct {
		err  error
		want int
	}{
		{errs.New(errs.Unauthorized, "authentication required"), http.StatusUnauthorized},
		{errs.New(errs.Forbidden, "lacks nx-metrics-all"), http.StatusForbidden},
		{nil, http.StatusOK},
	} {
		w := httptest.NewRecorder()
		m.Protected(deciding{c.err}, discard).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/service/metrics/prometheus", nil))
		body, _ := io.ReadAll(w.Body)
		if w.Code != c.want {
			t.Errorf("authorizer answering %v: %d, want %d", c.err, w.Code, c.want)
		}
		served := strings.Contains(string(body), `nexus_login_failures_total{credential="token"} 1`)
		if served != (c.want == http.StatusOK) {
			t.Errorf("authorizer answering %v: metrics served %v:\n%.300s", c.err, served, body)
		}
		if c.want == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("401 without the Basic challenge: %v", w.Header())
		}
	}
}

// BenchmarkRouteObserve is the cost of recording one request: atomic adds
// on children resolved before, no label lookup, no allocation (the
// figures are in docs/operations.md).
func BenchmarkRouteObserve(b *testing.B) {
	m := New()
	r := m.Repository("raw-h", "raw")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.Observe(http.MethodGet, http.StatusOK, time.Millisecond, 0, 1024)
		}
	})
}
