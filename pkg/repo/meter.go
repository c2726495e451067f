package repo

import (
	"net/http"
	"time"
)

// Meter is told what the engine does that operators count: pkg/metrics
// implements it with Prometheus collectors, so that the engine reports
// every format's proxies and groups from one place without depending on
// a metrics library. Its methods run on the request path: they must be
// cheap and safe for concurrent use.
type Meter interface {
	// ProxyLookup tells of a proxy looking up content in its cache: hit
	// when it answered without asking its upstream (a cached copy, or a
	// 404 the negative cache remembers), a miss when it needed the
	// upstream (a download, a revalidation, or an upstream it cannot
	// ask).
	ProxyLookup(repository string, hit bool)
	// UpstreamExchange tells of one request of a proxy to its upstream:
	// how long until its answer (the headers), and whether it failed (no
	// answer, or 5xx or 429: the failures auto-blocking counts).
	UpstreamExchange(repository string, took time.Duration, failed bool)
	// GroupLookup tells how many members a group asked for one lookup.
	GroupLookup(group string, membersAsked int)
}

// nopMeter is the Meter of a manager given none (tests, tools).
type nopMeter struct{}

func (nopMeter) ProxyLookup(string, bool)                     {}
func (nopMeter) UpstreamExchange(string, time.Duration, bool) {}
func (nopMeter) GroupLookup(string, int)                      {}

// meteredTransport tells the Meter of every exchange of one proxy with its
// upstream. It sits under the format's transport, so a format's own
// exchanges (Docker's token fetches) count too, and over the retries and
// deadlines, so an exchange counts once, as long as all its attempts took.
type meteredTransport struct {
	next       http.RoundTripper
	repository string
	meter      Meter
}

func (t *meteredTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	took := time.Since(start)
	if err != nil && req.Context().Err() != nil {
		// The caller went away (a forwarded search's client): not the
		// upstream's failure, nor a latency worth recording.
		return resp, err
	}
	failed := err != nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
	t.meter.UpstreamExchange(t.repository, took, failed)
	return resp, err
}
