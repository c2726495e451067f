package repo

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// preflightFormat is testFormat whose proxies, like Docker's token flow,
// make an exchange of their own through the engine's transport before
// each request: a GET of preflight, whose body they read to the end.
type preflightFormat struct {
	testFormat
	preflight string
}

// Only the transport hook: the other upstream hooks are optional.
var _ UpstreamTransporter = preflightFormat{}

func (f preflightFormat) UpstreamTransport(_ Config, base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		pre, err := http.NewRequestWithContext(req.Context(), http.MethodGet, f.preflight, nil)
		if err != nil {
			return nil, err
		}
		resp, err := base.RoundTrip(pre)
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		return base.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// timedProxy creates proxy "p" of remote on a manager of its own over e's
// storage, with proxy.timeout d, serving format f.
func timedProxy(t *testing.T, e *env, f Format, remote string, d time.Duration, tune func(*Config)) *proxyRepo {
	t.Helper()
	m := NewManager(e.db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler), ProxyTimeout: d}, f)
	cfg := proxyCfg("p", remote)
	cfg.HTTPClient = &HTTPClient{AutoBlock: false}
	if tune != nil {
		tune(&cfg)
	}
	if err := m.Create(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	r, _ := m.Lookup("p")
	return r.(*proxyRepo)
}

// hold returns a channel that is closed when the test ends, and wait,
// which blocks an upstream handler until its client goes or the test ends.
func hold(t *testing.T) (<-chan struct{}, func(r *http.Request)) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return release, func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// Every exchange with an upstream ends within proxy.timeout when the
// upstream stops sending: a download's body, and the bodies a format's
// transport reads (a token), silent or dripping. Nothing is cached.
func TestProxyUpstreamSilenceEndsTheExchange(t *testing.T) {
	const timeout = 400 * time.Millisecond
	cases := []struct {
		name string
		// serve answers the content path; preflight the format's own
		// exchange (nil: no format transport).
		serve, preflight func(w http.ResponseWriter, r *http.Request, ended <-chan struct{}, wait func(*http.Request))
	}{
		{name: "DownloadBodyGoesSilent", serve: func(w http.ResponseWriter, r *http.Request, ended <-chan struct{}, wait func(*http.Request)) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, "a first part")
			w.(http.Flusher).Flush()
			wait(r)
		}},
		{name: "FormatExchangeSendsHeadersThenNothing", preflight: func(w http.ResponseWriter, r *http.Request, ended <-chan struct{}, wait func(*http.Request)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			wait(r)
		}},
		{name: "FormatExchangeDrips", preflight: func(w http.ResponseWriter, r *http.Request, ended <-chan struct{}, wait func(*http.Request)) {
			w.WriteHeader(http.StatusOK)
			for {
				select {
				case <-r.Context().Done():
					return
				case <-ended:
					return
				case <-time.After(timeout / 4):
				}
				io.WriteString(w, " ")
				w.(http.Flusher).Flush()
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			var ended <-chan struct{}
			var wait func(*http.Request)
			up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/preflight" {
					if tc.preflight != nil {
						tc.preflight(w, r, ended, wait)
					}
					return
				}
				if tc.serve != nil {
					tc.serve(w, r, ended, wait)
					return
				}
				io.WriteString(w, "content")
			})
			ended, wait = hold(t) // released before the upstream closes
			var f Format = testFormat{}
			if tc.preflight != nil {
				f = preflightFormat{preflight: up.URL + "/preflight"}
			}
			p := timedProxy(t, e, f, up.URL, timeout, nil)

			var err error
			took := repotest.Within(t, 10*timeout, "Get with a silent upstream", func() {
				var c *Content
				if c, err = p.Get(context.Background(), "a"); err == nil {
					_, err = io.ReadAll(c.Body)
					c.Body.Close()
				}
			})
			if err == nil {
				t.Fatal("Get with a silent upstream succeeded")
			}
			var timedOut interface{ Timeout() bool }
			if !errors.As(err, &timedOut) || !timedOut.Timeout() || took < timeout {
				t.Errorf("Get ended after %s (proxy.timeout %s) with %v, want a timeout", took, timeout, err)
			}
			t.Logf("Get ended after %s: %v", took, err)
			waitIdle(t, p)
			if _, err := p.Stat(context.Background(), "a"); errs.KindOf(err) != errs.NotFound {
				t.Errorf("content of a silent upstream cached: %v", err)
			}
			if files := e.blobFiles(); len(files) != 0 {
				t.Errorf("blob files left: %v", files)
			}
		})
	}
}

// A client that hangs up while the upstream has not answered yet gets its
// handler back at once; the download goes on and is cached once the
// upstream answers.
func TestProxyFirstCallerLeavesBeforeTheUpstreamAnswers(t *testing.T) {
	e := newEnv(t)
	asked, answer := make(chan struct{}, 1), make(chan struct{})
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		select {
		case <-answer:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "late content")
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)

	ctx, cancel := context.WithCancel(context.Background())
	var err error
	got := make(chan struct{})
	go func() {
		defer close(got)
		_, err = p.Get(ctx, "a")
	}()
	<-asked
	cancel()
	select {
	case <-got:
	case <-time.After(2 * time.Second):
		close(answer)
		t.Fatal("Get still waits for the upstream 2s after its context ended")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get after its context ended: %v, want context.Canceled", err)
	}
	close(answer)
	waitFor(t, "the download to be cached", func() bool {
		_, err := p.Stat(context.Background(), "a")
		return err == nil
	})
	if body, stored := read(t, context.Background(), p, "a"); body != "late content" || !stored {
		t.Errorf("cached copy %q (stored %v)", body, stored)
	}
	if n := up.hits.Load(); n != 1 {
		t.Errorf("upstream hit %d times, want 1", n)
	}
}

// The stored upstream password survives an update that leaves it out only
// while the remote stays on the same origin; otherwise it would go to a
// server it was not given for.
func TestUpdateKeepsUpstreamPasswordOnlyForTheSameOrigin(t *testing.T) {
	cases := []struct {
		from, to string
		keep     bool
	}{
		{"http://upstream.example/a/", "http://upstream.example/b/", true},
		{"http://upstream.example/a/", "HTTP://Upstream.EXAMPLE:80/b", true},
		{"https://upstream.example:443/", "https://upstream.example", true},
		{"http://upstream.example/", "http://upstream.example:8080/", false},
		{"http://upstream.example/", "http://other.upstream.example/", false},
		{"https://upstream.example/", "http://upstream.example:443/", false},
		{"http://upstream.example/", "https://upstream.example/", false},
	}
	for _, tc := range cases {
		e := newEnv(t)
		cfg := proxyCfg("p", tc.from)
		cfg.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "username", Username: "bob", Password: "s3cret"}}
		e.create(cfg)
		cfg = proxyCfg("p", tc.to)
		cfg.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "username", Username: "bob"}}
		if err := e.m.Update(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		got := e.lookup("p").Config().HTTPClient.Authentication.Password
		if want := map[bool]string{true: "s3cret", false: ""}[tc.keep]; got != want {
			t.Errorf("remoteUrl %s -> %s: stored password %q, want %q", tc.from, tc.to, got, want)
		}
	}

	// And on the wire: the new upstream never sees the old password.
	e := newEnv(t)
	old := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "old") })
	var mu sync.Mutex
	var seen []string
	moved := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		_, pass, _ := r.BasicAuth()
		mu.Lock()
		seen = append(seen, pass)
		mu.Unlock()
		io.WriteString(w, "new")
	})
	cfg := proxyCfg("p", old.URL)
	cfg.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "username", Username: "bob", Password: "s3cret"}}
	e.create(cfg)
	cfg = proxyCfg("p", moved.URL)
	cfg.HTTPClient = &HTTPClient{Authentication: &Authentication{Type: "username", Username: "bob"}}
	if err := e.m.Update(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if body, _ := read(t, context.Background(), e.lookup("p"), "x"); body != "new" {
		t.Fatalf("Get after the move = %q", body)
	}
	waitIdle(t, e.lookup("p").(*proxyRepo))
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != "" {
		t.Errorf("passwords the moved-to upstream saw: %q, want one empty", seen)
	}
}

// Credentials follow a redirect only within the origin of the remote:
// not to another port, host (a subdomain included) or scheme.
func TestProxyRedirectKeepsCredentialsWithinTheOrigin(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	auth := map[string]string{} // redirect case -> Authorization at its target
	target := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth[r.URL.Query().Get("case")] = r.Header.Get("Authorization")
		mu.Unlock()
		io.WriteString(w, "redirected content")
	}
	redirects := map[string]string{
		"same":   "http://upstream.example/target?case=same",
		"port":   "http://upstream.example:8080/target?case=port",
		"sub":    "http://cdn.upstream.example/target?case=sub",
		"scheme": "https://upstream.example/target?case=scheme",
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target" {
			target(w, r)
			return
		}
		http.Redirect(w, r, redirects[strings.TrimPrefix(r.URL.Path, "/")], http.StatusTemporaryRedirect)
	}))
	t.Cleanup(origin.Close)
	other := httptest.NewServer(http.HandlerFunc(target))
	t.Cleanup(other.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(target))
	t.Cleanup(secure.Close)

	p := timedProxy(t, e, testFormat{}, "http://upstream.example/", 5*time.Second, func(c *Config) {
		c.HTTPClient.Authentication = &Authentication{Type: "username", Username: "bob", Password: "s3cret"}
	})
	// The upstream.example names all lead to the servers above.
	addrs := map[string]string{
		"upstream.example:80":     origin.Listener.Addr().String(),
		"upstream.example:8080":   other.Listener.Addr().String(),
		"cdn.upstream.example:80": other.Listener.Addr().String(),
		"upstream.example:443":    secure.Listener.Addr().String(),
	}
	tr := p.client.Transport.(*meteredTransport).next.(*connTransport).next.(*boundedTransport).next.(*http.Transport)
	tr.Proxy = nil
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addrs[addr])
	}

	for name := range redirects {
		if body, _ := read(t, context.Background(), p, name); body != "redirected content" {
			t.Fatalf("Get of %s = %q", name, body)
		}
	}
	waitIdle(t, p)
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(auth["same"], "Basic ") {
		t.Errorf("a redirect within the origin lost the credentials: %q", auth["same"])
	}
	for _, name := range []string{"port", "sub", "scheme"} {
		if a := auth[name]; a != "" {
			t.Errorf("a redirect to another %s carried Authorization %q", name, a)
		}
	}
}
