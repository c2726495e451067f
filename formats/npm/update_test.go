package npm

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// getWrite is the document npm reads before an update (?write=true),
// decoded as npm holds it.
func (fx *fixture) getWrite(r repo.Repository, name string) map[string]any {
	fx.t.Helper()
	var d map[string]any
	if err := json.Unmarshal(fx.get(r, escaped(name)+"?write=true", map[string]string{"Accept": "application/json"}, http.StatusOK), &d); err != nil {
		fx.t.Fatal(err)
	}
	return d
}

// npm deprecate and npm unpublish <pkg>@<v> send back the document they
// read, changed, naming its _rev; a stale _rev is a 409 and changes
// nothing; versions cannot be added or altered this way; an unpublished
// version is never published again.
func TestDeprecateAndUnpublish(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	for _, v := range []string{"1.0.0", "1.1.0", "2.0.0"} {
		fx.publish(h, npmtest.Package{Name: "@acme/lib", Version: v})
	}
	put := func(path string, d map[string]any) (int, string) {
		w := fx.do(t.Context(), h, http.MethodPut, path, mustJSON(d), nil)
		return w.Code, w.Body.String()
	}

	// npm deprecate: PUT <name> with the whole document.
	d := fx.getWrite(h, "@acme/lib")
	stale := d["_rev"].(string)
	d["versions"].(map[string]any)["1.0.0"].(map[string]any)["deprecated"] = "use 2"
	if code, body := put("@acme%2flib", d); code != http.StatusOK {
		t.Fatalf("deprecate: %d %s", code, body)
	}
	if got := fx.doc(h, "@acme%2flib").Versions["1.0.0"]["deprecated"]; got != "use 2" {
		t.Fatalf("deprecated = %v", got)
	}
	// The same document again names a revision no longer current.
	d["versions"].(map[string]any)["1.1.0"].(map[string]any)["deprecated"] = "old"
	if code, body := put("@acme%2flib", d); code != http.StatusConflict || !strings.Contains(body, "conflict") {
		t.Fatalf("stale _rev: %d %s", code, body)
	}
	if got := fx.doc(h, "@acme%2flib").Versions["1.1.0"]["deprecated"]; got != nil {
		t.Fatalf("a stale update changed the document: %v", got)
	}

	// The document as it was read changes nothing, its _rev included.
	d = fx.getWrite(h, "@acme/lib")
	if code, body := put("@acme%2flib", d); code != http.StatusOK {
		t.Fatalf("an update without changes: %d %s", code, body)
	}
	if rev := fx.doc(h, "@acme%2flib").Rev; rev != d["_rev"] {
		t.Fatalf("an update without changes moved _rev %v to %s", d["_rev"], rev)
	}

	// Versions cannot be altered or added by an update.
	d = fx.getWrite(h, "@acme/lib")
	d["versions"].(map[string]any)["1.1.0"].(map[string]any)["dependencies"] = map[string]string{"evil": "*"}
	if code, body := put("@acme%2flib", d); code != http.StatusBadRequest {
		t.Fatalf("altering a version: %d %s", code, body)
	}
	d = fx.getWrite(h, "@acme/lib")
	d["versions"].(map[string]any)["9.0.0"] = d["versions"].(map[string]any)["1.1.0"]
	if code, body := put("@acme%2flib", d); code != http.StatusBadRequest {
		t.Fatalf("adding a version: %d %s", code, body)
	}

	// npm unpublish @acme/lib@2.0.0: PUT -rev without the version (and
	// latest moved), then DELETE of its tarball with the new _rev.
	d = fx.getWrite(h, "@acme/lib")
	delete(d["versions"].(map[string]any), "2.0.0")
	d["dist-tags"].(map[string]any)["latest"] = "1.1.0"
	if code, body := put("@acme%2flib/-rev/"+d["_rev"].(string), d); code != http.StatusOK {
		t.Fatalf("unpublish of a version: %d %s", code, body)
	}
	after := fx.doc(h, "@acme%2flib")
	if after.Versions["2.0.0"] != nil || after.DistTags["latest"] != "1.1.0" || after.Time["2.0.0"] == "" {
		t.Fatalf("after unpublishing 2.0.0: versions %v, tags %v, time %v", len(after.Versions), after.DistTags, after.Time)
	}
	if _, err := h.Stat(t.Context(), "@acme/lib/-/lib-2.0.0.tgz"); err == nil {
		t.Error("the unpublished version's tarball is still stored")
	}
	w := fx.do(t.Context(), h, http.MethodDelete, "@acme/lib/-/lib-2.0.0.tgz/-rev/"+after.Rev, nil, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("DELETE of the unpublished tarball: %d %s", w.Code, w.Body.String())
	}
	if w := fx.do(t.Context(), h, http.MethodDelete, "@acme/lib/-/lib-1.1.0.tgz/-rev/"+after.Rev, nil, nil); w.Code != http.StatusBadRequest {
		t.Fatalf("DELETE of a published version's tarball: %d %s", w.Code, w.Body.String())
	}
	if w := fx.publishTo(t.Context(), h, npmtest.Package{Name: "@acme/lib", Version: "2.0.0"}, nil); w.Code != http.StatusForbidden {
		t.Fatalf("republishing an unpublished version: %d %s", w.Code, w.Body.String())
	}

	// npm owner add: PUT -rev with _id, _rev and maintainers only.
	owners := []map[string]string{{"name": "admin", "email": "admin@example.org"}, {"name": "dev", "email": "dev@example.org"}}
	cur := fx.doc(h, "@acme%2flib")
	if code, body := put("@acme%2flib/-rev/"+cur.Rev, map[string]any{"_id": "@acme/lib", "_rev": cur.Rev, "maintainers": owners}); code != http.StatusOK {
		t.Fatalf("npm owner add: %d %s", code, body)
	}
	var withOwners struct {
		Maintainers []map[string]string `json:"maintainers"`
		Versions    map[string]any      `json:"versions"`
	}
	json.Unmarshal(fx.get(h, "@acme%2flib", nil, http.StatusOK), &withOwners)
	if len(withOwners.Maintainers) != 2 || len(withOwners.Versions) != 2 {
		t.Fatalf("after npm owner add: %+v", withOwners)
	}

	// npm unpublish @acme/lib: DELETE -rev; a stale one first.
	if w := fx.do(t.Context(), h, http.MethodDelete, "@acme%2flib/-rev/"+stale, nil, nil); w.Code != http.StatusConflict {
		t.Fatalf("unpublish with a stale _rev: %d", w.Code)
	}
	rev := fx.doc(h, "@acme%2flib").Rev
	if w := fx.do(t.Context(), h, http.MethodDelete, "@acme%2flib/-rev/"+rev, nil, nil); w.Code != http.StatusOK {
		t.Fatalf("unpublish: %d %s", w.Code, w.Body.String())
	}
	fx.get(h, "@acme%2flib", nil, http.StatusNotFound)
	if _, err := h.Stat(t.Context(), "@acme/lib/-/lib-1.0.0.tgz"); err == nil {
		t.Error("a tarball of the unpublished package is still stored")
	}
}

// npm dist-tag add, ls and rm.
func TestDistTags(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	g := fx.group("npm-group", "npm-hosted", "", "npm-hosted")
	fx.publish(h, npmtest.Package{Name: "tagged", Version: "1.0.0"})
	fx.publish(h, npmtest.Package{Name: "tagged", Version: "2.0.0-beta.1"})
	tag := func(r repo.Repository, method, tag, body string) int {
		var b []byte
		if body != "" {
			b = []byte(body)
		}
		return fx.do(t.Context(), r, method, "-/package/tagged/dist-tags/"+tag, b, nil).Code
	}
	if code := tag(g, http.MethodPut, "next", `"2.0.0-beta.1"`); code != http.StatusOK {
		t.Fatalf("dist-tag add through the group: %d", code)
	}
	var tags map[string]string
	json.Unmarshal(fx.get(g, "-/package/tagged/dist-tags", nil, http.StatusOK), &tags)
	if tags["latest"] != "2.0.0-beta.1" || tags["next"] != "2.0.0-beta.1" {
		t.Fatalf("dist-tags %v", tags)
	}
	if code := tag(h, http.MethodPut, "latest", `"1.0.0"`); code != http.StatusOK {
		t.Fatalf("moving latest: %d", code)
	}
	for _, c := range []struct {
		method, tag, body string
		want              int
	}{
		{http.MethodPut, "stable", `"3.0.0"`, http.StatusNotFound},
		{http.MethodPut, "stable", `3`, http.StatusBadRequest},
		{http.MethodPut, "1.0.0", `"1.0.0"`, http.StatusBadRequest},
		{http.MethodDelete, "latest", "", http.StatusBadRequest},
		{http.MethodDelete, "gone", "", http.StatusNotFound},
		{http.MethodDelete, "next", "", http.StatusOK},
	} {
		if code := tag(h, c.method, c.tag, c.body); code != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.method, c.tag, c.body, code, c.want)
		}
	}
	if d := fx.doc(h, "tagged"); len(d.DistTags) != 1 || d.DistTags["latest"] != "1.0.0" {
		t.Fatalf("dist-tags at the end: %v", d.DistTags)
	}
}

// Deletes through the REST API keep the packument in step: a deleted
// tarball's version leaves it (and stays unpublishable), the last one
// takes the packument along.
func TestRESTDeletes(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.publish(h, npmtest.Package{Name: "rest", Version: "1.0.0"})
	fx.publish(h, npmtest.Package{Name: "rest", Version: "2.0.0"})
	deleteAsset := func(p string) {
		t.Helper()
		a, err := h.Stat(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.M.DeleteAsset(t.Context(), a.ID); err != nil {
			t.Fatalf("deleting %s: %v", p, err)
		}
	}
	deleteAsset("rest/-/rest-2.0.0.tgz")
	d := fx.doc(h, "rest")
	if d.Versions["2.0.0"] != nil || d.DistTags["latest"] != "1.0.0" || d.Time["2.0.0"] == "" {
		t.Fatalf("after deleting the 2.0.0 tarball: versions %v, dist-tags %v", keysOf(d.Versions), d.DistTags)
	}
	if w := fx.publishTo(t.Context(), h, npmtest.Package{Name: "rest", Version: "2.0.0"}, nil); w.Code != http.StatusForbidden {
		t.Fatalf("republishing a deleted version: %d", w.Code)
	}
	deleteAsset("rest/-/rest-1.0.0.tgz")
	fx.get(h, "rest", nil, http.StatusNotFound)
}

// Each route checks the privilege its change needs: add to publish, edit
// to deprecate and tag, delete to unpublish; through a group, on the group
// and on its writable member.
func TestPrivileges(t *testing.T) {
	fx := newSecuredFixture(t)
	h := fx.hosted("npm-hosted")
	g := fx.group("npm-group", "npm-hosted", "", "npm-hosted")
	view := func(repo string, actions ...string) []string {
		var out []string
		for _, a := range actions {
			out = append(out, "nx-repository-view-npm-"+repo+"-"+a)
		}
		return out
	}
	reader := fx.user("reader", view("npm-hosted", "browse", "read")...)
	publisher := fx.user("publisher", view("npm-hosted", "browse", "read", "add")...)
	editor := fx.user("editor", view("npm-hosted", "browse", "read", "edit")...)
	deleter := fx.user("deleter", view("npm-hosted", "browse", "read", "delete")...)
	groupOnly := fx.user("group-only", view("npm-group", "browse", "read", "add")...)

	if w := fx.publishTo(reader, h, npmtest.Package{Name: "p", Version: "1.0.0"}, nil); w.Code != http.StatusForbidden {
		t.Fatalf("publish as a reader: %d", w.Code)
	}
	if w := fx.publishTo(groupOnly, g, npmtest.Package{Name: "p", Version: "1.0.0"}, nil); w.Code != http.StatusForbidden {
		t.Fatalf("publish through the group without add on its member: %d", w.Code)
	}
	if w := fx.publishTo(publisher, h, npmtest.Package{Name: "p", Version: "1.0.0"}, nil); w.Code != http.StatusOK {
		t.Fatalf("publish with add: %d %s", w.Code, w.Body.String())
	}
	fx.publishTo(publisher, h, npmtest.Package{Name: "p", Version: "2.0.0"}, nil)
	read := func(ctx context.Context) map[string]any {
		var d map[string]any
		json.Unmarshal(fx.do(ctx, h, http.MethodGet, "p?write=true", nil, nil).Body.Bytes(), &d)
		return d
	}
	deprecate := func(ctx context.Context) int {
		d := read(ctx)
		d["versions"].(map[string]any)["1.0.0"].(map[string]any)["deprecated"] = "old"
		return fx.do(ctx, h, http.MethodPut, "p", mustJSON(d), nil).Code
	}
	unpublish := func(ctx context.Context) int {
		d := read(ctx)
		delete(d["versions"].(map[string]any), "2.0.0")
		d["dist-tags"] = map[string]string{"latest": "1.0.0"}
		return fx.do(ctx, h, http.MethodPut, "p/-rev/"+d["_rev"].(string), mustJSON(d), nil).Code
	}
	tag := func(ctx context.Context) int {
		return fx.do(ctx, h, http.MethodPut, "-/package/p/dist-tags/next", []byte(`"2.0.0"`), nil).Code
	}
	for _, c := range []struct {
		who  string
		ctx  context.Context
		op   func(context.Context) int
		want int
	}{
		{"reader deprecates", reader, deprecate, http.StatusForbidden},
		{"publisher deprecates", publisher, deprecate, http.StatusForbidden},
		{"publisher tags", publisher, tag, http.StatusForbidden},
		{"editor unpublishes", editor, unpublish, http.StatusForbidden},
		{"deleter deprecates", deleter, deprecate, http.StatusForbidden},
		{"editor deprecates", editor, deprecate, http.StatusOK},
		{"editor tags", editor, tag, http.StatusOK},
		{"deleter unpublishes", deleter, unpublish, http.StatusOK},
	} {
		if got := c.op(c.ctx); got != c.want {
			t.Errorf("%s: %d, want %d", c.who, got, c.want)
		}
	}
	d := fx.doc(h, "p")
	if d.Versions["2.0.0"] != nil || d.Versions["1.0.0"]["deprecated"] != "old" {
		t.Fatalf("after the allowed changes: %v", d.Versions)
	}
}
