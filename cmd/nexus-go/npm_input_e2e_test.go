package main

// Bad input to npm repositories, over plain HTTP: each publish the format
// refuses gets npm's JSON error ({"error": "..."}) with a 4xx status, each
// path that escapes its package a 4xx, and none changes what is stored.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// wantNpmError requires one of the statuses (any 4xx if none is given)
// and npm's error format: a JSON object whose "error" says why.
func wantNpmError(t *testing.T, what string, res result, want ...int) {
	t.Helper()
	ok := len(want) == 0 && res.status/100 == 4
	for _, w := range want {
		ok = ok || res.status == w
	}
	if !ok {
		t.Errorf("%s: status %d, want %v (none: a 4xx): %q", what, res.status, want, res.body)
		return
	}
	var body struct {
		Error string `json:"error"`
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	if err := json.Unmarshal(res.body, &body); err != nil || body.Error == "" {
		t.Errorf("%s: not npm's JSON error (%v): %q", what, err, res.body)
	}
}

// npmStored is what a repository holds: every asset's path and sha256,
// and the blob store's files, sorted.
func npmStored(s *nexusServer, repo string) string {
	s.t.Helper()
	var lines []string
	for _, a := range s.assets(repo) {
		lines = append(lines, a.Path+" "+a.Checksum["sha256"])
	}
	for f, size := range s.blobFiles() {
		lines = append(lines, fmt.Sprintf("blob %s %d", f, size))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

func TestNpmBadInput(t *testing.T) {
	s := startServer(t)
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-hosted", "allow_once"))
	dev := s.createNpmUser("dev", "dev-password-1")
	registry := s.npmRepoURL("npm-hosted")
	victim := npmPkg{name: "victim", version: "1.0.0"}
	put := func(name string, body []byte) result {
		t.Helper()
		return npmDo(t, http.MethodPut, registry+npmEscape(name), basic(dev), body, nil)
	}
	if res := put(victim.name, victim.publishBody(registry)); res.status/100 != 2 {
		t.Fatalf("publishing %s: %d %s", victim.name, res.status, res.body)
	}
	packument := npmDo(t, http.MethodGet, registry+"victim", basic(dev), nil, nil)
	var current struct {
		Rev string `json:"_rev"`
	}
	if err := json.Unmarshal(packument.body, &current); err != nil || current.Rev == "" {
		t.Fatalf("victim's packument has no _rev (%v): %s", err, packument.body)
	}
	rev := current.Rev // updates name the revision they change, as npm deprecate's do
	before := npmStored(s, "npm-hosted")
	unchanged := func(what string) {
		t.Helper()
		if after := npmStored(s, "npm-hosted"); after != before {
			t.Errorf("%s changed what is stored:\nbefore:\n%safter:\n%s", what, before, after)
			before = after // the next case is judged on its own
		}
		if res := npmDo(t, http.MethodGet, registry+"victim", basic(dev), nil, nil); res.status != http.StatusOK || string(res.body) != string(packument.body) {
			t.Errorf("%s changed victim's packument: %d %s", what, res.status, res.body)
		}
	}
	absent := func(what string, names ...string) {
		t.Helper()
		for _, n := range names {
			// 400: a name npm refuses is no package.
			if res := npmDo(t, http.MethodGet, registry+npmEscape(n), basic(dev), nil, nil); res.status != http.StatusNotFound && res.status != http.StatusBadRequest {
				t.Errorf("%s: GET %s answers %d after the refused publish, want 404 (or 400)", what, n, res.status)
			}
		}
	}

	// Publish bodies the format must refuse, each of a package of its own
	// (name, in the URL), which must be absent afterwards.
	tgzOf := func(name string) []byte { return npmPkg{name: name, version: "1.0.0"}.tarball() }
	distOf := func(name string, tgz []byte, k, v string) map[string]any {
		d := npmDist(registry, name, name+"-1.0.0.tgz", tgz)
		if k != "" {
			d[k] = v
		}
		return d
	}
	otherBytes := npmDist(registry, "x", "x-1.0.0.tgz", []byte("other bytes"))
	bodyOf := func(name, k, v string) []byte {
		tgz := tgzOf(name)
		return npmPkg{name: name, version: "1.0.0"}.publishBodyOf(tgz, distOf(name, tgz, k, v))
	}
	withAttachment := func(body []byte, key string, val any) []byte {
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		doc["_attachments"] = map[string]any{key: val}
		out, _ := json.Marshal(doc)
		return out
	}
	// Each is a 400, but for a body of no attachment, which is an update
	// (as npm deprecate's), of a package that does not exist: 404 says so.
	bodies := []struct {
		what, name string
		body       []byte
		status     []int
	}{
		{"wrong integrity", "bad-integrity", bodyOf("bad-integrity", "integrity", otherBytes["integrity"].(string)), nil},
		{"wrong shasum", "bad-shasum", bodyOf("bad-shasum", "shasum", otherBytes["shasum"].(string)), nil},
		{"integrity of another algorithm", "bad-sri", bodyOf("bad-sri", "integrity", "md5-AAAAAAAAAAAAAAAAAAAAAA=="), nil},
		{"name in URL and body differ", "url-name", bodyOf("body-name", "", ""), nil},
		{"name in tarball differs", "inner-a", npmPkg{name: "inner-a", version: "1.0.0"}.publishBodyOf(
			tgzOf("inner-b"), distOf("inner-a", tgzOf("inner-b"), "", "")), nil},
		{"malformed JSON", "broken", []byte(`{"name":"broken","versions":{"1.0.0":{"name":"broken"`), nil},
		{"versions not an object", "broken-versions", []byte(`{"_id":"broken-versions","name":"broken-versions",` +
			`"dist-tags":{"latest":"1.0.0"},"versions":["1.0.0"],"_attachments":{}}`), []int{400, 404}},
		{"an update of victim with versions not an object", "victim", []byte(`{"_id":"victim","name":"victim",` +
			`"_rev":"` + rev + `","dist-tags":{"latest":"1.0.0"},"versions":["1.0.0"]}`), nil},
		{"an update of victim of malformed JSON", "victim", []byte(`{"_id":"victim","name":"victim","_rev":"` + rev + `","versions":{`), nil},
		{"attachment not base64", "bad-base64", withAttachment(bodyOf("bad-base64", "", ""), "bad-base64-1.0.0.tgz",
			map[string]any{"content_type": "application/octet-stream", "data": "!!not base64!!", "length": 14}), nil},
		{"attachment name escaping", "bad-attachment", withAttachment(bodyOf("bad-attachment", "", ""), "../../evil-1.0.0.tgz",
			map[string]any{"content_type": "application/octet-stream", "data": base64.StdEncoding.EncodeToString(tgzOf("bad-attachment")), "length": 1}), nil},
		{"version not semver", "bad-version", npmPkg{name: "bad-version", version: "../../1.0.0"}.publishBody(registry), nil},
		{"name npm refuses", ".hidden", npmPkg{name: ".hidden", version: "1.0.0"}.publishBody(registry), nil},
	}
	for _, b := range bodies {
		if b.status == nil {
			b.status = []int{http.StatusBadRequest}
		}
		wantNpmError(t, b.what, put(b.name, b.body), b.status...)
		unchanged(b.what)
		if b.name != "victim" {
			absent(b.what, b.name, "body-name", "inner-b", "evil")
		}
	}
	republish := npmPkg{name: "victim", version: "1.0.0", extra: map[string]any{"description": "replaced"}}
	wantNpmError(t, "republish of victim's version", put("victim", republish.publishBody(registry)), http.StatusForbidden)
	unchanged("republish of victim's version")

	// Paths that leave their package or repository: refused before
	// anything is read or written.
	body := npmPkg{name: "evil", version: "1.0.0"}.publishBody(registry)
	for _, target := range []string{
		"/repository/npm-hosted/%2e%2e",
		"/repository/npm-hosted/%2e%2e%2fevil",
		"/repository/npm-hosted/..%2F..%2Fevil",
		"/repository/npm-hosted/@e2e%2f%2e%2e",
		"/repository/npm-hosted/@%2e%2e%2fevil",
		"/repository/npm-hosted/@e2e%2f..%2f..%2fevil",
		"/repository/npm-hosted/victim/%2e%2e/%2e%2e/evil",
		"/repository/npm-hosted/%2e%2e/npm-other/evil",
	} {
		status, out, err := s.rawRequest(http.MethodPut, target, dev, body)
		if err != nil {
			t.Fatalf("PUT %s: %v", target, err)
		}
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("PUT %s: status %d, want 400 or 404: %q", target, status, out)
		}
		unchanged("PUT " + target)
	}
	for _, target := range []string{
		"/repository/npm-hosted/victim/-/..%2f..%2fvictim-1.0.0.tgz",
		"/repository/npm-hosted/victim/-/%2e%2e/victim-1.0.0.tgz",
		"/repository/npm-hosted/victim/-/%2e%2e%2f%2e%2e%2fvictim%2f-%2fvictim-1.0.0.tgz",
		"/repository/npm-hosted/victim/-/victim-1.0.0.tgz%00.tgz",
		"/repository/npm-hosted/%2e%2e%2fvictim/-/victim-1.0.0.tgz",
	} {
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			tgt := target
			if method == http.MethodDelete {
				tgt += "/-rev/1"
			}
			status, out, err := s.rawRequest(method, tgt, dev, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", method, tgt, err)
			}
			if status != http.StatusBadRequest && status != http.StatusNotFound {
				t.Errorf("%s %s: status %d, want 400 or 404: %q", method, tgt, status, out)
			}
			// In npm's error shape, even where the server refuses the path
			// before the format sees it.
			var e struct{ Error string }
			if json.Unmarshal([]byte(out), &e) != nil || e.Error == "" {
				t.Errorf("%s %s: %q is not an npm error", method, tgt, out)
			}
		}
		unchanged("GET and DELETE " + target)
	}
	absent("the traversals", "evil")
}

// TestNpmPublishOverLimit: a publish whose tarball makes the body larger
// than upload.max-size is refused with 413 and stores nothing; a smaller
// one on the same server is published.
func TestNpmPublishOverLimit(t *testing.T) {
	s := startServerEnv(t, "NEXUS_GO_UPLOAD_MAX_SIZE=64KiB")
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-hosted", "allow_once"))
	dev := s.createNpmUser("dev", "dev-password-1")
	registry := s.npmRepoURL("npm-hosted")

	// Random bytes do not compress: the tarball stays over the limit.
	big := npmPkg{name: "big", version: "1.0.0", payload: randomBytes(t, 96<<10)}
	res := npmDo(t, http.MethodPut, registry+"big", basic(dev), big.publishBody(registry), nil)
	wantNpmError(t, "a publish over upload.max-size", res, http.StatusRequestEntityTooLarge)
	if res := npmDo(t, http.MethodGet, registry+"big", basic(dev), nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET big after the refused publish: %d, want 404", res.status)
	}
	if a := s.assets("npm-hosted"); len(a) != 0 {
		t.Errorf("the refused publish stored %+v", a)
	}
	small := npmPkg{name: "small", version: "1.0.0"}
	if res := npmDo(t, http.MethodPut, registry+"small", basic(dev), small.publishBody(registry), nil); res.status/100 != 2 {
		t.Errorf("a publish under the limit: %d %s", res.status, res.body)
	}
}
