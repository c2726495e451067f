package csel

import (
	"strings"
	"testing"
)

func vars(format, path string, coords map[string]string) Vars {
	return func(name string) (string, bool) {
		switch name {
		case "format":
			return format, true
		case "path":
			return path, true
		}
		v, ok := coords[strings.TrimPrefix(name, "coordinate.")]
		return v, ok
	}
}

func TestMatch(t *testing.T) {
	maven := map[string]string{"groupId": "org.example", "artifactId": "app", "version": "1.0"}
	for _, tc := range []struct {
		expr, format, path string
		want               bool
	}{
		{`format == "raw"`, "raw", "/a", true},
		{`format == "raw"`, "npm", "/a", false},
		{`format != 'raw'`, "npm", "/a", true},
		{`path =^ "/team/"`, "raw", "/team/x/y.txt", true},
		{`path =^ "/team/"`, "raw", "/teamx/y.txt", false},
		{`path =^ "/team/"`, "raw", "/other/team/y.txt", false},
		{`path =~ "/team/.*"`, "raw", "/team/a", true},
		{`path =~ "team/.*"`, "raw", "/team/a", false}, // the whole path must match
		{`path =~ "/a)|(/b"`, "raw", "/a/x", false},    // rejected below; never matches a prefix
		{`format == "npm" or (format == "maven2" and path =~ "^/org/apache/commons/.*")`, "maven2", "/org/apache/commons/x.jar", true},
		{`format == "npm" or (format == "maven2" and path =~ "^/org/apache/commons/.*")`, "maven2", "/org/other/x.jar", false},
		{`format == "npm" || format == "raw" && path == "/x"`, "npm", "/y", true},
		{`not path =^ "/secret/"`, "raw", "/public/a", true},
		{`!(path =^ "/secret/")`, "raw", "/secret/a", false},
		{`coordinate.groupId == "org.example" and coordinate.version =^ "1."`, "maven2", "/org/example/app/1.0/app-1.0.jar", true},
		{`coordinate.unknown == "x"`, "maven2", "/a", false},
		{`path == "/it's"`, "raw", "/it's", true},
		{`path == 'say "hi"'`, "raw", `say "hi"`, true},
		{`path == "a\"b"`, "raw", `a"b`, true},
	} {
		e, err := Parse(tc.expr)
		if strings.Contains(tc.expr, "a)|(") {
			if err == nil {
				t.Errorf("Parse(%s) accepted an unbalanced regular expression", tc.expr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%s): %v", tc.expr, err)
		}
		if got := e.Match(vars(tc.format, tc.path, maven)); got != tc.want {
			t.Errorf("%s on %s %s = %v, want %v", tc.expr, tc.format, tc.path, got, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		``, `format`, `format ==`, `format == raw`, `format = "raw"`, `"raw" == format`,
		`path =~ "("`, `(format == "raw"`, `format == "raw")`, `format == "raw" and`,
		`repository == "x"`, `coordinate. == "x"`, `path == "unterminated`, `path == "x" xor path == "y"`,
		`format == "raw" # comment`, strings.Repeat("(", 100) + `path == "a"` + strings.Repeat(")", 100),
		`path == "` + strings.Repeat("a", MaxLength) + `"`,
	} {
		if e, err := Parse(src); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", src, e)
		}
	}
}

func TestMayMatchUnder(t *testing.T) {
	for _, tc := range []struct {
		expr, format, prefix string
		want                 bool
	}{
		{`path =^ "/team/"`, "raw", "/", true},
		{`path =^ "/team/"`, "raw", "/team/", true},
		{`path =^ "/team/"`, "raw", "/team/a/", true},
		{`path =^ "/team/"`, "raw", "/other/", false},
		{`path == "/a/b.txt"`, "raw", "/a/", true},
		{`path == "/a/b.txt"`, "raw", "/c/", false},
		{`format == "raw" and path =^ "/team/"`, "npm", "/", false},
		{`not path =^ "/team/"`, "raw", "/team/", false},
		{`not path =^ "/team/"`, "raw", "/", true},
		{`path =~ "/x/.*"`, "raw", "/y/", false},
		{`path =~ "/x/.*"`, "raw", "/x/a/", true},
		{`path =~ "/(x|y)/.*"`, "raw", "/z/", true}, // cannot tell: shown
		{`path =~ "/x/.*"`, "raw", "/", true},
	} {
		e, err := Parse(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		if got := e.MayMatchUnder(tc.format, tc.prefix); got != tc.want {
			t.Errorf("%s under %s %s = %v, want %v", tc.expr, tc.format, tc.prefix, got, tc.want)
		}
	}
}

// FuzzParse checks that any input parses or fails without panicking, that
// what parses evaluates, and that MayMatchUnder never denies a folder
// holding a path that matches.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`format == "raw" and path =^ "/team/"`, `!(path =~ "a.*") || coordinate.version != '1'`,
		`((format == "x"))`, `path == "a\"b"`} {
		f.Add(s, "/team/a/b")
	}
	f.Fuzz(func(t *testing.T, src, path string) {
		e, err := Parse(src)
		if err != nil {
			return
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		if e.Match(vars("raw", path, nil)) {
			dir := path[:strings.LastIndexByte(path, '/')+1]
			if !e.MayMatchUnder("raw", dir) || !e.MayMatchUnder("raw", "/") {
				t.Errorf("%s matches %s but not under %s", src, path, dir)
			}
		}
	})
}
