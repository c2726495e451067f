package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// v1On is the "docker" section of a repository with the V1 API (search) on.
const v1On = `"forceBasicAuth":true,"v1Enabled":true`

// search GETs /v1/search with query and decodes a 200 answer; on another
// status it returns the response and no answer.
func (c *client) search(query string) (*searchAnswer, *response) {
	c.t.Helper()
	resp := c.do(http.MethodGet, "/v1/search?"+query, nil, nil)
	if resp.status != http.StatusOK {
		return nil, resp
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/json" {
		c.t.Fatalf("search %s: Content-Type %q", query, ct)
	}
	var a searchAnswer
	if err := json.Unmarshal(resp.body, &a); err != nil {
		c.t.Fatalf("search %s: %s: %v", query, resp.body, err)
	}
	return &a, resp
}

// mustSearch is search requiring 200; it returns the answer's names.
func (c *client) mustSearch(query string) (*searchAnswer, []string) {
	c.t.Helper()
	a, resp := c.search(query)
	if a == nil {
		c.t.Fatalf("search %s: got %s, want 200", query, resp)
	}
	names := []string{}
	for _, r := range a.Results {
		names = append(names, r.Name)
	}
	return a, names
}

func wantNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: names %q, want %q", what, got, want)
	}
}

func TestSearchHosted(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", v1On))
	srv := fx.connector(r)
	admin := fx.admin(srv)
	for _, name := range []string{"postgres", "team/postgres-tools", "redis"} {
		admin.pushImage(name, "1.0", []byte(`{"image":"`+name+`"}`), []byte("layer of "+name))
	}
	// A second tag and a blob-only image add no names.
	admin.pushImage("postgres", "2.0", []byte(`{"image":"postgres2"}`), []byte("layer 2"))
	admin.pushBlob("blobs-only", []byte("no manifest"))

	if sec := settingsOf(mustLookup(t, fx, "docker-h")); !sec.V1Enabled {
		t.Fatalf("v1Enabled not stored: %+v", sec)
	}

	// The raw answer has every field the engine and Docker Hub's clients read.
	resp := admin.do(http.MethodGet, "/v1/search?q=postgres", nil, nil)
	expect(t, "search postgres", resp, http.StatusOK)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"num_results", "num_pages", "page", "page_size", "query", "results"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer %s lacks %q", resp.body, k)
		}
	}
	var first []map[string]any
	json.Unmarshal(raw["results"], &first)
	for _, k := range []string{"name", "description", "star_count", "is_official", "is_automated"} {
		if len(first) == 0 || first[0][k] == nil {
			t.Errorf("result %s lacks %q", raw["results"], k)
		}
	}

	a, names := admin.mustSearch("q=postgres")
	wantNames(t, "q=postgres", names, "postgres", "team/postgres-tools")
	if a.NumResults != 2 || a.NumPages != 1 || a.Page != 1 || a.PageSize != searchDefaultN || a.Query != "postgres" {
		t.Fatalf("q=postgres: %+v", a)
	}
	_, names = admin.mustSearch("q=")
	wantNames(t, "empty term", names, "postgres", "redis", "team/postgres-tools")
	_, names = admin.mustSearch("q=POST")
	wantNames(t, "upper case", names, "postgres", "team/postgres-tools")
	_, names = admin.mustSearch("q=team%2F")
	wantNames(t, "namespace", names, "team/postgres-tools")
	_, names = admin.mustSearch("q=nothing-like-it")
	wantNames(t, "no match", names)

	// Pages of n.
	a, names = admin.mustSearch("q=&n=2&page=2")
	wantNames(t, "page 2", names, "team/postgres-tools")
	if a.NumResults != 3 || a.NumPages != 2 || a.Page != 2 || a.PageSize != 2 {
		t.Fatalf("page 2: %+v", a)
	}
	_, resp = admin.search("q=&n=2&page=9")
	if !strings.Contains(string(resp.body), `"results":[]`) {
		t.Fatalf("past the last page: %s, want an empty results list", resp.body)
	}
	_, names = admin.mustSearch("q=&n=100")
	wantNames(t, "n=100", names, "postgres", "redis", "team/postgres-tools")

	// Bad parameters are refused in the distribution API's error JSON.
	for _, q := range []string{"n=0", "n=101", "n=ten", "n=-1", "page=0", "page=x", "page=-3", "n=99999999999999999999"} {
		expectError(t, q, admin.do(http.MethodGet, "/v1/search?q=p&"+q, nil, nil), http.StatusBadRequest, "PAGINATION_NUMBER_INVALID")
	}
	expectError(t, "long term", admin.do(http.MethodGet, "/v1/search?q="+strings.Repeat("a", maxSearchTerm+1), nil, nil),
		http.StatusBadRequest, "NAME_INVALID")
	resp = admin.do(http.MethodPost, "/v1/search?q=p", nil, nil)
	expectError(t, "POST", resp, http.StatusMethodNotAllowed, "UNSUPPORTED")
	if resp.header.Get("Allow") != "GET" {
		t.Errorf("POST: Allow %q", resp.header.Get("Allow"))
	}
	expectError(t, "other V1 path", admin.do(http.MethodGet, "/v1/repositories/postgres/images", nil, nil), http.StatusNotFound, "NOT_FOUND")
	resp = admin.do(http.MethodHead, "/v1/search?q=p", nil, nil)
	if resp.status != http.StatusOK || len(resp.body) != 0 {
		t.Fatalf("HEAD: %s", resp)
	}
	// The /v2/ API is unchanged behind the same handler.
	expect(t, "v2 catalog", admin.do(http.MethodGet, "/v2/_catalog", nil, nil), http.StatusOK)
}

func TestSearchAccess(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", v1On))
	srv := fx.connector(r)
	fx.admin(srv).pushImage("app", "1.0", []byte(`{"c":1}`), []byte("layer"))
	off := fx.connector(fx.create(hostedConfig("docker-off", "allow", `"forceBasicAuth":true,"v1Enabled":false`)))
	fx.admin(off).pushImage("app", "1.0", []byte(`{"c":1}`), []byte("layer"))

	// Anonymous callers are challenged for the scope token clients ask.
	resp := anon(t, srv).do(http.MethodGet, "/v1/search?q=app", nil, nil)
	expectError(t, "anonymous", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	p := challengeParams(t, resp.header.Get("WWW-Authenticate"))
	if p["realm"] != srv.URL+"/v2/token" || p["scope"] != "registry:catalog:search" {
		t.Fatalf("anonymous challenge %v", p)
	}
	// So are wrong credentials.
	wrong := &client{t: t, base: srv.URL, user: auth.AdminUser, pass: "wrong"}
	expectError(t, "wrong password", wrong.do(http.MethodGet, "/v1/search?q=app", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")

	fx.addUser("nobody", "nobody-pw", "nx-repository-view-docker-docker-other-read")
	fx.addUser("browser", "browser-pw", "nx-repository-view-docker-docker-h-browse")
	fx.addUser("reader", "reader-pw", "nx-repository-view-docker-docker-h-read")
	nobody := &client{t: t, base: srv.URL, user: "nobody", pass: "nobody-pw"}
	expectError(t, "no privilege", nobody.do(http.MethodGet, "/v1/search?q=app", nil, nil), http.StatusForbidden, "DENIED")
	for _, u := range []string{"browser", "reader"} {
		c := &client{t: t, base: srv.URL, user: u, pass: u + "-pw"}
		_, names := c.mustSearch("q=app")
		wantNames(t, u, names, "app")
		// With a token of the realm, as token clients search.
		tok, _ := c.getToken("registry:catalog:search")
		_, names = bearerClient(t, srv, tok).mustSearch("q=app")
		wantNames(t, u+" with a token", names, "app")
	}
	expectError(t, "bad token", bearerClient(t, srv, "not-a-token").do(http.MethodGet, "/v1/search?q=app", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")

	// Without v1Enabled the repository has no search, as in Nexus; callers
	// who may not list it are challenged first.
	e := expectError(t, "v1 off", fx.admin(off).do(http.MethodGet, "/v1/search?q=app", nil, nil), http.StatusNotFound, "NOT_FOUND")
	if !strings.Contains(e.Message, "v1Enabled") {
		t.Errorf("v1 off: message %q does not name the setting", e.Message)
	}
	expectError(t, "v1 off, anonymous", anon(t, off).do(http.MethodGet, "/v1/search?q=app", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")

	// forceBasicAuth off and anonymous access on: anonymous callers search.
	if _, err := fx.auth.SetAnonymous(auth.WithPrincipal(context.Background(), auth.System()), meta.AnonymousSettings{Enabled: true, UserID: auth.AnonymousUser}); err != nil {
		t.Fatal(err)
	}
	open := fx.connector(fx.create(hostedConfig("docker-open", "allow", `"forceBasicAuth":false,"v1Enabled":true`)))
	fx.admin(open).pushImage("public/app", "1.0", []byte(`{"c":2}`), []byte("layer 2"))
	_, names := anon(t, open).mustSearch("q=app")
	wantNames(t, "anonymous, open", names, "public/app")
	expectError(t, "anonymous, forced", anon(t, srv).do(http.MethodGet, "/v1/search?q=app", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")
}

// searchUpstream is a hosted repository of the fixture with the V1 API on,
// served on a connector of its own, as another registry's upstream.
func searchUpstreamRepo(t *testing.T, fx *fixture, name string, images ...string) *httptest.Server {
	t.Helper()
	srv := fx.connector(fx.create(hostedConfig(name, "allow", v1On)))
	for _, image := range images {
		fx.admin(srv).pushImage(image, "1.0", []byte(`{"image":"`+name+"/"+image+`"}`), []byte("layer "+name+"/"+image))
	}
	return srv
}

func TestSearchProxyAndGroup(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	upSrv := searchUpstreamRepo(t, fx, "docker-up", "shared", "upstream-only", "team/other")
	// The upstream wants credentials (forceBasicAuth): the proxy's go along.
	fx.create(proxyConfig(t, "docker-p", upSrv.URL, func(cfg map[string]any) {
		cfg["docker"] = map[string]any{"forceBasicAuth": true, "v1Enabled": true}
		cfg["httpClient"].(map[string]any)["authentication"] = map[string]any{
			"type": "username", "username": auth.AdminUser, "password": fx.adminPass}
	}))
	// The hosted member has no V1 API of its own: the group's setting
	// decides for all its members.
	h := fx.create(hostedConfig("docker-h", "allow", `"forceBasicAuth":true`))
	fx.admin(fx.connector(h)).pushImage("shared", "1.0", []byte(`{"c":"h"}`), []byte("hosted shared"))
	fx.admin(fx.connector(h)).pushImage("own", "1.0", []byte(`{"c":"own"}`), []byte("hosted own"))
	g := fx.create(strings.Replace(groupConfig("docker-g", "", "docker-h", "docker-p"), `"forceBasicAuth":true`, v1On, 1))

	proxy := fx.admin(fx.connector(mustLookup(t, fx, "docker-p")))
	_, names := proxy.mustSearch("q=")
	wantNames(t, "proxy", names, "shared", "team/other", "upstream-only")
	_, names = proxy.mustSearch("q=other")
	wantNames(t, "proxy, term forwarded", names, "team/other")

	group := fx.admin(fx.connector(g))
	a, names := group.mustSearch("q=")
	// Members in order, each name once: the hosted member's shared wins.
	wantNames(t, "group", names, "own", "shared", "team/other", "upstream-only")
	if a.NumResults != 4 {
		t.Fatalf("group: %+v", a)
	}
	_, names = group.mustSearch("q=&n=2&page=2")
	wantNames(t, "group page 2", names, "team/other", "upstream-only")
	_, names = group.mustSearch("q=sha")
	wantNames(t, "group term", names, "shared")

	// Read on the group is enough, as for every read of a group.
	fx.addUser("gread", "gread-pw", "nx-repository-view-docker-docker-g-read")
	_, names = (&client{t: t, base: group.base, user: "gread", pass: "gread-pw"}).mustSearch("q=own")
	wantNames(t, "group reader", names, "own")
	expectError(t, "group reader on the proxy", (&client{t: t, base: proxy.base, user: "gread", pass: "gread-pw"}).do(http.MethodGet, "/v1/search?q=own", nil, nil),
		http.StatusForbidden, "DENIED")
}

// TestSearchProxyUpstreams covers upstreams that are not nexus-go: one with
// no search (as CNCF Distribution), one that fails or hangs, one behind a
// token realm.
func TestSearchProxyUpstreams(t *testing.T) {
	t.Parallel()
	fx := newFixtureOpts(t, 0, repo.Options{ProxyTimeout: 500 * time.Millisecond})
	up := newUpstream(t)
	up.pushImage("cached/app", "1.0", mtOCIManifest, []byte(`{"c":1}`), []byte("layer"))
	r := fx.create(proxyConfig(t, "docker-p", up.srv.URL, func(cfg map[string]any) {
		cfg["docker"] = map[string]any{"forceBasicAuth": true, "v1Enabled": true}
	}))
	c := fx.admin(fx.connector(r))
	expect(t, "pull through", c.do(http.MethodGet, "/v2/cached/app/manifests/1.0", nil, nil), http.StatusOK)
	fx.settle()

	// No search upstream (404): the cached images, no error.
	_, names := c.mustSearch("q=app")
	wantNames(t, "no upstream search", names, "cached/app")
	if n := up.count(http.MethodGet, "/v1/search"); n != 1 {
		t.Fatalf("upstream saw %d searches, want 1", n)
	}

	// A failing upstream: the cached images still, and the proxy is not
	// blocked for its content.
	up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != "/v1/search" {
			return false
		}
		upstreamError(w, req, http.StatusInternalServerError, "UNKNOWN")
		return true
	})
	for range 3 {
		_, names = c.mustSearch("q=app")
		wantNames(t, "failing upstream", names, "cached/app")
	}
	if st := r.Status(); st.Blocked {
		t.Fatalf("a failing search blocked the proxy: %+v", st)
	}

	// A hanging upstream is given up after proxy.timeout.
	release := make(chan struct{})
	defer close(release)
	up.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != "/v1/search" {
			return false
		}
		select {
		case <-release:
		case <-req.Context().Done():
		}
		return true
	})
	start := time.Now()
	_, names = c.mustSearch("q=app")
	wantNames(t, "hanging upstream", names, "cached/app")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("search took %s with a hanging upstream", d)
	}

	// An answer, behind a token realm that wants the proxy's credentials:
	// upstream results first, with their fields, then cached images.
	tokens := newUpstream(t)
	tokens.realmUser, tokens.realmPass = "u", "p"
	tokens.setFault(func(w http.ResponseWriter, req *http.Request) bool {
		if req.URL.Path != "/v1/search" {
			return false
		}
		tok, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		tokens.mu.Lock()
		scopes := tokens.tokens[tok]
		tokens.mu.Unlock()
		if !slices.Contains(scopes, "registry:catalog:search") {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="t",scope="registry:catalog:search"`, req.Host))
			upstreamError(w, req, http.StatusUnauthorized, "UNAUTHORIZED")
			return true
		}
		if q := req.URL.Query(); q.Get("q") != "app" || q.Get("n") != "100" {
			t.Errorf("upstream search query %v", q)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"num_results":3,"query":"app","results":[
			{"name":"library/app","description":"the app","star_count":7,"is_official":true,"is_automated":false},
			{"name":"Not A Name!","description":"dropped"},
			{"name":"cached/app","description":"also cached"}]}`))
		return true
	})
	tp := fx.create(proxyConfig(t, "docker-t", tokens.srv.URL, func(cfg map[string]any) {
		cfg["docker"] = map[string]any{"forceBasicAuth": true, "v1Enabled": true}
		cfg["httpClient"].(map[string]any)["authentication"] = map[string]any{"type": "username", "username": "u", "password": "p"}
	}))
	tc := fx.admin(fx.connector(tp))
	a, names := tc.mustSearch("q=app")
	wantNames(t, "token upstream", names, "library/app", "cached/app")
	if res := a.Results[0]; res.Description != "the app" || res.StarCount != 7 || !res.IsOfficial {
		t.Fatalf("upstream fields lost: %+v", res)
	}
	if reqs := tokens.tokenRequests(); len(reqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(reqs))
	} else if u, p, _ := reqs[0].BasicAuth(); u != "u" || p != "p" {
		t.Fatalf("token request without the proxy's credentials")
	}
}

func TestSearchMainPort(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	for _, cfg := range []string{
		hostedConfig("dh", "allow", v1On),
		hostedConfig("dh2", "allow", v1On),
		hostedConfig("off", "allow", `"forceBasicAuth":true`),
	} {
		fx.create(cfg)
	}
	main := fx.mainPort()
	admin := fx.admin(main)
	admin.pushImage("dh/app", "1.0", []byte(`{"c":1}`), []byte("l1"))
	admin.pushImage("dh/tools/app", "1.0", []byte(`{"c":2}`), []byte("l2"))
	admin.pushImage("dh/db", "1.0", []byte(`{"c":3}`), []byte("l3"))
	admin.pushImage("dh2/app", "1.0", []byte(`{"c":4}`), []byte("l4"))
	admin.pushImage("off/app", "1.0", []byte(`{"c":5}`), []byte("l5"))

	// Every Docker repository with the V1 API, names as the main port
	// pulls them.
	_, names := admin.mustSearch("q=app")
	wantNames(t, "all", names, "dh/app", "dh/tools/app", "dh2/app")
	// A first segment naming a repository searches it alone.
	_, names = admin.mustSearch("q=dh%2F")
	wantNames(t, "dh", names, "dh/app", "dh/db", "dh/tools/app")
	_, names = admin.mustSearch("q=dh%2Ftools")
	wantNames(t, "dh tools", names, "dh/tools/app")
	expectError(t, "off", admin.do(http.MethodGet, "/v1/search?q=off%2Fapp", nil, nil), http.StatusNotFound, "NOT_FOUND")
	// A segment that names no repository is part of the term.
	_, names = admin.mustSearch("q=tools%2Fapp")
	wantNames(t, "not a repository", names, "dh/tools/app")

	// Only repositories the caller may list.
	fx.addUser("dh2-reader", "pw2", "nx-repository-view-docker-dh2-read")
	fx.addUser("nobody", "pw3", "nx-repository-view-docker-elsewhere-read")
	reader := &client{t: t, base: main.URL, user: "dh2-reader", pass: "pw2"}
	_, names = reader.mustSearch("q=app")
	wantNames(t, "dh2 reader", names, "dh2/app")
	// A repository the caller may not see is no repository name to it.
	_, names = reader.mustSearch("q=dh%2Fapp")
	wantNames(t, "hidden repository", names)
	_, names = (&client{t: t, base: main.URL, user: "nobody", pass: "pw3"}).mustSearch("q=app")
	wantNames(t, "nobody", names)
	resp := anon(t, main).do(http.MethodGet, "/v1/search?q=app", nil, nil)
	expectError(t, "anonymous", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if p := challengeParams(t, resp.header.Get("WWW-Authenticate")); p["scope"] != "registry:catalog:search" {
		t.Fatalf("anonymous challenge %v", p)
	}
}
