package metrics

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The format label of requests to no repository, by where they went.
const (
	API   = "api"   // <context>/service/…: the REST API, the metrics endpoint
	UI    = "ui"    // <context>/ and /ui/…
	Other = "other" // anything else: unknown repositories, stray paths
)

// methods are the method label's values; any other method is "OTHER", so
// that a client cannot make up series.
var methods = [...]string{"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "OTHER"}

func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPut:
		return 2
	case http.MethodPost:
		return 3
	case http.MethodDelete:
		return 4
	case http.MethodPatch:
		return 5
	case http.MethodOptions:
		return 6
	}
	return 7
}

// classes are the code label's values.
var classes = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func classIndex(status int) int {
	return min(max(status/100, 1), 5) - 1
}

type routeKey struct{ repository, format string }

// Route is the request series of one repository, or of one kind of other
// route (repository ""). Its children are resolved on first use and kept,
// so a request costs a few atomic adds, not a label lookup; only the
// combinations that occur are exported.
type Route struct {
	m        *Metrics
	key      routeKey
	requests [len(methods)][len(classes)]atomic.Pointer[prometheus.Counter]
	duration [len(methods)]atomic.Pointer[prometheus.Observer]
	received prometheus.Counter
	sent     prometheus.Counter
}

// Repository is the route of requests to repository name of format.
func (m *Metrics) Repository(name, format string) *Route {
	return m.route(routeKey{name, format})
}

// Fixed is the route of requests to no repository: API, UI, Other, or a
// format's endpoints that span its repositories (Docker's /v2/ and
// catalog).
func (m *Metrics) Fixed(kind string) *Route {
	return m.route(routeKey{"", kind})
}

func (m *Metrics) route(k routeKey) *Route {
	if r, ok := (*m.routes.Load())[k]; ok {
		return r
	}
	m.routeMu.Lock()
	defer m.routeMu.Unlock()
	old := *m.routes.Load()
	if r, ok := old[k]; ok {
		return r
	}
	r := &Route{m: m, key: k, received: m.received.WithLabelValues(k.repository, k.format),
		sent: m.sent.WithLabelValues(k.repository, k.format)}
	next := make(map[routeKey]*Route, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = r
	m.routes.Store(&next)
	return r
}

// Observe records one answered request: its method, final status, time
// taken and body bytes read and sent.
func (r *Route) Observe(method string, status int, took time.Duration, received, sent int64) {
	mi := methodIndex(method)
	r.counter(mi, classIndex(status)).Inc()
	r.observer(mi).Observe(took.Seconds())
	if received > 0 {
		r.received.Add(float64(received))
	}
	if sent > 0 {
		r.sent.Add(float64(sent))
	}
}

func (r *Route) counter(mi, ci int) prometheus.Counter {
	if c := r.requests[mi][ci].Load(); c != nil {
		return *c
	}
	// Resolved twice at worst, to the same child.
	c := r.m.requests.WithLabelValues(r.key.repository, r.key.format, methods[mi], classes[ci])
	r.requests[mi][ci].Store(&c)
	return c
}

func (r *Route) observer(mi int) prometheus.Observer {
	if o := r.duration[mi].Load(); o != nil {
		return *o
	}
	o := r.m.duration.WithLabelValues(r.key.repository, r.key.format, methods[mi])
	r.duration[mi].Store(&o)
	return o
}

// CountingBody counts the bytes read from a request body, for Observe.
type CountingBody struct {
	io.ReadCloser
	N int64
}

func (b *CountingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.N += int64(n)
	return n, err
}
