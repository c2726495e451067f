// Package metrics owns the server's Prometheus metrics: a registry of its
// own (not the process-wide default, so that tests can run several servers
// in one process), the counters the HTTP side and the engine report to,
// and the collectors that read the engine's state at scrape time.
//
// Label values are bounded: repository, blob store and webhook names (of
// ones that exist), fixed names of the other routes, methods and status
// classes from short lists. Paths are never a label.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// Privilege is what the main port's endpoint requires, as Nexus's
// /service/metrics/prometheus does: nx-metrics-all (held through nx-all
// by admins).
var Privilege = auth.Application("metrics", "all")

// latencyBuckets are the upper bounds, in seconds, of the latency
// histograms: from a cached checksum (milliseconds) to a layer of a few
// GiB (minutes).
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// memberBuckets are the upper bounds of the members a group asks per
// lookup.
var memberBuckets = []float64{1, 2, 3, 4, 6, 8, 12, 16, 32}

// Metrics is the registry of one server and what reports to it. It is a
// repo.Meter and an auth.LoginMeter.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec   // repository, format, method, code
	duration *prometheus.HistogramVec // repository, format, method
	received *prometheus.CounterVec   // repository, format
	sent     *prometheus.CounterVec   // repository, format

	cacheHits        *prometheus.CounterVec   // repository
	cacheMisses      *prometheus.CounterVec   // repository
	upstreamErrors   *prometheus.CounterVec   // repository
	upstreamDuration *prometheus.HistogramVec // repository
	groupMembers     *prometheus.HistogramVec // repository
	loginFailures    *prometheus.CounterVec   // credential

	// routes are the request series by route, copied on write: read on
	// every request without a lock, added to once per route.
	routes  atomic.Pointer[map[routeKey]*Route]
	routeMu sync.Mutex
	// proxies and groups are the engine's series by repository, likewise.
	proxies  atomic.Pointer[map[string]*proxySeries]
	groups   atomic.Pointer[map[string]prometheus.Observer]
	seriesMu sync.Mutex
}

// New returns the metrics of a server, with the Go runtime's and the
// process's collectors registered.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	repoLabels := []string{"repository", "format"}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_http_requests_total",
		Help: "HTTP requests answered, by repository (empty for other routes), format (or api, ui, other), method and status class."},
		append(repoLabels, "method", "code"))
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nexus_http_request_duration_seconds",
		Help: "Time from a request's arrival to the end of its answer, by repository, format and method.", Buckets: latencyBuckets},
		append(repoLabels, "method"))
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_http_request_body_bytes_total",
		Help: "Bytes of request bodies read, by repository and format."}, repoLabels)
	m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_http_response_body_bytes_total",
		Help: "Bytes of response bodies sent, by repository and format."}, repoLabels)
	m.cacheHits = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_proxy_cache_hits_total",
		Help: "Lookups a proxy answered from its cache (content, or a remembered 404) without its upstream."}, []string{"repository"})
	m.cacheMisses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_proxy_cache_misses_total",
		Help: "Lookups a proxy needed its upstream for (download, revalidation, or an upstream it could not ask)."}, []string{"repository"})
	m.upstreamErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_proxy_upstream_errors_total",
		Help: "Exchanges of a proxy with its upstream that got no answer, or 5xx or 429."}, []string{"repository"})
	m.upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nexus_proxy_upstream_request_duration_seconds",
		Help: "Time of a proxy's upstream exchanges until the answer's headers.", Buckets: latencyBuckets}, []string{"repository"})
	m.groupMembers = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "nexus_group_members_asked",
		Help: "Members a group asked per lookup; the sum is the member requests.", Buckets: memberBuckets}, []string{"repository"})
	m.loginFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "nexus_login_failures_total",
		Help: "Refused logins, by credential: password or token."}, []string{"credential"})
	m.reg.MustRegister(m.requests, m.duration, m.received, m.sent, m.cacheHits, m.cacheMisses, m.upstreamErrors,
		m.upstreamDuration, m.groupMembers, m.loginFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.routes.Store(&map[routeKey]*Route{})
	m.proxies.Store(&map[string]*proxySeries{})
	m.groups.Store(&map[string]prometheus.Observer{})
	return m
}

// Registry is the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's formats to anyone: the debug
// listener's /metrics.
func (m *Metrics) Handler(log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError, // one failing collector does not hide the rest
		Timeout:       scrapeTimeout,
	})
}

// Protected is Handler for callers holding Privilege, the main port's
// /service/metrics/prometheus: the service decides, as every service of
// the server does, and others are answered as the REST API answers them
// (401 with the Basic challenge, or 403).
func (m *Metrics) Protected(authz repo.Authorizer, log *slog.Logger) http.Handler {
	h := m.Handler(log)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if err := authz.Require(req.Context(), Privilege); err != nil {
			serve.Error(w, req, log, err)
			return
		}
		h.ServeHTTP(w, req)
	})
}

// scrapeTimeout bounds a scrape, the state collectors' reads included.
const scrapeTimeout = 20 * time.Second

// LoginFailed counts a refused login (auth.LoginMeter).
func (m *Metrics) LoginFailed(credential string) {
	m.loginFailures.WithLabelValues(credential).Inc()
}

// proxySeries are one proxy's engine series, resolved once.
type proxySeries struct {
	hits, misses, errors prometheus.Counter
	upstream             prometheus.Observer
}

func (m *Metrics) proxy(name string) *proxySeries {
	if s, ok := (*m.proxies.Load())[name]; ok {
		return s
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	old := *m.proxies.Load()
	if s, ok := old[name]; ok {
		return s
	}
	s := &proxySeries{hits: m.cacheHits.WithLabelValues(name), misses: m.cacheMisses.WithLabelValues(name),
		errors: m.upstreamErrors.WithLabelValues(name), upstream: m.upstreamDuration.WithLabelValues(name)}
	next := make(map[string]*proxySeries, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = s
	m.proxies.Store(&next)
	return s
}

// ProxyLookup counts a proxy's cache hit or miss (repo.Meter).
func (m *Metrics) ProxyLookup(repository string, hit bool) {
	s := m.proxy(repository)
	if hit {
		s.hits.Inc()
	} else {
		s.misses.Inc()
	}
}

// UpstreamExchange records a proxy's upstream exchange (repo.Meter).
func (m *Metrics) UpstreamExchange(repository string, took time.Duration, failed bool) {
	s := m.proxy(repository)
	s.upstream.Observe(took.Seconds())
	if failed {
		s.errors.Inc()
	}
}

// GroupLookup records the members a group asked (repo.Meter).
func (m *Metrics) GroupLookup(group string, asked int) {
	o, ok := (*m.groups.Load())[group]
	if !ok {
		m.seriesMu.Lock()
		old := *m.groups.Load()
		if o, ok = old[group]; !ok {
			o = m.groupMembers.WithLabelValues(group)
			next := make(map[string]prometheus.Observer, len(old)+1)
			for k, v := range old {
				next[k] = v
			}
			next[group] = o
			m.groups.Store(&next)
		}
		m.seriesMu.Unlock()
	}
	o.Observe(float64(asked))
}

// Watch registers the collector of repos' state (blob stores, uploads in
// progress, blocked proxies), read at each scrape, and keeps the series
// of repositories in step with repos: those of a deleted repository go
// with it, so that names never accumulate.
func (m *Metrics) Watch(repos *repo.Manager) {
	m.reg.MustRegister(newStateCollector(repos))
	repos.Observe(&forgetter{m: m, repos: repos})
}

// forgetter drops the series of repositories that no longer exist (a
// repo.Observer).
type forgetter struct {
	m     *Metrics
	repos *repo.Manager
}

func (f *forgetter) Check(repo.Config) error { return nil }

func (f *forgetter) Changed() {
	formats := map[string]string{}
	for _, r := range f.repos.List() {
		formats[r.Name()] = r.Format().Name()
	}
	f.m.forget(func(name, format string) bool {
		current, ok := formats[name]
		return !ok || (format != "" && current != format)
	})
}

// forget deletes every repository series gone says is gone (for the
// engine's series, format is "").
func (m *Metrics) forget(gone func(name, format string) bool) {
	m.routeMu.Lock()
	routes := *m.routes.Load()
	next := make(map[routeKey]*Route, len(routes))
	for k, r := range routes {
		if k.repository != "" && gone(k.repository, k.format) {
			labels := prometheus.Labels{"repository": k.repository, "format": k.format}
			m.requests.DeletePartialMatch(labels)
			m.duration.DeletePartialMatch(labels)
			m.received.DeletePartialMatch(labels)
			m.sent.DeletePartialMatch(labels)
			continue
		}
		next[k] = r
	}
	m.routes.Store(&next)
	m.routeMu.Unlock()

	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	proxies := map[string]*proxySeries{}
	for name, s := range *m.proxies.Load() {
		if !gone(name, "") {
			proxies[name] = s
			continue
		}
		labels := prometheus.Labels{"repository": name}
		m.cacheHits.DeletePartialMatch(labels)
		m.cacheMisses.DeletePartialMatch(labels)
		m.upstreamErrors.DeletePartialMatch(labels)
		m.upstreamDuration.DeletePartialMatch(labels)
	}
	m.proxies.Store(&proxies)
	groups := map[string]prometheus.Observer{}
	for name, o := range *m.groups.Load() {
		if !gone(name, "") {
			groups[name] = o
			continue
		}
		m.groupMembers.DeletePartialMatch(prometheus.Labels{"repository": name})
	}
	m.groups.Store(&groups)
}

// stateContext is the context of a scrape's reads of the engine: the
// system's, since the scrape itself was authorized (or is the debug
// listener's), bounded as the scrape is.
func stateContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(auth.WithPrincipal(context.Background(), auth.System()), scrapeTimeout)
}
