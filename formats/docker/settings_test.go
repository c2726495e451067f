package docker

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// With storage.latestPolicy, an allow_once repository lets the latest tag
// move while every other tag stays write-once; without it, latest is
// write-once too.
func TestLatestPolicy(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	for _, latest := range []bool{true, false} {
		name := map[bool]string{true: "docker-latest", false: "docker-once"}[latest]
		r := fx.create(strings.Replace(hostedConfig(name, "allow_once", ""), `"writePolicy":"allow_once"`,
			`"writePolicy":"allow_once","latestPolicy":`+map[bool]string{true: "true", false: "false"}[latest], 1))
		if lp := r.Config().Storage.LatestPolicy; lp == nil || *lp != latest {
			t.Fatalf("%s: latestPolicy = %v", name, lp)
		}
		admin := fx.admin(fx.connector(r))
		m1, _ := admin.pushImage("app", "latest", []byte(`{"v":1}`), []byte("layer 1"))
		admin.putManifest("app", "1.0", mtOCIManifest, m1)
		m2, _ := admin.pushImage("app", "build", []byte(`{"v":2}`), []byte("layer 2"))
		resp := admin.putManifest("app", "latest", mtOCIManifest, m2)
		if latest {
			expect(t, name+": moving latest", resp, http.StatusCreated)
		} else {
			expectError(t, name+": moving latest", resp, http.StatusForbidden, "DENIED")
		}
		expectError(t, name+": moving 1.0", admin.putManifest("app", "1.0", mtOCIManifest, m2), http.StatusForbidden, "DENIED")
	}
}

// docker.pathEnabled false takes a repository off the main port's
// /v2/<repository>/ routes; its docker.subdomain serves it on the main
// port to requests for <subdomain>.<host>, as its connector does.
func TestPathEnabledAndSubdomain(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-s", "allow", `"forceBasicAuth":true,"pathEnabled":false,"subdomain":"team"`))
	fx.create(hostedConfig("docker-p", "allow", `"forceBasicAuth":true,"subdomain":"other"`))
	m, _ := fx.admin(fx.connector(r)).pushImage("app", "1.0", []byte(`{}`), []byte("layer"))
	main := fx.mainPort()

	var taken repo.Config
	json.Unmarshal([]byte(hostedConfig("docker-t", "allow", `"subdomain":"TEAM"`)), &taken)
	var fe *errs.FieldError
	if err := fx.m.Create(fx.adminContext(), taken); !errors.As(err, &fe) || fe.Field != "docker.subdomain" {
		t.Errorf("a second repository with subdomain team: %v", err)
	}
	if err := fx.m.Update(fx.adminContext(), r.Config()); err != nil {
		t.Errorf("updating the repository that has the subdomain: %v", err)
	}

	expectError(t, "path route of a repository without pathEnabled",
		fx.admin(main).do(http.MethodGet, "/v2/docker-s/app/manifests/1.0", nil, nil), http.StatusNotFound, "NAME_UNKNOWN")
	expect(t, "path route of another", fx.admin(main).do(http.MethodGet, "/v2/docker-p/app/tags/list", nil, nil), http.StatusNotFound)

	get := func(host, p string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, main.URL+p, nil)
		req.Host = host
		req.SetBasicAuth("admin", fx.adminPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if st, body := get("team.registry.example:8081", "/v2/app/manifests/1.0"); st != http.StatusOK || body != string(m) {
		t.Errorf("subdomain pull: %d %s", st, body)
	}
	if st, _ := get("other.registry.example", "/v2/app/manifests/1.0"); st != http.StatusNotFound {
		t.Errorf("another subdomain's repository served the image: %d", st)
	}
	if st, _ := get("team", "/v2/docker-p/app/manifests/1.0"); st != http.StatusNotFound {
		t.Errorf("a bare host was taken for a subdomain: %d", st)
	}
}

// The dockerProxy section round-trips and is checked: CUSTOM needs an
// index URL, whitelist entries must be regular expressions.
func TestProxySettingsValidation(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	up := newUpstream(t)
	for field, edit := range map[string]func(cfg map[string]any){
		"dockerProxy.indexUrl": func(cfg map[string]any) { cfg["dockerProxy"] = map[string]any{"indexType": "CUSTOM"} },
		"dockerProxy.foreignLayerUrlWhitelist": func(cfg map[string]any) {
			cfg["dockerProxy"] = map[string]any{"indexType": "HUB", "foreignLayerUrlWhitelist": []string{"(unclosed"}}
		},
		"dockerProxy.indexType": func(cfg map[string]any) { cfg["dockerProxy"] = map[string]any{"indexType": "MIRROR"} },
		"docker.subdomain":      func(cfg map[string]any) { cfg["docker"] = map[string]any{"subdomain": "a.b"} },
	} {
		var cfg repo.Config
		if err := json.Unmarshal([]byte(proxyConfig(t, "docker-bad", up.srv.URL, edit)), &cfg); err != nil {
			t.Fatal(err)
		}
		var fe *errs.FieldError
		if err := fx.m.Create(fx.adminContext(), cfg); !errors.As(err, &fe) || fe.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	r := fx.create(proxyConfig(t, "docker-ok", up.srv.URL, nil))
	var ps proxySettings
	cfg := r.Config()
	cfg.Section("dockerProxy", &ps)
	if ps.ForeignLayerURLWhitelist == nil || ps.CacheForeignLayers != nil || ps.IndexURL != nil {
		t.Errorf("defaults = %+v", ps)
	}
}

// With indexType CUSTOM, V1 searches go to the index, without the
// upstream's credentials when it is another server.
func TestCustomIndexSearch(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	up := newUpstream(t)
	var mu sync.Mutex
	var asked, authz string
	index := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked, authz = r.URL.Path+"?"+r.URL.RawQuery, r.Header.Get("Authorization")
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"num_results":1,"query":"app","results":[{"name":"team/app","description":"from the index"}]}`))
	}))
	t.Cleanup(index.Close)
	r := fx.create(proxyConfig(t, "docker-c", up.srv.URL, func(cfg map[string]any) {
		cfg["docker"] = map[string]any{"forceBasicAuth": true, "v1Enabled": true}
		cfg["dockerProxy"] = map[string]any{"indexType": "CUSTOM", "indexUrl": index.URL + "/"}
		cfg["httpClient"].(map[string]any)["authentication"] = map[string]any{"type": "username", "username": "u", "password": "p"}
	}))
	_, names := fx.admin(fx.connector(r)).mustSearch("q=app")
	wantNames(t, "custom index", names, "team/app")
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(asked, "/v1/search?") || !strings.Contains(asked, "q=app") {
		t.Errorf("index asked %q", asked)
	}
	if authz != "" {
		t.Errorf("the upstream's credentials went to the index: %q", authz)
	}
}
