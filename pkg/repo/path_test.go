package repo

import (
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestCleanPath(t *testing.T) {
	cases := []struct {
		in   string
		want string
		dir  bool
		ok   bool
	}{
		{"a/b.txt", "a/b.txt", false, true},
		{"/a/b.txt", "a/b.txt", false, true},
		{"a/b/", "a/b", true, true},
		{"", "", true, true},
		{"a%20b/c", "a b/c", false, true},
		{"a/../b", "", false, false},
		{"..", "", false, false},
		{"a/%2e%2e/b", "", false, false},
		{"a/%2E%2E/b", "", false, false},
		{"a%2fb", "", false, false},
		{"a%2Fb", "", false, false},
		{"a\\b", "", false, false},
		{"a%5cb", "", false, false},
		{"a%00b", "", false, false},
		{"a//b", "", false, false},
		{"./a", "", false, false},
		{"a/%zz", "", false, false},
	}
	for _, c := range cases {
		got, dir, err := CleanPath(c.in)
		if (err == nil) != c.ok {
			t.Errorf("CleanPath(%q) err = %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Errorf("CleanPath(%q) kind = %v, want Invalid", c.in, errs.KindOf(err))
			}
			continue
		}
		if got != c.want || dir != c.dir {
			t.Errorf("CleanPath(%q) = %q, %v; want %q, %v", c.in, got, dir, c.want, c.dir)
		}
	}
}

// FuzzCleanPath checks that every accepted path is safe and that cleaning is
// stable: escaping a clean path and cleaning it again gives the same path.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "%2e%2e/x", "a%2fb", "a\\b", "a\x00b", "a//b", "/x/y/", "%c0%ae%c0%ae/", "a/./b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, dir, err := CleanPath(in)
		if err != nil {
			return
		}
		if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			t.Fatalf("CleanPath(%q) = %q has stray slashes", in, p)
		}
		if strings.ContainsAny(p, "\\\x00") {
			t.Fatalf("CleanPath(%q) = %q has a forbidden character", in, p)
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("CleanPath(%q) = %q has a relative segment", in, p)
			}
		}
		if p == "" {
			return
		}
		again, dir2, err := CleanPath(EscapePath(p))
		if err != nil || again != p || dir2 {
			t.Fatalf("CleanPath(EscapePath(%q)) = %q, %v, %v; want stable (dir was %v)", p, again, dir2, err, dir)
		}
	})
}
