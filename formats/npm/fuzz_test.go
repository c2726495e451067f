package npm

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// FuzzPackument feeds request paths to the route parser and documents to
// the packument scanner: no panic, on any bytes; a route's package name
// never reaches outside it; a valid document rewrites and abbreviates into
// valid JSON that keeps its names.
func FuzzPackument(f *testing.F) {
	f.Add("@scope/name/-/name-1.0.0.tgz", []byte(`{"name":"a","versions":{"1.0.0":{"dist":{"tarball":"http://upstream.example/a/-/a-1.0.0.tgz"}}}}`))
	f.Add("-/package/@a/b/dist-tags/next", []byte(`{"versions":{"1":{"dist":{}}},"time":{"modified":"x"}}`))
	f.Add("a/-rev/1-abc", []byte(`{"a":"\"}\\","versions":[1,{"x":"}"}]}`))
	f.Add("@../x", []byte(` { "versions" : { "v" : { "dist" : { "tarball" : "" } } } } `))
	base, _ := url.Parse("http://127.0.0.1/repository/r/")
	f.Fuzz(func(t *testing.T, p string, doc []byte) {
		if rt, err := parseRoute(p); err == nil && rt.name != "" {
			for _, seg := range strings.Split(rt.name, "/") {
				if seg == "" || strings.HasPrefix(seg, ".") || strings.HasPrefix(seg, "@.") {
					t.Fatalf("route %q has package name %q", p, rt.name)
				}
			}
			if strings.Contains(rt.rest, "/") && rt.kind == routeTarball {
				t.Fatalf("route %q has tarball file %q", p, rt.rest)
			}
		}
		// Documents not known to be JSON (a proxy's cache, read for
		// checksums) are scanned too: no panic, whatever they hold.
		abbreviate(doc)
		manifestOf(doc, "1.0.0")
		tarballDist(doc, "a", "a-1.0.0.tgz")
		out, err := rewriteTarballs(doc, base, "a")
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("rewrite of %q is not JSON: %q", doc, out)
		}
		short, err := abbreviate(out)
		if err != nil {
			t.Fatalf("abbreviate of a rewritten document: %v", err)
		}
		if !json.Valid(short) {
			t.Fatalf("abbreviation of %q is not JSON: %q", out, short)
		}
		var in, got map[string]any
		json.Unmarshal(doc, &in)
		json.Unmarshal(out, &got)
		if !reflect.DeepEqual(in["name"], got["name"]) || len(in) != len(got) {
			t.Fatalf("rewrite changed more than URLs: %q → %q", doc, out)
		}
	})
}
