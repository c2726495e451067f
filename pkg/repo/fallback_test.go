package repo

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// fallbackFormat is testFormat whose upstreams may lack "<x>.meta", which
// it then builds from "<x>.src.meta" (as Docker builds referrers from the
// tag schema).
type fallbackFormat struct{ testFormat }

var _ UpstreamFallback = fallbackFormat{}

func (fallbackFormat) Lacks(p string, resp *http.Response) bool {
	return !strings.HasSuffix(p, ".src.meta") && resp.StatusCode == http.StatusNotFound
}

func (fallbackFormat) Fallback(ctx context.Context, p string, get func(context.Context, string) (*Content, error)) ([]byte, string, error) {
	c, err := get(ctx, strings.TrimSuffix(p, ".meta")+".src.meta")
	if errs.KindOf(err) == errs.NotFound {
		return []byte("built:none"), "text/plain", nil
	}
	if err != nil {
		return nil, "", err
	}
	defer c.Body.Close()
	b, err := io.ReadAll(c.Body)
	return append([]byte("built:"), b...), "text/plain", err
}

// TestProxyFallback: an endpoint the upstream lacks is built from other
// paths and cached as the endpoint's own answer would be; a source path
// missing at first is asked again once the built answer is stale, whatever
// the negative cache holds.
func TestProxyFallback(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var source atomic.Value
	source.Store("")
	var down atomic.Bool
	hits := map[string]*atomic.Int64{"/x.meta": {}, "/x.src.meta": {}}
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if n := hits[r.URL.Path]; n != nil && r.Method == http.MethodGet {
			n.Add(1)
		}
		switch {
		case down.Load():
			http.Error(w, "down", http.StatusServiceUnavailable)
		case r.URL.Path == "/x.src.meta" && source.Load() != "":
			io.WriteString(w, source.Load().(string))
		default:
			http.NotFound(w, r)
		}
	})
	p, clk := newProxyRepo(t, e, "p", up.URL, func(c *Config) {
		c.Format = "fallback"
		c.Proxy.MetadataMaxAge = 10
		c.NegativeCache = &NegativeCache{Enabled: true, TimeToLive: 1440}
	})
	want := func(what, body string, endpoint, src int64) {
		t.Helper()
		if got, ok := read(t, ctx, p, "x.meta"); !ok || got != body {
			t.Fatalf("%s: %q (found %t), want %q", what, got, ok, body)
		}
		if e, s := hits["/x.meta"].Load(), hits["/x.src.meta"].Load(); e != endpoint || s != src {
			t.Fatalf("%s: upstream GETs %d of the endpoint, %d of the source, want %d, %d", what, e, s, endpoint, src)
		}
	}

	want("nothing upstream", "built:none", 1, 1)
	if a, err := p.Stat(ctx, "x.meta"); err != nil || a.ContentType != "text/plain" {
		t.Fatalf("built answer not cached: %v %v", a, err)
	}
	if p.negativeHit("x.meta") {
		t.Fatal("a missing endpoint went into the negative cache")
	}
	source.Store("A")
	want("fresh cached answer", "built:none", 1, 1)
	clk.Advance(11 * time.Minute)
	want("stale answer rebuilt", "built:A", 2, 2)
	if got, _ := read(t, ctx, p, "x.src.meta"); got != "A" {
		t.Fatalf("the source is not served from the cache: %q", got)
	}

	// An upstream that fails is no missing endpoint: the cached answer is
	// served, however old, and nothing is built.
	down.Store(true)
	clk.Advance(11 * time.Minute)
	want("upstream down", "built:A", 3, 2)
	_, err := p.Get(ctx, "y.meta")
	wantKind(t, err, errs.Upstream, "never cached, upstream down")
}
