package repo

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// checksumFormat is testFormat whose upstreams publish "<x>.sha1" beside
// content.
type checksumFormat struct{ testFormat }

var _ UpstreamChecksums = checksumFormat{}

func (checksumFormat) ChecksumFile(p string) (string, blob.Algorithm, bool) {
	if strings.HasSuffix(p, ".meta") || strings.HasSuffix(p, ".sha1") {
		return "", "", false
	}
	return p + ".sha1", blob.SHA1, true
}

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// A proxied download is checked against the upstream's checksum file: a
// mismatch fails it and caches nothing; a missing or unreadable file
// leaves it unchecked.
func TestProxyChecksUpstreamChecksumFiles(t *testing.T) {
	const body = "the bytes of the jar"
	sums := map[string]string{
		"/good.jar.sha1":    sha1Hex(body) + "  good.jar\n",
		"/upper.jar.sha1":   strings.ToUpper(sha1Hex(body)),
		"/bad.jar.sha1":     sha1Hex("other bytes"),
		"/garbage.jar.sha1": "<html>not a checksum</html>",
	}
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/failing.jar.sha1":
			http.Error(w, "down", http.StatusBadGateway)
		case strings.HasSuffix(r.URL.Path, ".sha1"):
			if s := sums[r.URL.Path]; s != "" {
				io.WriteString(w, s)
				return
			}
			http.NotFound(w, r)
		default:
			io.WriteString(w, body)
		}
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) { c.Format = "checksummed" })
	ctx := context.Background()
	for _, tc := range []struct {
		path   string
		cached bool
	}{
		{"good.jar", true},
		{"upper.jar", true},
		{"bad.jar", false},
		{"garbage.jar", true},
		{"failing.jar", true},
		{"missing.jar", true},
	} {
		c, err := p.Get(ctx, tc.path)
		if err == nil {
			_, err = io.ReadAll(c.Body)
			c.Body.Close()
		}
		waitIdle(t, p)
		_, statErr := p.Stat(ctx, tc.path)
		if cached := statErr == nil; cached != tc.cached {
			t.Errorf("%s: cached = %v, want %v (read error %v)", tc.path, cached, tc.cached, err)
		}
		if !tc.cached && errs.KindOf(err) != errs.Upstream {
			t.Errorf("%s: read error %v, want an upstream error", tc.path, err)
		}
	}
}

// A download that strict content validation refuses fails its readers at
// once (it used to leave them waiting for bytes that never came) and
// caches nothing.
func TestProxyRefusedByContentTypeFailsItsReaders(t *testing.T) {
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, "<!DOCTYPE html><html><body>Sign in</body></html>")
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) { c.Storage.StrictContentTypeValidation = true })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	repotest.Within(t, 5*time.Second, "reading a refused download", func() {
		var c *Content
		if c, err = p.Get(ctx, "img/logo.png"); err == nil {
			_, err = io.ReadAll(c.Body)
			c.Body.Close()
		}
	})
	if errs.KindOf(err) != errs.Upstream {
		t.Fatalf("reading an HTML page served as a png: err %v, want an upstream error", err)
	}
	waitIdle(t, p)
	if _, err := p.Stat(ctx, "img/logo.png"); err == nil {
		t.Fatal("the refused download was cached")
	}
}

// listedFormat is testFormat whose metadata "sums.meta" lists the sha1 of
// content as "<path> <sha1>" lines, and whose content never changes.
type listedFormat struct{ testFormat }

var (
	_ ContentChecksum  = listedFormat{}
	_ ImmutableContent = listedFormat{}
)

func (listedFormat) Immutable(p string) bool { return strings.HasSuffix(p, ".tgz") }

func (listedFormat) ExpectedChecksum(ctx context.Context, r Repository, p string) (blob.Algorithm, string, bool) {
	c, err := r.Get(ctx, "sums.meta")
	if err != nil {
		return "", "", false
	}
	defer c.Body.Close()
	b, _ := io.ReadAll(c.Body)
	for _, l := range strings.Split(string(b), "\n") {
		if path, sum, ok := strings.Cut(l, " "); ok && path == p {
			return blob.SHA1, sum, true
		}
	}
	return "", "", false
}

// A download is checked against the checksum the format's metadata lists
// (a mismatch caches nothing), and immutable content, once cached, is
// never asked of the upstream again, however old.
func TestProxyChecksListedChecksumsAndKeepsImmutableContent(t *testing.T) {
	e := newEnv(t)
	var hits atomic.Int64
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/sums.meta":
			fmt.Fprintf(w, "good.tgz %s\nbad.tgz %s\n", sha1Hex("good"), sha1Hex("other"))
		case "/good.tgz":
			hits.Add(1)
			io.WriteString(w, "good")
		case "/bad.tgz":
			io.WriteString(w, "bad")
		default:
			http.NotFound(w, r)
		}
	})
	clk := testclock.New(time.Now())
	p, _ := newProxyRepo(t, e, "p", up.URL, func(c *Config) { c.Format = "listed"; c.Proxy.ContentMaxAge = 1 })
	p.now = clk.Now
	ctx := context.Background()
	for _, path := range []string{"good.tgz", "bad.tgz"} {
		c, err := p.Get(ctx, path)
		if err == nil {
			_, err = io.ReadAll(c.Body)
			c.Body.Close()
		}
		waitIdle(t, p)
		_, statErr := p.Stat(ctx, path)
		if cached := statErr == nil; cached != (path == "good.tgz") {
			t.Errorf("%s: cached = %v (read error %v)", path, cached, err)
		}
		if path == "bad.tgz" && errs.KindOf(err) != errs.Upstream {
			t.Errorf("bad.tgz: read error %v, want an upstream error", err)
		}
	}
	clk.Advance(48 * time.Hour)
	if body, _ := read(t, ctx, p, "good.tgz"); body != "good" {
		t.Fatalf("good.tgz = %q", body)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("immutable content fetched %d times, want once", n)
	}
}
