package npm

import (
	"strconv"
	"strings"
)

// version is a semantic version (semver 2.0.0), as npm requires of every
// published version.
type version struct {
	major, minor, patch uint64
	pre                 []string // dot-separated prerelease identifiers
	build               string
}

// maxVersion bounds a version string, as npm's semver does (256).
const maxVersion = 256

// parseVersion parses a full semver 2.0.0 version ("1.2.3-beta.1+sha.5").
// A leading "v" or "=" is not accepted: npm normalizes those away before
// publishing.
func parseVersion(s string) (version, bool) {
	var v version
	if s == "" || len(s) > maxVersion {
		return v, false
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		v.build = s[i+1:]
		if !validIdents(v.build, false) {
			return v, false
		}
		s = s[:i]
	}
	if i := strings.IndexByte(s, '-'); i >= 0 {
		pre := s[i+1:]
		if !validIdents(pre, true) {
			return v, false
		}
		v.pre = strings.Split(pre, ".")
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	nums := [3]*uint64{&v.major, &v.minor, &v.patch}
	for i, p := range parts {
		if !numeric(p) || (len(p) > 1 && p[0] == '0') {
			return v, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || n > 1<<53-1 { // JavaScript's MAX_SAFE_INTEGER, npm's bound
			return v, false
		}
		*nums[i] = n
	}
	return v, true
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric
// prerelease identifiers have no leading zeros.
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && numeric(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func numeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// compare orders versions by semver precedence: -1, 0 or 1. Build
// metadata does not count.
func (a version) compare(b version) int {
	for _, d := range [3][2]uint64{{a.major, b.major}, {a.minor, b.minor}, {a.patch, b.patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1 // a release is above its prereleases
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		if c := compareIdent(a.pre[i], b.pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.pre) < len(b.pre):
		return -1
	case len(a.pre) > len(b.pre):
		return 1
	}
	return 0
}

// compareIdent orders prerelease identifiers: numeric ones numerically
// and below alphanumeric ones, those in ASCII order.
func compareIdent(a, b string) int {
	an, bn := numeric(a), numeric(b)
	switch {
	case an && bn:
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

// prerelease reports whether v has prerelease identifiers.
func (a version) prerelease() bool { return len(a.pre) > 0 }

// compareVersions orders version strings by precedence; valid versions
// sort before strings that are none (legacy documents), those by text.
func compareVersions(a, b string) int {
	va, oka := parseVersion(a)
	vb, okb := parseVersion(b)
	switch {
	case oka && okb:
		if c := va.compare(vb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}
