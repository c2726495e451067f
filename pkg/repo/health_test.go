package repo

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// "Blob Stores Ready" is unhealthy when a store refuses a write, and
// "Proxy Repositories" when a proxy is auto-blocked, not when its block is
// configured; each names what it found in its details.
func TestHealthBlobStoresAndBlockedProxies(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	auto, _ := newProxyRepo(t, e, "auto", up.URL+"/", nil)
	newProxyRepo(t, e, "configured", up.URL+"/", func(c *Config) { c.HTTPClient = &HTTPClient{Blocked: true} })
	checks := func() map[string]HealthCheck {
		t.Helper()
		list, err := e.m.Health(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]HealthCheck{}
		for _, c := range list {
			out[c.Name] = c
		}
		return out
	}

	c := checks()
	ready, proxies := c["Blob Stores Ready"], c["Proxy Repositories"]
	writable := true
	if d, _ := ready.Details.(map[string]BlobStoreReadiness); !ready.Healthy || d["default"].Writable == nil ||
		*d["default"].Writable != writable || d["default"].AvailableSpace <= 0 {
		t.Errorf("Blob Stores Ready of a writable store: %+v", ready)
	}
	if d, _ := proxies.Details.(map[string]ProxyBlocked); !proxies.Healthy || !reflect.DeepEqual(d, map[string]ProxyBlocked{"configured": {}}) {
		t.Errorf("Proxy Repositories with a proxy blocked by configuration only: %+v", proxies)
	}

	_, err := auto.Get(ctx, "x")
	wantKind(t, err, errs.Upstream, "Get of a failing upstream")
	tmp := filepath.Join(e.blobDir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		t.Fatal(err)
	}
	c = checks()
	ready, proxies = c["Blob Stores Ready"], c["Proxy Repositories"]
	if d, _ := ready.Details.(map[string]BlobStoreReadiness); ready.Healthy || d["default"].Writable == nil || *d["default"].Writable ||
		ready.Message != "blob store default is not writable" {
		t.Errorf("Blob Stores Ready of a store that cannot write: %+v", ready)
	}
	wantBlocked := map[string]ProxyBlocked{"auto": {AutoBlocked: true}, "configured": {}}
	if d, _ := proxies.Details.(map[string]ProxyBlocked); proxies.Healthy || !reflect.DeepEqual(d, wantBlocked) ||
		!strings.Contains(proxies.Message, "repository auto is auto-blocked") {
		t.Errorf("Proxy Repositories with an auto-blocked proxy: %+v", proxies)
	}
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	if c := checks()["Blob Stores Ready"]; !c.Healthy {
		t.Errorf("Blob Stores Ready once the store writes again: %+v", c)
	}
}
