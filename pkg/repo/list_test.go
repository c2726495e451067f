package repo

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// listAll pages through folder dir of r, limit entries a page, and returns
// the entries' SortKeys, failing on a page that repeats or misorders one.
func listAll(t *testing.T, r Repository, dir string, limit int) []string {
	t.Helper()
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatalf("%s %q by %d: paging does not end", r.Name(), dir, limit)
		}
		entries, next, err := r.List(context.Background(), dir, after, limit)
		if err != nil {
			t.Fatalf("%s List(%q, after %q, %d): %v", r.Name(), dir, after, limit, err)
		}
		if len(entries) > limit {
			t.Fatalf("%s by %d: page of %d", r.Name(), limit, len(entries))
		}
		for _, e := range entries {
			if k := e.SortKey(); len(got) > 0 && k <= got[len(got)-1] {
				t.Fatalf("%s by %d: %q listed after %q", r.Name(), limit, k, got[len(got)-1])
			}
			got = append(got, e.SortKey())
		}
		if next == "" {
			return got
		}
		if len(entries) == 0 || next != entries[len(entries)-1].SortKey() {
			t.Fatalf("%s by %d: next %q after a page ending %v", r.Name(), limit, next, entries)
		}
		after = next
	}
}

// children is the expected root listing of paths.
func children(paths []string) []string {
	var out []string
	for _, p := range paths {
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = p[:i+1]
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func TestHostedListPages(t *testing.T) {
	e := newEnv(t)
	h := e.create(hostedCfg("h", "allow"))
	var paths []string
	for i := range 25 {
		paths = append(paths, fmt.Sprintf("f%02d", i), fmt.Sprintf("d%02d/x", i), fmt.Sprintf("d%02d/y/z", i))
	}
	// "d00.txt" and "d00-b" sort before the folder d00/, "d000" is the
	// first key past it.
	paths = append(paths, "d00.txt", "d00-b", "d000")
	for _, p := range paths {
		put(t, h, p, p)
	}
	want := children(paths)
	for _, limit := range []int{1, 2, 7, 51, 52, 1000} {
		if got := listAll(t, h, "", limit); !slices.Equal(got, want) {
			t.Fatalf("by %d: %v, want %v", limit, got, want)
		}
	}
	if got := listAll(t, h, "d03", 1); !slices.Equal(got, []string{"x", "y/"}) {
		t.Fatalf("d03 = %v", got)
	}
	entries, _, err := h.List(context.Background(), "d03", "", 0)
	if err != nil || entries[0].Path != "d03/x" || entries[0].Asset == nil || entries[1].Path != "d03/y" || !entries[1].Dir {
		t.Fatalf("d03 entries = %+v, %v", entries, err)
	}
}

func TestProxyListPages(t *testing.T) {
	e := newEnv(t)
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.URL.Path)) })
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	paths := []string{"a", "b/c", "b/d", "b.txt", "e/f/g", "h"}
	for _, path := range paths {
		read(t, context.Background(), p, path)
	}
	waitIdle(t, p)
	want := children(paths)
	for _, limit := range []int{1, 2, 5} {
		if got := listAll(t, p, "", limit); !slices.Equal(got, want) {
			t.Fatalf("by %d: %v, want %v", limit, got, want)
		}
	}
}

// TestGroupListPages: members with overlapping names, files and folders,
// page through the group with neither a duplicate nor a miss, whatever the
// page size, and a name both hold is the first member's.
func TestGroupListPages(t *testing.T) {
	e := newEnv(t)
	h1 := e.create(hostedCfg("h1", "allow"))
	h2 := e.create(hostedCfg("h2", "allow"))
	h3 := e.create(hostedCfg("h3", "allow"))
	var all []string
	for i := range 40 {
		var p string
		switch {
		case i%3 == 0:
			p = fmt.Sprintf("n%02d", i)
		case i%3 == 1:
			p = fmt.Sprintf("n%02d/file", i)
		default:
			p = fmt.Sprintf("n%02d.txt", i)
		}
		all = append(all, p)
		// Every name is in h1 or h2 and many in both; h3 holds every
		// fourth one again.
		if i%2 == 0 || i%5 == 0 {
			put(t, h1, p, "h1")
		}
		if i%2 == 1 || i%5 == 0 {
			put(t, h2, p, "h2")
		}
		if i%4 == 0 {
			put(t, h3, p, "h3")
		}
	}
	put(t, h2, "n00/under-a-file-name", "h2") // a folder of h2 named as h1's asset
	all = append(all, "n00/under-a-file-name")
	g := e.create(groupCfg("g", "h1", "h2", "h3"))
	outer := e.create(groupCfg("outer", "h3", "g"))
	want := children(all)
	for _, r := range []Repository{g, outer} {
		for _, limit := range []int{1, 2, 3, 7, 40, 41, 1000} {
			if got := listAll(t, r, "", limit); !slices.Equal(got, want) {
				t.Fatalf("%s by %d: %v, want %v", r.Name(), limit, got, want)
			}
		}
	}
	entries, _, err := g.List(context.Background(), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Name == "n00" && !en.Dir && en.Asset.Repository != "h1" {
			t.Fatalf("n00 from %s, want the first member's", en.Asset.Repository)
		}
		if en.Name == "n30" && en.Asset.Repository != "h1" {
			t.Fatalf("n30, in h1 and h2, from %s", en.Asset.Repository)
		}
	}
}
