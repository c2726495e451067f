package search

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Sorted searches return what the unsorted ones do, in the order asked
// for, over pages; an exact lookup sorts its few matches without reading
// the sort's whole index.
func TestSortAndDirection(t *testing.T) {
	fx := newFixture(t)
	fx.generate(600)
	visible := func(string) bool { return true }
	for _, q := range []Query{{}, {Repository: "maven-a"}, {Name: "lib*"}, {Name: "library-5"}, {Format: "npm"},
		{Terms: map[string]string{"maven.groupId": "org.example"}}} {
		want := fx.reference(q, visible)
		for by, kind := range sortIndex {
			for _, dir := range []string{"", "asc", "desc"} {
				sq := q
				sq.Sort, sq.Direction = by, dir
				got := fx.all(fx.admin, sq, 37)
				if !slices.Equal(ids(got), ids(want)) {
					t.Fatalf("%+v: %d results, want %d", sq, len(got), len(want))
				}
				sortedOK := slices.IsSortedFunc(got, func(a, b *meta.Component) int {
					d := strings.Compare(sortField(kind, a), sortField(kind, b))
					if dir == "desc" {
						d = -d
					}
					return d
				})
				if !sortedOK {
					t.Fatalf("%+v: results not in %s %s order", sq, by, dir)
				}
			}
		}
	}
	_, _, visited, err := fx.s.components(fx.admin, Query{Name: "library-5", Sort: "version", Direction: "desc"}, "", 10)
	if err != nil || visited > 2 {
		t.Fatalf("an exact name sorted by version visited %d entries (%v)", visited, err)
	}
}

// Checksum parameters filter for real: a digest stored nowhere finds
// nothing; one stored finds its component only.
func TestChecksumFilters(t *testing.T) {
	fx := newFixture(t)
	fx.generate(50)
	c := &meta.Component{Repository: "raw-a", Format: "raw", Name: "sums/a.bin"}
	a := meta.Asset{Repository: "raw-a", Path: "sums/a.bin", Blob: digest.FromString("sums"), Size: 4,
		Checksums: map[string]string{"sha1": "3c1bb0cd5d67dddc02fae50bf56d3a3a4cbc7204", "md5": "4e5b9e6fd1e3d8b5f7d4b9c61f8a5c01"}}
	if _, _, err := fx.db.PutAssets([]meta.PutAssetRequest{{Component: c, Asset: a}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		param, value string
		want         int
	}{
		{"sha1", "3C1BB0CD5D67DDDC02FAE50BF56D3A3A4CBC7204", 1},
		{"md5", "4e5b9e6fd1e3d8b5f7d4b9c61f8a5c01", 1},
		{"sha256", digest.FromString("sums").Encoded(), 1},
		{"sha1", "0000000000000000000000000000000000000000", 0},
		{"sha512", strings.Repeat("ab", 64), 0},
	} {
		q, err := fx.s.ParseQuery(url.Values{tc.param: {tc.value}})
		if err != nil {
			t.Fatal(err)
		}
		comps := fx.all(fx.admin, q, 10)
		if len(comps) != tc.want || (tc.want == 1 && comps[0].Name != "sums/a.bin") {
			t.Errorf("%s=%s: %d results, want %d", tc.param, tc.value, len(comps), tc.want)
		}
		assets, _, err := fx.s.Assets(fx.admin, q, "", 10)
		if err != nil || len(assets) != tc.want {
			t.Errorf("assets %s=%s: %d results (%v), want %d", tc.param, tc.value, len(assets), err, tc.want)
		}
	}
}

func TestDockerTerms(t *testing.T) {
	fx := newFixture(t)
	fx.generate(100)
	q, err := fx.s.ParseQuery(url.Values{"docker.imageName": {"team/*"}, "docker.imageTag": {"v1.*"}})
	if err != nil {
		t.Fatal(err)
	}
	got := fx.all(fx.admin, q, 10)
	want := fx.reference(Query{Format: "docker", Name: "team/*", Version: "v1.*"}, func(string) bool { return true })
	if len(got) == 0 || !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("docker terms: %d results, want %d", len(got), len(want))
	}
	// The manifest's digest and the digests it references.
	c := &meta.Component{Repository: "docker-a", Format: "docker", Name: "team/digests", Version: "v9"}
	a := meta.Asset{Repository: "docker-a", Path: "v2/team/digests/manifests/v9", Blob: digest.FromString("m"),
		Attributes: map[string]string{"digest": "sha256:" + strings.Repeat("a", 64),
			"refs": "sha256:" + strings.Repeat("c", 64) + " sha256:" + strings.Repeat("1", 64)}}
	if _, _, err := fx.db.PutAssets([]meta.PutAssetRequest{{Component: c, Asset: a}}); err != nil {
		t.Fatal(err)
	}
	for param, tc := range map[string]struct {
		value string
		want  int
	}{
		"docker.contentDigest": {"sha256:" + strings.Repeat("a", 64), 1},
		"docker.layerId":       {"sha256:" + strings.Repeat("1", 64), 1},
	} {
		for _, v := range []string{tc.value, "sha256:" + strings.Repeat("f", 64)} {
			q, err := fx.s.ParseQuery(url.Values{param: {v}})
			if err != nil {
				t.Fatal(err)
			}
			n := len(fx.all(fx.admin, q, 10))
			if want := map[bool]int{true: tc.want, false: 0}[v == tc.value]; n != want {
				t.Errorf("%s=%s: %d results, want %d", param, v, n, want)
			}
		}
	}
}

// Unknown and malformed parameters are refused by name.
func TestParseQueryRefusals(t *testing.T) {
	fx := newFixture(t)
	for param, v := range map[string]url.Values{
		"foo":        {"foo": {"x"}},
		"nuget.id":   {"nuget.id": {"x"}},
		"sort":       {"sort": {"size"}},
		"direction":  {"direction": {"up"}},
		"prerelease": {"prerelease": {"yes"}},
	} {
		_, err := fx.s.ParseQuery(v)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != param {
			t.Errorf("%v: %v, want a field error naming %s", v, err, param)
		}
	}
	if _, err := fx.s.ParseQuery(url.Values{"continuationToken": {"x"}}, "continuationToken"); err != nil {
		t.Errorf("a paging parameter the caller reads: %v", err)
	}
}
