package repo

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

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
		got, dir, err := CleanPath(nil, c.in)
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

// Paths that cannot be shown as sent, or are longer than any real one, are
// refused as client errors (400 and 414) before anything is stored.
func TestCleanPathRefusesInvalidTextAndLongPaths(t *testing.T) {
	atLimit := strings.Repeat("abcdefg/", MaxPathLength/8-1) + "abcdefgh"
	cases := []struct {
		in   string
		kind errs.Kind
	}{
		{"a/%ff.txt", errs.Invalid},
		{"a/\xff.txt", errs.Invalid},
		{"a/%c0%ae%c0%ae/x", errs.Invalid}, // an overlong encoding of ".."
		{"a/%ed%a0%80", errs.Invalid},      // a UTF-16 surrogate
		{atLimit + "x", errs.TooLong},
		{strings.Repeat("%61", MaxPathLength+1), errs.TooLong}, // the unescaped length counts
	}
	for _, c := range cases {
		_, _, err := CleanPath(nil, c.in)
		if err == nil || errs.KindOf(err) != c.kind {
			t.Errorf("CleanPath(%.40q…) err = %v (kind %v), want kind %v", c.in, err, errs.KindOf(err), c.kind)
		}
		if c.kind == errs.TooLong && !errors.Is(err, errs.ErrTooLong) {
			t.Errorf("CleanPath(%.40q…) err = %v, not errs.ErrTooLong", c.in, err)
		}
	}
	for _, in := range []string{"caf%C3%A9/%E2%82%AC.txt", "日本/語.txt", atLimit, strings.Repeat("%61", MaxPathLength)} {
		if _, _, err := CleanPath(nil, in); err != nil {
			t.Errorf("CleanPath(%.40q…) = %v, want accepted", in, err)
		}
	}
}

// FuzzCleanPath checks that every accepted path is safe and that cleaning is
// stable: escaping a clean path and cleaning it again gives the same path.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "%2e%2e/x", "a%2fb", "a\\b", "a\x00b", "a//b", "/x/y/", "%c0%ae%c0%ae/", "a/./b", "%ff", "\xfe/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		// Whatever a format's decoder unescapes, the checks hold: the
		// loosest one, which decodes every encoded slash, cannot get a
		// relative segment or a forbidden character past them.
		if p, _, err := CleanPath(slashDecoder{}, in); err == nil && p != "" {
			for _, seg := range strings.Split(p, "/") {
				if seg == ".." || seg == "." || seg == "" || strings.ContainsAny(seg, "\\\x00") {
					t.Fatalf("CleanPath(decoder, %q) = %q has an unsafe segment", in, p)
				}
			}
		}
		p, dir, err := CleanPath(nil, in)
		if err != nil {
			return
		}
		if strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
			t.Fatalf("CleanPath(%q) = %q has stray slashes", in, p)
		}
		if strings.ContainsAny(p, "\\\x00") || !utf8.ValidString(p) {
			t.Fatalf("CleanPath(%q) = %q has a forbidden character", in, p)
		}
		if len(p) > MaxPathLength {
			t.Fatalf("CleanPath(%.40q…) accepted %d bytes", in, len(p))
		}
		for _, seg := range strings.Split(p, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("CleanPath(%q) = %q has a relative segment", in, p)
			}
		}
		if p == "" {
			return
		}
		again, dir2, err := CleanPath(nil, EscapePath(p))
		if err != nil || again != p || dir2 {
			t.Fatalf("CleanPath(EscapePath(%q)) = %q, %v, %v; want stable (dir was %v)", p, again, dir2, err, dir)
		}
	})
}

// slashDecoder is a format decoding every encoded slash.
type slashDecoder struct{ testFormat }

func (slashDecoder) DecodePath(escaped string) string {
	return strings.NewReplacer("%2f", "/", "%2F", "/").Replace(escaped)
}

func TestCleanPathWithDecoder(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"@scope%2fname", "@scope/name", true},
		{"%2e%2e%2fetc", "", false},
		{"a%2f..%2fb", "", false},
		{"a%2f%2fb", "", false},
		{"a%5cb", "", false},
	} {
		got, _, err := CleanPath(slashDecoder{}, c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("CleanPath(decoder, %q) = %q, %v; want %q ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}
