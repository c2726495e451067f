package docker

import (
	"strings"
	"testing"
)

func TestParseRoute(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const id = "0b9d5c3e-7c41-4cf6-9e36-1d2a7cb1b1a1"
	tests := []struct {
		p    string
		want route
	}{
		{"", route{kind: routeBase}},
		{"_catalog", route{kind: routeCatalog}},
		{"app/tags/list", route{kind: routeTags, name: "app"}},
		{"team/app/tags/list", route{kind: routeTags, name: "team/app"}},
		{"team/app/manifests/1.0", route{kind: routeManifest, name: "team/app", ref: "1.0"}},
		{"team/app/manifests/" + d, route{kind: routeManifest, name: "team/app", ref: d}},
		{"team/app/blobs/" + d, route{kind: routeBlob, name: "team/app", ref: d}},
		{"team/app/blobs/uploads/", route{kind: routeUploads, name: "team/app"}},
		{"team/app/blobs/uploads", route{kind: routeUploads, name: "team/app"}},
		{"team/app/blobs/uploads/" + id, route{kind: routeUpload, name: "team/app", ref: id}},
		{"team/app/referrers/" + d, route{kind: routeReferrers, name: "team/app", ref: d}},
		// Names whose segments are the API's own words.
		{"blobs/manifests/1.0", route{kind: routeManifest, name: "blobs", ref: "1.0"}},
		{"manifests/manifests/1.0", route{kind: routeManifest, name: "manifests", ref: "1.0"}},
		{"a/manifests/blobs/" + d, route{kind: routeBlob, name: "a/manifests", ref: d}},
		{"a/blobs/manifests/latest", route{kind: routeManifest, name: "a/blobs", ref: "latest"}},
		{"a/blobs/blobs/" + d, route{kind: routeBlob, name: "a/blobs", ref: d}},
		{"a/blobs/uploads/blobs/" + d, route{kind: routeBlob, name: "a/blobs/uploads", ref: d}},
		{"a/blobs/uploads/blobs/uploads/", route{kind: routeUploads, name: "a/blobs/uploads"}},
		{"a/blobs/uploads/blobs/uploads/" + id, route{kind: routeUpload, name: "a/blobs/uploads", ref: id}},
		{"a/manifests/manifests/" + d, route{kind: routeManifest, name: "a/manifests", ref: d}},
		{"a/tags/list/tags/list", route{kind: routeTags, name: "a/tags/list"}},
		{"a/tags/manifests/list", route{kind: routeManifest, name: "a/tags", ref: "list"}},
		{"a/referrers/manifests/1", route{kind: routeManifest, name: "a/referrers", ref: "1"}},
		{"a/manifests/referrers/" + d, route{kind: routeReferrers, name: "a/manifests", ref: d}},
		{"docker-h/team/app/manifests/1.0", route{kind: routeManifest, name: "docker-h/team/app", ref: "1.0"}},
		// Not routes.
		{"team", route{}},
		{"team/app", route{}},
		{"team/app/", route{}},
		{"team/app/manifests/", route{}},
		{"team/app/blobs/", route{}},
		{"manifests/1.0", route{}},
		{"blobs/" + d, route{}},
		{"blobs/uploads/", route{kind: routeNone}},
		{"team/app/unknown/x", route{}},
		{"team/app/manifests", route{}},
	}
	for _, tt := range tests {
		// The suffixes are tried from a map: repeat to cover its orders.
		for range 20 {
			if got := parseRoute(tt.p); got != tt.want {
				t.Fatalf("parseRoute(%q) = %+v, want %+v", tt.p, got, tt.want)
			}
		}
	}
}

func TestSplitManifestPath(t *testing.T) {
	tests := []struct {
		p, image, ref string
		ok            bool
	}{
		{"v2/team/app/manifests/1.0", "team/app", "1.0", true},
		{"v2/app/manifests/sha256:abc", "app", "sha256:abc", true},
		{"v2/team/app/manifests/manifests/1.0", "team/app/manifests", "1.0", true},
		{"v2/manifests/manifests/1.0", "manifests", "1.0", true},
		{"v2/team/app/blobs/sha256:abc", "", "", false},
		{"v2/team/manifests/blobs/sha256:abc", "", "", false},
		{"v2/manifests/1.0", "", "", false},
		{"v2/team/app/tags/list", "", "", false},
		{"v2/team/app/manifests/", "", "", false},
	}
	for _, tt := range tests {
		image, ref, ok := splitManifestPath(tt.p)
		if image != tt.image || ref != tt.ref || ok != tt.ok {
			t.Errorf("splitManifestPath(%q) = %q, %q, %v; want %q, %q, %v", tt.p, image, ref, ok, tt.image, tt.ref, tt.ok)
		}
	}
}

func TestValidNameAndTag(t *testing.T) {
	for _, name := range []string{"a", "team/app", "a.b", "a_b", "a__b", "a---b", "0/1", strings.Repeat("a", 255)} {
		if !validName(name) {
			t.Errorf("validName(%q) = false", name)
		}
	}
	for _, name := range []string{"", "A", "a..b", "-x", "x-", "a//b", "/a", "a/", "a___b", "a/.b", strings.Repeat("a", 256)} {
		if validName(name) {
			t.Errorf("validName(%q) = true", name)
		}
	}
	for _, tag := range []string{"1.0", "latest", "_x", "A-b.c_d", strings.Repeat("t", 128)} {
		if !tagRe.MatchString(tag) {
			t.Errorf("tag %q refused", tag)
		}
	}
	for _, tag := range []string{"", "-x", ".x", "a/b", "a:b", strings.Repeat("t", 129)} {
		if tagRe.MatchString(tag) {
			t.Errorf("tag %q accepted", tag)
		}
	}
}
