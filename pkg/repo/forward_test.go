package repo

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestProxyForward(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != "bob" || pw != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/base/v1/search" || r.URL.Query().Get("q") != "a b" || r.URL.Query().Get("n") != "5" {
			t.Errorf("upstream asked for %s", r.URL)
		}
		if r.URL.Query().Get("fail") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "answer")
	})
	p, _ := newProxyRepo(t, e, "p", up.URL+"/base", func(c *Config) {
		c.HTTPClient = &HTTPClient{AutoBlock: true, Authentication: &Authentication{Type: "username", Username: "bob", Password: "s3cret"}}
	})

	resp, err := p.Forward(ctx, http.MethodGet, "v1/search", url.Values{"q": {"a b"}, "n": {"5"}}.Encode(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "answer" {
		t.Fatalf("Forward = %d %q", resp.StatusCode, body)
	}
	if _, err := p.Stat(ctx, "v1/search"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("the answer was cached: %v", err)
	}

	// Failures reach the caller as answers and do not block the proxy.
	for range 3 {
		resp, err := p.Forward(ctx, http.MethodGet, "v1/search", url.Values{"q": {"a b"}, "n": {"5"}, "fail": {"1"}}.Encode(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("failing upstream: %d", resp.StatusCode)
		}
	}
	if s := p.Status(); s.Blocked {
		t.Fatalf("Forward failures blocked the proxy: %+v", s)
	}
	if n := up.hits.Load(); n != 4 {
		t.Fatalf("upstream hit %d times, want 4", n)
	}

	// A blocked proxy does not ask.
	blocked, _ := newProxyRepo(t, e, "blocked", up.URL, func(c *Config) { c.HTTPClient = &HTTPClient{Blocked: true} })
	_, err = blocked.Forward(ctx, http.MethodGet, "v1/search", "", nil, nil)
	wantKind(t, err, errs.Upstream, "Forward of a blocked proxy")
	if n := up.hits.Load(); n != 4 {
		t.Fatalf("a blocked proxy called its upstream")
	}

	// An unreachable upstream is an upstream error.
	up.Close()
	_, err = p.Forward(ctx, http.MethodGet, "v1/search", "", nil, nil)
	wantKind(t, err, errs.Upstream, "Forward of a closed upstream")
}

// A forwarded request keeps its method, body and headers (npm's audit is
// a gzipped POST).
func TestProxyForwardCarriesBodyAndHeaders(t *testing.T) {
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Encoding") != "gzip" || r.ContentLength != int64(len(b)) {
			t.Errorf("upstream got %s %q length %d", r.Method, r.Header.Get("Content-Encoding"), r.ContentLength)
		}
		w.Write(b)
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	hdr := http.Header{"Content-Encoding": {"gzip"}}
	resp, err := p.Forward(context.Background(), http.MethodPost, "-/audit", "", []byte("the body"), hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "the body" {
		t.Fatalf("echo %q", b)
	}
}
