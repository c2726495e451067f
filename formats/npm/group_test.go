package npm

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A group serves every member's packages with tarball URLs of the group;
// a package a hosted member has comes from hosted members only (a public
// "foo" 2.0.0 does not shadow the private "foo" 1.0.0) unless
// mergeProxiedVersions says so; dist-tags come from the first member in
// order that has the package; time is merged.
func TestGroupMerge(t *testing.T) {
	reg := newRegistry(t)
	reg.add(t, "foo", []string{"1.0.0", "2.0.0"}, "")
	reg.add(t, "upstream-only", []string{"3.1.4"}, "")
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	h2 := fx.hosted("npm-hosted2")
	fx.proxy("npm-proxy", reg.URL+"/")
	g := fx.group("npm-group", "npm-hosted", "", "npm-hosted", "npm-proxy", "npm-hosted2")
	fx.publish(h, npmtest.Package{Name: "foo", Version: "1.0.0"})
	fx.publish(h2, npmtest.Package{Name: "foo", Version: "1.5.0"})

	d := fx.doc(g, "foo")
	if len(d.Versions) != 2 || d.Versions["1.0.0"] == nil || d.Versions["1.5.0"] == nil || d.Versions["2.0.0"] != nil {
		t.Fatalf("group versions of a hosted package: %v", keysOf(d.Versions))
	}
	if d.DistTags["latest"] != "1.0.0" {
		t.Errorf("dist-tags %v: want the first member's", d.DistTags)
	}
	if d.Time["1.5.0"] == "" || d.Time["1.0.0"] == "" {
		t.Errorf("time not merged: %v", d.Time)
	}
	if want := "http://127.0.0.1/repository/npm-group/foo/-/foo-1.5.0.tgz"; d.tarballURL("1.5.0") != want {
		t.Errorf("tarball URL %s, want %s", d.tarballURL("1.5.0"), want)
	}
	u := fx.doc(g, "upstream-only")
	if want := "http://127.0.0.1/repository/npm-group/upstream-only/-/upstream-only-3.1.4.tgz"; u.tarballURL("3.1.4") != want {
		t.Errorf("proxied tarball URL through the group %s, want %s", u.tarballURL("3.1.4"), want)
	}
	fx.get(g, "upstream-only/-/upstream-only-3.1.4.tgz", nil, http.StatusOK)
	// Nor does a tarball URL of the public foo get through the group.
	fx.get(g, "foo/-/foo-2.0.0.tgz", nil, http.StatusNotFound)
	fx.get(g, "foo/-/foo-1.5.0.tgz", nil, http.StatusOK)

	// Right after a member changes, the merge shows it; a publish to the
	// group lands in its writable member.
	fx.publish(g, npmtest.Package{Name: "foo", Version: "1.0.1"})
	if _, err := h.Stat(t.Context(), "foo/-/foo-1.0.1.tgz"); err != nil {
		t.Fatalf("a publish to the group is not in its writable member: %v", err)
	}
	if d := fx.doc(g, "foo"); d.Versions["1.0.1"] == nil || d.DistTags["latest"] != "1.0.1" {
		t.Fatalf("after a publish: %v %v", keysOf(d.Versions), d.DistTags)
	}

	// npm deprecate through the group: the document read for writing is
	// the writable member's, whose _rev the update names.
	d = fx.doc(g, "foo")
	var wd map[string]any
	json.Unmarshal(fx.get(g, "foo?write=true", nil, http.StatusOK), &wd)
	if wd["_rev"] == d.Rev || len(wd["versions"].(map[string]any)) != 2 {
		t.Fatalf("the write document through the group: _rev %v (merge's %s), %d versions", wd["_rev"], d.Rev, len(wd["versions"].(map[string]any)))
	}
	wd["versions"].(map[string]any)["1.0.0"].(map[string]any)["deprecated"] = "old"
	if w := fx.do(t.Context(), g, http.MethodPut, "foo", mustJSON(wd), nil); w.Code != http.StatusOK {
		t.Fatalf("deprecate through the group: %d %s", w.Code, w.Body.String())
	}
	if d := fx.doc(g, "foo"); d.Versions["1.0.0"]["deprecated"] != "old" || d.Versions["1.5.0"] == nil {
		t.Fatalf("after deprecating through the group: %v", d.Versions["1.0.0"])
	}

	// Merging proxied versions, with the proxy first: its dist-tags.
	m := fx.group("npm-merged", "", `{"mergeProxiedVersions":true}`, "npm-proxy", "npm-hosted")
	d = fx.doc(m, "foo")
	fx.get(m, "foo/-/foo-2.0.0.tgz", nil, http.StatusOK)
	if len(d.Versions) != 3 || d.Versions["2.0.0"] == nil || d.DistTags["latest"] != "2.0.0" {
		t.Fatalf("merged group: versions %v, dist-tags %v", keysOf(d.Versions), d.DistTags)
	}
	if d.Time["created"] != "2020-01-01T00:00:00.000Z" {
		t.Errorf("merged created %s, want the earliest", d.Time["created"])
	}
	if w := fx.publishTo(t.Context(), m, npmtest.Package{Name: "bar", Version: "1.0.0"}, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("publish to a group without a writable member: %d %s", w.Code, w.Body.String())
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The "npm" section is optional; mergeProxiedVersions is for groups.
func TestValidate(t *testing.T) {
	f := New(nil, nil)
	for _, c := range []struct {
		cfg string
		ok  bool
	}{
		{`{"type":"hosted"}`, true},
		{`{"type":"hosted","npm":{}}`, true},
		{`{"type":"group","npm":{"mergeProxiedVersions":true}}`, true},
		{`{"type":"proxy","npm":{"mergeProxiedVersions":true}}`, false},
		{`{"type":"group","npm":{"mergeProxiedVersions":"yes"}}`, false},
	} {
		var cfg repo.Config
		if err := json.Unmarshal([]byte(c.cfg), &cfg); err != nil {
			t.Fatal(err)
		}
		if err := f.Validate(&cfg); (err == nil) != c.ok {
			t.Errorf("Validate(%s): %v", c.cfg, err)
		}
	}
}
