package maven

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ascending lists versions in Maven's ascending order (ComparableVersion's
// own test sequences and the brief's cases): every earlier entry is less
// than every later one.
var ascending = [][]string{
	{"1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2", "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2",
		"1-rc123", "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def", "1-pom-1", "1-1-snapshot",
		"1-1", "1-2", "1-123"},
	// Since MNG-7644 (Maven 3.8.7) ".a" reads as "-a": "2.0.a" == "2.0.0.a".
	{"2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1",
		"2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m"},
	{"1", "1.1", "1.1.1"},
	{"1-alpha", "1-beta", "1-milestone", "1-rc", "1-snapshot", "1", "1-sp"},
	{"1.0-RC1", "1.0"},
	{"2.0.0-SNAPSHOT", "2.0.0"},
	{"1.9", "1.10"},
	{"1.0a1", "1.0a2", "1.0b1", "1.0"},
	{"1.0-alpha-1", "1.0-alpha-2", "1.0-beta-1", "1.0-SNAPSHOT", "1.0", "1.0-sp-1", "1.0-1"},
	{"1.0-SNAPSHOT", "1.0", "1.0.1-SNAPSHOT", "1.0.1", "1.1-SNAPSHOT", "1.1"},
	{"999999999", "1000000000", "999999999999999999", "1000000000000000000", "99999999999999999999999"},
	{"1.0.0.0.1", "1.0.1"},
	{"1.0+build", "1.0+build2", "1.0-1"},
	// An all-zero run of ten digits is a Java long, wider than any int.
	{"1.0.1", "1.0000000000.1"},
}

// equal lists groups of versions Maven holds equal.
var equal = [][]string{
	{"1", "1.0", "1.0.0", "1-0", "1.0-0", "1-ga", "1-GA", "1-final", "1-FINAL", "1-release", "1.0.0-ga", "1.0000000000"},
	{"1a", "1-a", "1.0-a", "1.0.0-a"},
	{"1x", "1-x", "1.0.0-x"},
	{"1cr", "1rc", "1-cr", "1-RC"},
	{"1a1", "1-alpha-1", "1.0-alpha1", "1-ALPHA1"},
	{"1b2", "1-beta-2", "1-beta2"},
	{"1m3", "1-milestone-3", "1.0-MILESTONE-3"},
	{"1.0.0.RC1", "1.0.0-RC1"},
	{"2.0.a", "2.0.0.a", "2-a"},
	{"1-1.foo-bar1baz-.1", "1-1.foo-bar-1-baz-0.1"},
	{"1.01", "1.1", "1.000000001"},
	{"", "0", "0.0", "ga"},
}

func TestCompareVersionsOrder(t *testing.T) {
	for _, seq := range ascending {
		for i, a := range seq {
			for j, b := range seq {
				if want := sign(i - j); CompareVersions(a, b) != want {
					t.Errorf("CompareVersions(%q, %q) = %d, want %d", a, b, CompareVersions(a, b), want)
				}
			}
		}
	}
}

func TestCompareVersionsEqual(t *testing.T) {
	for _, group := range equal {
		for _, a := range group {
			for _, b := range group {
				if got := CompareVersions(a, b); got != 0 {
					t.Errorf("CompareVersions(%q, %q) = %d, want 0", a, b, got)
				}
			}
		}
	}
}

func TestSortVersions(t *testing.T) {
	vs := []string{"1.10", "1.0-SNAPSHOT", "1.0", "1.9", "1", "1.0-alpha-1", "2.0-rc1", "1.0.0"}
	SortVersions(vs)
	// Equal versions ("1.0", "1", "1.0.0") keep their input order.
	want := []string{"1.0-alpha-1", "1.0-SNAPSHOT", "1.0", "1", "1.0.0", "1.9", "1.10", "2.0-rc1"}
	if !slices.Equal(vs, want) {
		t.Errorf("SortVersions = %q, want %q", vs, want)
	}
}

// randomVersion makes a version from the pieces Maven's parser treats
// specially: separators, empty items, digit runs (with leading zeros and
// across int/long/BigInteger widths), single letters before digits, known
// qualifiers and their aliases, in mixed case.
func randomVersion(r *rand.Rand) string {
	pieces := []string{".", "-", ".", "-", "0", "1", "2", "9", "10", "007", "0000000000", "1234567890",
		"1234567890123456789", "a", "b", "m", "x", "alpha", "Beta", "milestone", "RC", "cr", "SNAPSHOT", "ga",
		"Final", "release", "sp", "abc", "_", "+"}
	var b strings.Builder
	for range 1 + r.IntN(8) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestCompareVersionsMaven checks CompareVersions against Maven's own
// ComparableVersion, run by java, over the tables and random versions.
func TestCompareVersionsMaven(t *testing.T) {
	jar := mavenJar("maven-artifact-")
	if jar == "" {
		requireClient(t, "mvn with java")
	}
	var pairs [][2]string
	for _, seq := range append(slices.Clone(ascending), equal...) {
		for _, a := range seq {
			for _, b := range seq {
				pairs = append(pairs, [2]string{a, b})
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		pairs = append(pairs, [2]string{randomVersion(r), randomVersion(r)})
	}
	var in strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&in, "%s\t%s\n", p[0], p[1])
	}
	cmd := exec.Command("java", "-cp", jar, filepath.Join("testdata", "VersionOracle.java"))
	cmd.Stdin = strings.NewReader(in.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("java VersionOracle: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	i, bad := 0, 0
	for ; sc.Scan(); i++ {
		var want int
		if _, err := fmt.Sscan(sc.Text(), &want); err != nil || i >= len(pairs) {
			t.Fatalf("oracle line %d: %q", i, sc.Text())
		}
		if got := CompareVersions(pairs[i][0], pairs[i][1]); got != want {
			if bad++; bad <= 20 {
				t.Errorf("CompareVersions(%q, %q) = %d, Maven says %d", pairs[i][0], pairs[i][1], got, want)
			}
		}
	}
	if i != len(pairs) {
		t.Fatalf("oracle answered %d of %d pairs", i, len(pairs))
	}
}

// requireClient skips a test that needs a missing real client, or fails
// it when real clients are required (NEXUS_GO_E2E_CLIENTS=required).
func requireClient(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("NEXUS_GO_E2E_CLIENTS") == "required" {
		t.Fatalf("%s is missing and NEXUS_GO_E2E_CLIENTS=required", what)
	}
	t.Skipf("%s is missing (NEXUS_GO_E2E_CLIENTS=required fails instead)", what)
}
