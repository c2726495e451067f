package wildcard

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"", "", true},
		{"", "x", false},
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"*", "", true},
		{"*", "any/thing", true},
		{"**", "", true},
		{"a*", "a", true},
		{"a*", "ba", false},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a*a", "a", false}, // prefix and suffix may not share the one 'a'
		{"a*a", "aa", true},
		{"ab*ba", "aba", false},
		{"ab*ba", "abba", true},
		{"a**b", "ab", true},
		{"a*b*c", "axxbyybzc", true},
		{"a*b*c", "axxbyybz", false},
		{"*b*b*", "abcb", true},
		{"*b*b*", "abc", false},
		{"*aab*", "aaab", true}, // a leftmost partial "aa" must not hide the match after it
		{"*ab*ab*", "abab", true},
		{"*ab*ab*", "aba", false},
		{"x*y*z", "xzyz", true},
		{"x*y*z", "xzzy", false},
		{"nx-repository-view-*-*-read", "nx-repository-view-raw-raw-h-read", true},
		{"nx-repository-view-*-*-read", "nx-repository-view-raw-raw-h-browse", false},
		{"*.jar", "org/x/y-1.0.jar", true},
		{"*.jar", "org/x/y-1.0.jar.sha1", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Match(%q, %q) = %v; want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

// reference is the meaning of a pattern as a regular expression.
func reference(pattern string) *regexp.Regexp {
	segs := strings.Split(pattern, "*")
	for i, s := range segs {
		segs[i] = regexp.QuoteMeta(s)
	}
	return regexp.MustCompile(`(?s)^` + strings.Join(segs, ".*") + `$`)
}

// FuzzMatch compares Match with the regular expression the pattern stands
// for, on short valid UTF-8 inputs (the regexp package matches runes, so
// invalid bytes would make the two disagree about what a byte is).
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"a*b", "axb"}, {"*aab*", "aaab"}, {"a*a", "a"}, {"**", ""}, {"*b*b*", "abcb"}, {"x*y*z", "xzzy"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 32 || len(name) > 64 || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			t.Skip()
		}
		if got, want := Match(pattern, name), reference(pattern).MatchString(name); got != want {
			t.Fatalf("Match(%q, %q) = %v; the regexp says %v", pattern, name, got, want)
		}
	})
}

// longSearch is the reported attack: a 15,000-character term over 10,000
// longer names that nearly match it at every offset (a backtracking
// matcher compares ~15,000 bytes at each of ~5,000 offsets of each name).
func longSearch() (pattern string, names []string) {
	pattern = "*" + strings.Repeat("a", 15000) + "b*"
	long := strings.Repeat("a", 20100)
	names = make([]string, 10000)
	for i := range names {
		names[i] = long[:20000+i%97]
	}
	return pattern, names
}

// A match scans each byte of the name at most once, however the segments
// fall: the searches together never look at more bytes than the name has.
// Counted, not timed, so the check is deterministic.
func TestMatchScansEachByteOnce(t *testing.T) {
	pattern, names := longSearch()
	type matchCase struct {
		pattern, name string
		want          bool
	}
	cases := []matchCase{
		{"*ab*ab*ab*", strings.Repeat("a", 5000) + "b" + strings.Repeat("ab", 3000), true},
		{"*aab*aab*", strings.Repeat("ab", 5000), false},
		{"*x*y*z*", strings.Repeat("xy", 2000) + "z", true},
		{"*x*y*z*", strings.Repeat("xy", 2000), false},
	}
	for _, n := range names {
		cases = append(cases, matchCase{pattern, n, false})
	}
	for _, c := range cases {
		scanned := 0
		count := func(s, substr string) int {
			i := strings.Index(s, substr)
			if i < 0 {
				scanned += len(s)
			} else {
				scanned += i + len(substr)
			}
			return i
		}
		if got := match(c.pattern, c.name, count); got != c.want {
			t.Fatalf("match(%.20q…, %.20q…) = %v, want %v", c.pattern, c.name, got, c.want)
		}
		if scanned > len(c.name) {
			t.Fatalf("match(%.20q…) over %d bytes scanned %d", c.pattern, len(c.name), scanned)
		}
	}
}

func BenchmarkMatchLongPattern(b *testing.B) {
	pattern, names := longSearch()
	for b.Loop() {
		for _, n := range names {
			if Match(pattern, n) {
				b.Fatal("matched")
			}
		}
	}
}

func BenchmarkMatchPrivilege(b *testing.B) {
	for b.Loop() {
		Match("nx-repository-view-*-*-read", "nx-repository-view-raw-raw-h-read")
	}
}
