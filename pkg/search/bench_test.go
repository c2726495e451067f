package search

import (
	"fmt"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// BenchmarkSearch measures the first page of kinds of queries over 100,000
// components (raw, Maven, npm): literal heads seek in the index; a pattern
// with no literal head visits every component, as every search did
// before the index.
func BenchmarkSearch(b *testing.B) {
	fx := newFixture(b)
	const n = 100_000
	for start := 0; start < n; start += 10_000 {
		comps := map[*meta.Component][]string{}
		for i := start; i < start+10_000; i++ {
			switch i % 3 {
			case 0:
				p := fmt.Sprintf("files/%06d.bin", i)
				comps[&meta.Component{Repository: "raw-a", Format: "raw", Name: p}] = []string{p}
			case 1:
				a := fmt.Sprintf("art%06d", i)
				comps[&meta.Component{Repository: "maven-a", Format: "maven2", Group: fmt.Sprintf("org.g%03d", i%500), Name: a, Version: "1.0"}] =
					[]string{"org/g/" + a + "/1.0/" + a + "-1.0.jar"}
			default:
				p := fmt.Sprintf("pkg%06d", i)
				comps[&meta.Component{Repository: "npm-a", Format: "npm", Name: p, Version: "1.0.0"}] = []string{p + "/-/" + p + "-1.0.0.tgz"}
			}
		}
		fx.put(comps)
	}
	for _, q := range []struct {
		name string
		q    Query
	}{
		{"name-prefix", Query{Name: "pkg0001*"}},
		{"exact-name", Query{Name: "art000100"}},
		{"group", Query{Terms: map[string]string{"maven.groupId": "org.g042"}}},
		{"repository", Query{Repository: "raw-a"}},
		{"no-literal-head", Query{Name: "*99999*"}},
		// Sorted: an exact lookup sorts its few matches; a query with no
		// literal head reads the sort's own index, a page at a time.
		{"exact-name-sorted-desc", Query{Name: "art000100", Sort: "version", Direction: "desc"}},
		{"all-sorted-by-name", Query{Sort: "name"}},
	} {
		b.Run(q.name, func(b *testing.B) {
			var visited int
			for b.Loop() {
				var err error
				if _, _, visited, err = fx.s.components(fx.admin, q.q, "", DefaultLimit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(visited), "entries/op")
		})
	}
}
