package repo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"sync"
	"time"
)

// connTransport applies a proxy's connection settings to each request: its
// User-Agent, and retries of idempotent requests that failed or got a 5xx.
// Each attempt is an exchange of its own, under its own deadline.
type connTransport struct {
	next    http.RoundTripper
	agent   string
	retries int
}

// retryPause is the wait before retry n (0 for the first): short, as a
// client waits, and growing so a struggling upstream gets some air.
func retryPause(n int) time.Duration { return min(100*time.Millisecond<<n, time.Second) }

func (t *connTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context()) // a RoundTripper may not change its request
	req.Header.Set("User-Agent", t.agent)
	for attempt := 0; ; attempt++ {
		resp, err := t.next.RoundTrip(req)
		if attempt >= t.retries || !retriable(req, resp, err) {
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		select {
		case <-time.After(retryPause(attempt)):
		case <-req.Context().Done():
			return nil, context.Cause(req.Context())
		}
	}
}

// retriable reports whether an answer of req is worth asking again for:
// a failed exchange or a server error, for a request without a body that
// changes nothing, while its caller still waits.
func retriable(req *http.Request, resp *http.Response, err error) bool {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false
	}
	if (req.Body != nil && req.Body != http.NoBody) || req.Context().Err() != nil {
		return false
	}
	return err != nil || resp.StatusCode >= 500
}

// TrustPool is the truststore as proxies with useTrustStore see it.
type TrustPool interface {
	// Pool returns the roots to trust, the system's and the truststore's,
	// and a generation that changes whenever they do.
	Pool() (*x509.CertPool, uint64)
}

// trustedTransport is the transport of proxies that use the truststore: a
// clone of template trusting the pool's roots, replaced when the pool
// changes, so that an added certificate is trusted and a removed one no
// longer is from the next request on (the old transport's idle
// connections are closed, none is reused).
type trustedTransport struct {
	template *http.Transport
	pool     TrustPool

	mu  sync.Mutex
	gen uint64
	cur *http.Transport
}

func (t *trustedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.current().RoundTrip(req)
}

func (t *trustedTransport) current() *http.Transport {
	roots, gen := t.pool.Pool()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cur == nil || gen != t.gen {
		if t.cur != nil {
			t.cur.CloseIdleConnections()
		}
		t.cur = t.template.Clone()
		t.cur.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		t.gen = gen
	}
	return t.cur
}
