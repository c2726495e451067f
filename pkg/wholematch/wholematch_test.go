package wholematch

import (
	"strings"
	"testing"
)

func TestCompileMatchesWholeString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		expr, s string
		want    bool
	}{
		{"a|b", "a", true},
		{"a|b", "b", true},
		{"a|b", "ab", false}, // the group keeps the alternation inside both anchors
		{"a|b", "xa", false},
		{"a|b", "bx", false},
		{"/team/.*", "/team/a", true},
		{"team/.*", "/team/a", false}, // no match of a part
		{".*", "", true},
		{"^/x$", "/x", true}, // anchors of the expression's own are harmless
	} {
		re, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.expr, err)
		}
		if got := re.MatchString(tc.s); got != tc.want {
			t.Errorf("Compile(%q) on %q = %v, want %v", tc.expr, tc.s, got, tc.want)
		}
	}
}

// An invalid expression is refused with regexp's error about the expression
// as given, even one that would compile once wrapped.
func TestCompileRefusesInvalid(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"a(", "a)|(b", "*"} {
		re, err := Compile(expr)
		if err == nil {
			t.Errorf("Compile(%q) = %v, want an error", expr, re)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "error parsing regexp") || strings.Contains(msg, "(?:") {
			t.Errorf("Compile(%q): error %q, want regexp's about the expression as given", expr, msg)
		}
	}
}
