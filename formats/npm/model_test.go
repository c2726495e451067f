package npm

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// Semver precedence, as semver.org's examples order it.
func TestVersionOrder(t *testing.T) {
	ordered := []string{
		"0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			a, _ := parseVersion(ordered[i])
			b, ok := parseVersion(ordered[j])
			if !ok {
				t.Fatalf("%s does not parse", ordered[j])
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := a.compare(b); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	if a, _ := parseVersion("1.0.0+build.1"); a.compare(version{major: 1}) != 0 {
		t.Error("build metadata counts in precedence")
	}
	for _, bad := range []string{"", "1", "1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "1.0.0-a..b", "1.0.0-a_b", "1.0.0.0", " 1.0.0", "9007199254740992.0.0"} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("%q parses", bad)
		}
	}
	if got := latestOf([]string{"1.0.0", "2.0.0-rc.1", "1.5.0", "junk"}); got != "1.5.0" {
		t.Errorf("latest of releases and a prerelease: %s", got)
	}
	if got := latestOf([]string{"2.0.0-rc.1", "2.0.0-rc.2"}); got != "2.0.0-rc.2" {
		t.Errorf("latest of prereleases: %s", got)
	}
}

// Rewrite touches tarball URLs only: unknown fields, their order and
// their spelling stay as they were.
func TestRewriteKeepsEverythingElse(t *testing.T) {
	doc := `{"name":"@s/p","zeta":{"b":1,"a":[1.50,"\u00e9"]},"versions":{"1.0.0":{"name":"@s/p","dist":{"shasum":"x","tarball":"https://upstream.example/@s/p/-/p-1.0.0.tgz","signatures":[{"sig":"k"}]},"z":true},"0.1.0":{"dist":{"tarball":"https://upstream.example/p-0.1.0.tgz?x=1"}}},"alpha":null}`
	base, _ := url.Parse("http://127.0.0.1:8081/repository/npm-group/")
	got, err := (&Format{}).Rewrite(t.Context(), "@s/p", []byte(doc), base)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(
		"https://upstream.example/@s/p/-/p-1.0.0.tgz", "http://127.0.0.1:8081/repository/npm-group/@s/p/-/p-1.0.0.tgz",
		"https://upstream.example/p-0.1.0.tgz?x=1", "http://127.0.0.1:8081/repository/npm-group/@s/p/-/p-0.1.0.tgz",
	).Replace(doc)
	if string(got) != want {
		t.Fatalf("rewritten:\n%s\nwant:\n%s", got, want)
	}
	if _, err := (&Format{}).Rewrite(t.Context(), "@s/p", []byte(`{"versions":`), base); err == nil {
		t.Error("a malformed packument rewrote")
	}
}

// bigPackument is a generated packument of n versions with install
// fields, a readme and fields an install does not read, about 7 KB a
// version.
func bigPackument(n int) []byte {
	vs := make([]string, 0, n)
	times := []string{`"created":"2020-01-01T00:00:00.000Z"`}
	deps := map[string]string{}
	for i := range 40 {
		deps[fmt.Sprintf("dependency-%d", i)] = fmt.Sprintf("^%d.0.0", i)
	}
	depsJSON, _ := json.Marshal(deps)
	long := strings.Repeat("lorem ipsum dolor sit amet ", 180)
	for i := range n {
		v := fmt.Sprintf("%d.%d.%d", i/100, i%100/10, i%10)
		vs = append(vs, fmt.Sprintf(`%q:{"name":"big","version":%q,"description":%q,"dependencies":%s,"devDependencies":%s,"scripts":{"test":"x"},"dist":{"integrity":"sha512-%s","shasum":"%040d","tarball":"https://upstream.example/big/-/big-%s.tgz"},"_npmUser":{"name":"u"},"gitHead":"%040d"}`,
			v, v, long, depsJSON, depsJSON, strings.Repeat("A", 86)+"==", i, v, i))
		times = append(times, fmt.Sprintf(`%q:"2020-01-01T00:00:00.000Z"`, v))
	}
	return []byte(`{"_id":"big","name":"big","dist-tags":{"latest":"1.0.0"},"versions":{` + strings.Join(vs, ",") +
		`},"time":{` + strings.Join(times, ",") + `},"readme":` + fmt.Sprintf("%q", long) + `}`)
}

// A 20 MB packument of 3,000 versions rewrites and abbreviates (once per
// change: the engine keeps the results) into valid JSON, the abbreviated
// document without what installs do not read.
func TestBigPackument(t *testing.T) {
	doc := bigPackument(3000)
	if len(doc) < 20<<20 {
		t.Fatalf("generated packument of %d bytes, want 20 MB", len(doc))
	}
	base, _ := url.Parse("http://127.0.0.1/repository/npm-group/")
	start := time.Now()
	rewritten, err := rewriteTarballs(doc, base, "big")
	rewrite := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	abbrev, err := abbreviate(rewritten)
	short := time.Since(start)
	if err != nil || !json.Valid(abbrev) {
		t.Fatalf("abbreviated: %v, valid %v", err, json.Valid(abbrev))
	}
	// Times are logged, not judged (BenchmarkRewriteBig and
	// BenchmarkAbbreviateBig measure them): the machine is shared.
	t.Logf("%d bytes, %d versions: rewrite %v, abbreviate %v (%d bytes)", len(doc), 3000, rewrite, short, len(abbrev))
	var a struct {
		Versions map[string]map[string]json.RawMessage `json:"versions"`
	}
	json.Unmarshal(abbrev, &a)
	v := a.Versions["2.9.9"]
	if len(a.Versions) != 3000 || v["description"] != nil || v["dependencies"] == nil || !strings.Contains(string(v["dist"]), "127.0.0.1") {
		t.Fatalf("abbreviated versions: %d, 2.9.9 has %v", len(a.Versions), slices.Sorted(maps.Keys(v)))
	}
}

func BenchmarkRewriteBig(b *testing.B) {
	doc := bigPackument(3000)
	base, _ := url.Parse("http://127.0.0.1/repository/npm-group/")
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		rewriteTarballs(doc, base, "big")
	}
}

func BenchmarkAbbreviateBig(b *testing.B) {
	doc := bigPackument(3000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		abbreviate(doc)
	}
}
