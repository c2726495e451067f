package repo

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// Bounds of upstream exchanges when Options leave them zero; they match
// the defaults of proxy.timeout and proxy.connect-timeout.
const (
	defaultProxyTimeout        = 60 * time.Second
	defaultProxyConnectTimeout = 10 * time.Second
	// maxRedirects is how many redirects one upstream request follows.
	maxRedirects = 5
	// userAgent is what proxies call themselves upstream; a connection's
	// userAgentSuffix follows it.
	userAgent = "nexus-go"
)

// upstreamClients makes the client of each proxy: the connections are
// shared (one transport trusting the system's roots, one trusting the
// truststore's certificates too), the rest is the proxy's own connection
// settings (timeout, retries, User-Agent, redirects, cookies).
type upstreamClients struct {
	timeout time.Duration
	plain   *http.Transport
	trusted http.RoundTripper // nil without a truststore
}

func newUpstreamClients(timeout, connectTimeout time.Duration, trust TrustPool) *upstreamClients {
	if timeout <= 0 {
		timeout = defaultProxyTimeout
	}
	if connectTimeout <= 0 {
		connectTimeout = defaultProxyConnectTimeout
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext
	transport.MaxIdleConnsPerHost = 32
	// Content is stored as the upstream sent it; transparent decompression
	// would change the bytes and their digests.
	transport.DisableCompression = true
	u := &upstreamClients{timeout: timeout, plain: transport}
	if trust != nil {
		u.trusted = &trustedTransport{template: transport, pool: trust}
	}
	return u
}

// client is the client of a proxy configured with cfg. Each exchange
// through it has a deadline (see boundedTransport), connecting one of
// connectTimeout, and credentials never follow a redirect to another
// origin.
func (u *upstreamClients) client(cfg Config) *http.Client {
	var c Connection
	if cfg.HTTPClient != nil && cfg.HTTPClient.Connection != nil {
		c = *cfg.HTTPClient.Connection
	}
	timeout := u.timeout
	if c.Timeout != nil {
		timeout = time.Duration(*c.Timeout) * time.Second
	}
	var next http.RoundTripper = u.plain
	if c.UseTrustStore != nil && *c.UseTrustStore && u.trusted != nil {
		next = u.trusted
	}
	t := &connTransport{next: &boundedTransport{next: next, timeout: timeout}, agent: userAgent}
	if c.Retries != nil {
		t.retries = *c.Retries
	}
	if c.UserAgentSuffix != "" {
		t.agent += " " + c.UserAgentSuffix
	}
	client := &http.Client{Transport: t, CheckRedirect: redirectPolicy(c.EnableCircularRedirects != nil && *c.EnableCircularRedirects)}
	if c.EnableCookies != nil && *c.EnableCookies {
		client.Jar, _ = cookiejar.New(nil) // never fails without options
	}
	return client
}

// redirectPolicy follows up to maxRedirects redirects and drops the
// credentials once the chain leaves the origin of the first request. Go's
// client only drops them for another domain, keeping them across ports,
// schemes and for subdomains. Unless circular, a chain that comes back to
// a URL it visited is refused, as Nexus's client does.
func redirectPolicy(circular bool) func(req *http.Request, via []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return http.ErrUseLastResponse
		}
		if !circular {
			for _, hop := range via {
				if hop.URL.String() == req.URL.String() {
					return fmt.Errorf("circular redirect to %s", req.URL.Redacted())
				}
			}
		}
		origin := Origin(via[0].URL)
		left := Origin(req.URL) != origin
		for _, hop := range via[1:] {
			left = left || Origin(hop.URL) != origin
		}
		if left {
			req.Header.Del("Authorization")
		}
		return nil
	}
}

// Origin is u's scheme, host and port, normalised ("http://upstream.example:80"
// for "HTTP://Upstream.Example/x"), to tell whether two URLs name the same
// server for credentials.
func Origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// boundedTransport gives every upstream exchange a deadline, so no
// upstream can hold a request, its connection or a shared fetch for ever:
// the exchange, from connecting to the end of the body, must be over within
// timeout, unless streamBody lets a download's body take as long as it
// needs while it keeps coming. Either way, a body that sends nothing for
// timeout ends the exchange.
type boundedTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

// timeoutError is why boundedTransport ended an exchange.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }

// Timeout tells it from other failures, as url.Error does its cause.
func (e *timeoutError) Timeout() bool { return true }

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	total := time.AfterFunc(t.timeout, func() {
		cancel(&timeoutError{fmt.Sprintf("upstream exchange took longer than %s", t.timeout)})
	})
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		total.Stop()
		cancel(nil)
		return nil, err
	}
	idle := time.AfterFunc(t.timeout, func() {
		cancel(&timeoutError{fmt.Sprintf("upstream sent nothing for %s", t.timeout)})
	})
	idle.Stop() // it runs only while a Read waits for the upstream
	resp.Body = &boundedBody{body: resp.Body, d: t.timeout, cancel: cancel, idle: idle, total: total}
	return resp, nil
}

// boundedBody is a response body under boundedTransport's deadlines.
type boundedBody struct {
	body   io.ReadCloser
	d      time.Duration
	cancel context.CancelCauseFunc
	idle   *time.Timer
	total  *time.Timer
}

func (b *boundedBody) Read(p []byte) (int, error) {
	b.idle.Reset(b.d)
	n, err := b.body.Read(p)
	b.idle.Stop()
	return n, err
}

// Close ends the exchange and its timers.
func (b *boundedBody) Close() error {
	err := b.body.Close()
	b.idle.Stop()
	b.total.Stop()
	b.cancel(nil)
	return err
}

// streamBody lifts the total deadline of resp's exchange: the body of a
// download may take as long as it needs, as long as no silence in it lasts
// the timeout. It is for responses of the engine's client, which a
// format's transport returns as they are.
func streamBody(resp *http.Response) {
	if b, ok := resp.Body.(*boundedBody); ok {
		b.total.Stop()
	}
}

// sizeBound is the format's bound on the content at path (UpstreamSizer),
// 0 for none: an announced length above it is refused before anything is
// stored or answered, and a body of unknown length is cut off at it.
// Proxied content is a cache of the upstream, not an upload: the client's
// upload.max-size does not apply.
func (p *proxyRepo) sizeBound(path string, length int64) (int64, error) {
	us, ok := p.format.(UpstreamSizer)
	if !ok {
		return 0, nil
	}
	max := us.MaxSize(path)
	if max > 0 && length > max {
		return 0, errs.New(errs.TooLarge, "%s is %d bytes upstream, more than the %d allowed", path, length, max)
	}
	return max, nil
}
