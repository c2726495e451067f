package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// send is a request for the escaped path of repository name, as the
// server hands it to the format, by the administrator.
func (fx *fixture) send(name, method, escaped string, body []byte) *httptest.ResponseRecorder {
	fx.t.Helper()
	r, ok := fx.repos.Lookup(name)
	if !ok {
		fx.t.Fatalf("no repository %s", name)
	}
	p, _, err := repo.CleanPath(r.Format(), escaped)
	if err != nil {
		fx.t.Fatal(err)
	}
	base := &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/repository/" + name + "/"}
	req := httptest.NewRequestWithContext(repo.WithBaseURL(fx.admin, base), method, base.String()+escaped, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	r.Format().ServeHTTP(w, req, r, p)
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		fx.t.Fatalf("%s %s/%s: %d %s", method, name, escaped, w.Code, w.Body.String())
	}
	return w
}

// publish publishes p to npm-a with tag.
func (fx *fixture) publish(p npmtest.Package, tag string) {
	fx.t.Helper()
	b, _ := json.Marshal(p.Document(p.Tarball(), tag))
	fx.send("npm-a", http.MethodPut, url.PathEscape(p.Name), b)
}

// published is a data set of real uploads: npm packages with the fields
// of package.json the npm.* terms read, Maven releases (with sources) and
// a snapshot, and a raw file.
func published(t *testing.T) *fixture {
	fx := newFixture(t)
	cfg := repo.Config{Name: "maven-m", Format: "maven2", Type: "hosted", Online: true,
		Storage: repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true, WritePolicy: "allow"}}
	cfg.SetSection("maven", map[string]string{"versionPolicy": "MIXED", "layoutPolicy": "STRICT"})
	if err := fx.repos.Create(fx.admin, cfg); err != nil {
		t.Fatal(err)
	}
	fx.publish(npmtest.Package{Name: "@acme/widget", Version: "1.0.0", Extra: map[string]any{
		"author":      map[string]string{"name": "Alice Smith", "email": "alice@example.org"},
		"description": "A fast JSON parser for widgets", "keywords": []string{"json", "parser"}, "license": "MIT"}}, "latest")
	fx.publish(npmtest.Package{Name: "@acme/widget", Version: "2.0.0-beta.1", Extra: map[string]any{
		"author": "Bob Jones <bob@example.org>", "description": "Next widget", "keywords": []string{"json"},
		"license": "Apache-2.0"}}, "beta")
	fx.publish(npmtest.Package{Name: "gadget", Version: "1.0.0", Extra: map[string]any{
		"author": "Carol", "description": "Gadget tools", "keywords": "tools, misc",
		"license": map[string]string{"type": "ISC"}}}, "latest")
	pom := func(g, a, v string) []byte {
		return []byte(`<project><modelVersion>4.0.0</modelVersion><groupId>` + g + `</groupId><artifactId>` + a +
			`</artifactId><version>` + v + `</version></project>`)
	}
	for p, body := range map[string][]byte{
		"org/example/lib/1.0/lib-1.0.jar":                            []byte("lib jar"),
		"org/example/lib/1.0/lib-1.0-sources.jar":                    []byte("lib sources"),
		"org/example/lib/1.0/lib-1.0.pom":                            pom("org.example", "lib", "1.0"),
		"org/example/lib/2.0-SNAPSHOT/lib-2.0-20260101.120000-1.jar": []byte("lib snapshot"),
		"com/acme/app/1.0/app-1.0.jar":                               []byte("app jar"),
		"com/acme/app/1.0/app-1.0.pom":                               pom("com.acme", "app", "1.0"),
	} {
		fx.send("maven-m", http.MethodPut, p, body)
	}
	fx.send("raw-a", http.MethodPut, "docs/readme.txt", []byte("read me"))
	return fx
}

// found is what a REST query finds: "name@version" of each component,
// sorted.
func (fx *fixture) found(v url.Values) ([]string, error) {
	fx.t.Helper()
	q, err := fx.s.ParseQuery(v)
	if err != nil {
		return nil, err
	}
	comps, _, err := fx.s.Components(fx.admin, q, "", MaxLimit)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, c := range comps {
		out = append(out, c.Name+"@"+c.Version)
	}
	slices.Sort(out)
	return out, nil
}

func (fx *fixture) want(v url.Values, want ...string) {
	fx.t.Helper()
	got, err := fx.found(v)
	if err != nil {
		fx.t.Errorf("%v: %v", v, err)
		return
	}
	if want == nil {
		want = []string{}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		fx.t.Errorf("%s: %v, want %v", v.Encode(), got, want)
	}
}

func values(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// The npm.* terms read the version's package.json or its version;
// prerelease asks the formats; gavec stands for the maven.* terms. Text
// terms match a whole value or a word, ignoring case, with wildcards.
func TestFormatFilters(t *testing.T) {
	fx := published(t)
	const (
		w1, w2, gadget = "widget@1.0.0", "widget@2.0.0-beta.1", "gadget@1.0.0"
		lib, snap, app = "lib@1.0", "lib@2.0-SNAPSHOT", "app@1.0"
	)
	for _, tc := range []struct {
		q    url.Values
		want []string
	}{
		{values("npm.author", "alice"), []string{w1}},
		{values("npm.author", "Alice*"), []string{w1}},
		{values("npm.author", "BOB@example.org"), []string{w2}},
		{values("npm.author", "carol"), []string{gadget}},
		{values("npm.description", "parser"), []string{w1}},
		{values("npm.description", "*json parser*"), []string{w1}},
		{values("npm.description", "widget"), []string{w2}},
		{values("npm.description", "widget*"), []string{w1, w2}},
		{values("npm.keywords", "json"), []string{w1, w2}},
		{values("npm.keywords", "tools"), []string{gadget}},
		{values("npm.license", "mit"), []string{w1}},
		{values("npm.license", "Apache-2.0"), []string{w2}},
		{values("npm.license", "ISC"), []string{gadget}},
		{values("npm.tagged_is", "unstable"), nil},
		{values("npm.tagged_not", "unstable"), []string{w1, w2, gadget}},
		{values("gavec", "::"), []string{lib, snap, app}},
		{values("npm.author", "alice", "npm.license", "apache-2.0"), nil},
		{values("npm.scope", "acme", "npm.keywords", "json", "version", "2.*"), []string{w2}},
		{values("npm.keywords", "nothing"), nil},
		{values("prerelease", "true"), []string{w2, snap}},
		{values("prerelease", "TRUE", "format", "npm"), []string{w2}},
		{values("prerelease", "false", "format", "npm"), []string{w1, gadget}},
		{values("prerelease", "false", "repository", "maven-m"), []string{lib, app}},
		{values("prerelease", "false", "repository", "raw-a"), []string{"docs/readme.txt@"}},
		{values("prerelease", "true", "format", "raw"), nil},
		{values("gavec", "org.example:lib"), []string{lib, snap}},
		{values("gavec", "org.example:lib:1.0"), []string{lib}},
		{values("gavec", "::1.0"), []string{lib, app}},
		{values("gavec", "org.example:lib::jar:sources"), []string{lib}},
		{values("gavec", "*:*:*:pom"), []string{lib, app}},
		{values("gavec", "com.acme:app:1.0:jar:sources"), nil},
		{values("gavec", "org.example", "maven.groupId", "org.example", "prerelease", "true"), []string{snap}},
	} {
		fx.want(tc.q, tc.want...)
	}
	// Asset searches keep the assets the asset terms match, of the
	// components the metadata terms match.
	for _, tc := range []struct {
		q    url.Values
		want []string
	}{
		{values("gavec", "org.example:lib:1.0::sources"), []string{"org/example/lib/1.0/lib-1.0-sources.jar"}},
		{values("npm.tagged_not", "unstable", "npm.license", "apache*"), []string{"@acme/widget/-/widget-2.0.0-beta.1.tgz"}},
		{values("npm.license", "isc", "prerelease", "false"), []string{"gadget/-/gadget-1.0.0.tgz"}},
	} {
		q, err := fx.s.ParseQuery(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		as, _, err := fx.s.Assets(fx.admin, q, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.Path)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("assets of %s: %v, want %v", tc.q.Encode(), got, tc.want)
		}
	}
}

// As in Nexus, versions below 1.0.0 are tagged unstable; the others are
// not.
func TestUnstableTag(t *testing.T) {
	fx := newFixture(t)
	for _, v := range []string{"0.9.0", "1.0.0-rc.1", "1.0.0", "1.2.0"} {
		fx.publish(npmtest.Package{Name: "early", Version: v}, "latest")
	}
	fx.want(values("npm.tagged_is", "unstable"), "early@0.9.0", "early@1.0.0-rc.1")
	fx.want(values("npm.tagged_not", "unstable"), "early@1.0.0", "early@1.2.0")
}

// Bad values of the new parameters are refused naming them.
func TestFormatFilterRefusals(t *testing.T) {
	fx := published(t)
	for param, v := range map[string]url.Values{
		"prerelease":  values("prerelease", "yes"),
		"gavec":       values("gavec", "a:b:c:d:e:f"),
		"npm.license": values("npm.license", "MIT", "format", "maven2"),
	} {
		_, err := fx.found(v)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != param {
			t.Errorf("%s: %v, want a field error naming %s", v.Encode(), err, param)
		}
	}
	_, err := fx.found(values("gavec", "org.example:lib", "maven.artifactId", "app"))
	var fe *errs.FieldError
	if !errors.As(err, &fe) || fe.Field != "gavec" {
		t.Errorf("gavec disagreeing with maven.artifactId: %v", err)
	}
}

// A metadata term reads what a repository stores: a package whose
// packument is gone (a component left behind) has no values.
func TestMetadataTermWithoutDocument(t *testing.T) {
	fx := published(t)
	fx.put(map[*meta.Component][]string{
		{Repository: "npm-a", Format: "npm", Name: "orphan", Version: "1.0.0"}: {"orphan/-/orphan-1.0.0.tgz"}})
	fx.want(values("npm.description", "*", "name", "orphan"))
	fx.want(values("npm.tagged_not", "unstable", "name", "orphan"), "orphan@1.0.0")
}

// A proxy's metadata terms read the packument it has cached, never its
// upstream: the answer changes when the proxy refreshes the packument.
func TestProxyMetadataTerms(t *testing.T) {
	fx := newFixture(t)
	var mu sync.Mutex
	description, asked := "first cut", 0
	tarballs := map[string][]byte{}
	var upstream *httptest.Server
	upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked++
		if b, ok := tarballs[strings.TrimPrefix(req.URL.Path, "/")]; ok {
			w.Write(b)
			return
		}
		versions := map[string]any{}
		for _, v := range []string{"1.0.0", "2.0.0"} {
			p := npmtest.Package{Name: "px", Version: v, Extra: map[string]any{"license": "MIT", "description": description}}
			m := p.Manifest(p.Tarball())
			m["dist"].(map[string]any)["tarball"] = upstream.URL + "/" + p.Path()
			versions[v], tarballs[p.Path()] = m, p.Tarball()
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "px", "dist-tags": map[string]string{"latest": "2.0.0"}, "versions": versions})
	}))
	defer upstream.Close()
	cfg := repo.Config{Name: "npm-proxy", Format: "npm", Type: "proxy", Online: true,
		Storage:       repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true},
		Proxy:         &repo.ProxySettings{RemoteURL: upstream.URL, ContentMaxAge: 1440, MetadataMaxAge: 0},
		NegativeCache: &repo.NegativeCache{TimeToLive: 1440}, HTTPClient: &repo.HTTPClient{}}
	if err := fx.repos.Create(fx.admin, cfg); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"px", "px/-/px-1.0.0.tgz", "px/-/px-2.0.0.tgz"} {
		fx.send("npm-proxy", http.MethodGet, p, nil)
	}
	// A proxy records what it fetched after it has served it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got, _ := fx.found(values("name", "px")); len(got) == 2 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the proxy's components: %v", got)
		}
	}
	fx.want(values("npm.description", "first", "npm.license", "mit"), "px@1.0.0", "px@2.0.0")
	mu.Lock()
	description, before := "second cut", asked
	mu.Unlock()
	fx.want(values("npm.description", "second"))
	if asked != before {
		t.Fatalf("a search asked the upstream %d times", asked-before)
	}
	fx.send("npm-proxy", http.MethodGet, "px", nil)
	fx.want(values("npm.description", "second"), "px@1.0.0", "px@2.0.0")
	fx.want(values("npm.description", "first"))
}

// Metadata terms read the store while writes grow it: a read nested in
// the scan's transaction would deadlock bbolt (a writer waiting to remap
// the file blocks new reads, and the scan waits on its nested read).
func TestMetadataSearchDuringWrites(t *testing.T) {
	fx := published(t)
	hung := time.AfterFunc(2*time.Minute, func() { panic("a metadata search and writes deadlocked") })
	defer hung.Stop()
	done := make(chan struct{})
	searched := make(chan error, 1)
	go func() {
		n := 0
		for {
			select {
			case <-done:
				if n == 0 {
					searched <- errors.New("no search ran")
				}
				close(searched)
				return
			default:
			}
			q, _ := fx.s.ParseQuery(values("npm.description", "*widget*"))
			if _, _, err := fx.s.Components(fx.admin, q, "", MaxLimit); err != nil {
				searched <- err
				close(searched)
				return
			}
			n++
		}
	}()
	for i := range 300 {
		fx.publish(npmtest.Package{Name: "filler", Version: "1.0." + strconv.Itoa(i),
			Extra: map[string]any{"description": strings.Repeat("filler widget ", 200)}}, "latest")
	}
	close(done)
	if err := <-searched; err != nil {
		t.Fatal(err)
	}
}
