package repo

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestProxyPassthrough(t *testing.T) {
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

	resp, err := p.Passthrough(ctx, "v1/search", url.Values{"q": {"a b"}, "n": {"5"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "answer" {
		t.Fatalf("Passthrough = %d %q", resp.StatusCode, body)
	}
	if _, err := p.Stat(ctx, "v1/search"); errs.KindOf(err) != errs.NotFound {
		t.Fatalf("the answer was cached: %v", err)
	}

	// Failures reach the caller as answers and do not block the proxy.
	for range 3 {
		resp, err := p.Passthrough(ctx, "v1/search", url.Values{"q": {"a b"}, "n": {"5"}, "fail": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("failing upstream: %d", resp.StatusCode)
		}
	}
	if s := p.Status(); s.Blocked {
		t.Fatalf("Passthrough failures blocked the proxy: %+v", s)
	}
	if n := up.hits.Load(); n != 4 {
		t.Fatalf("upstream hit %d times, want 4", n)
	}

	// A blocked proxy does not ask.
	blocked, _ := newProxyRepo(t, e, "blocked", up.URL, func(c *Config) { c.HTTPClient = &HTTPClient{Blocked: true} })
	_, err = blocked.Passthrough(ctx, "v1/search", nil)
	wantKind(t, err, errs.Upstream, "Passthrough of a blocked proxy")
	if n := up.hits.Load(); n != 4 {
		t.Fatalf("a blocked proxy called its upstream")
	}

	// An unreachable upstream is an upstream error.
	up.Close()
	_, err = p.Passthrough(ctx, "v1/search", nil)
	wantKind(t, err, errs.Upstream, "Passthrough of a closed upstream")
}
