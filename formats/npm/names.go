package npm

import (
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// maxName is npm's bound on a package name's length.
const maxName = 214

// checkNewName applies validate-npm-package-name's rules for new packages
// to name: lowercase, URL-safe, at most 214 characters, no leading "." or
// "_", an optional "@scope/" of the same characters.
func checkNewName(name string) error {
	if err := checkReadName(name); err != nil {
		return err
	}
	if name != strings.ToLower(name) {
		return errs.New(errs.Invalid, "package name %q must not have uppercase letters", name)
	}
	scope, bare := splitName(name)
	for _, part := range []string{scope, bare} {
		if strings.ContainsAny(part, "~'!()*") {
			return errs.New(errs.Invalid, "package name %q must not contain any of ~'!()*", name)
		}
	}
	if strings.HasPrefix(bare, "_") && scope == "" {
		return errs.New(errs.Invalid, "package name %q must not start with an underscore", name)
	}
	switch bare {
	case "node_modules", "favicon.ico":
		return errs.New(errs.Invalid, "package name %q is not allowed", name)
	}
	return nil
}

// checkReadName accepts the names existing packages may have (legacy ones
// with uppercase letters or ~'!()* included) and refuses everything else:
// whatever is not URL-safe, "." and ".." or anything starting with a dot,
// and more than one scope level, so a name never reaches outside its own
// paths.
func checkReadName(name string) error {
	if name == "" {
		return errs.New(errs.Invalid, "package name is empty")
	}
	if len(name) > maxName {
		return errs.New(errs.Invalid, "package name is longer than %d characters", maxName)
	}
	scope, bare := splitName(name)
	if strings.HasPrefix(name, "@") {
		if scope == "" || !urlSafe(scope) || strings.HasPrefix(scope, ".") {
			return errs.New(errs.Invalid, "package name %q has an invalid scope", name)
		}
	}
	if bare == "" || !urlSafe(bare) || strings.HasPrefix(bare, ".") {
		return errs.New(errs.Invalid, "package name %q is not a valid npm package name", name)
	}
	return nil
}

// splitName splits "@scope/name" into "scope" and "name"; an unscoped
// name has no scope. "@scope" alone has no name.
func splitName(name string) (scope, bare string) {
	if !strings.HasPrefix(name, "@") {
		return "", name
	}
	s, b, ok := strings.Cut(name[1:], "/")
	if !ok {
		return name[1:], ""
	}
	return s, b
}

// urlSafe is what encodeURIComponent leaves as it is, which is what npm
// requires of a name and of a scope.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// tarballFile is the file name npm gives the tarball of version v of
// package name: the unscoped name, "-", the version, ".tgz".
func tarballFile(name, v string) string {
	_, bare := splitName(name)
	return bare + "-" + v + ".tgz"
}

// tarballPath is where the tarball of version v of name is stored.
func tarballPath(name, v string) string { return name + "/-/" + tarballFile(name, v) }

// fileVersion is the version a tarball file name of package name carries,
// false if the file is no tarball of that package.
func fileVersion(name, file string) (string, bool) {
	_, bare := splitName(name)
	v, ok := strings.CutPrefix(file, bare+"-")
	if !ok {
		return "", false
	}
	v, ok = strings.CutSuffix(v, ".tgz")
	return v, ok && v != ""
}

// route is what a request path names.
type route struct {
	kind routeKind
	name string // package name
	rest string // version or dist-tag; tarball file; revision; tag
	rev  string // revision of a tarball delete
}

type routeKind int

const (
	routeUnknown   routeKind = iota
	routePackument           // <name>
	routeRevision            // <name>/-rev/<rev>
	routeVersion             // <name>/<version-or-tag>
	routeTarball             // <name>/-/<file>[/-rev/<rev>]
	routeDistTags            // -/package/<name>/dist-tags[/<tag>]
	routeSpecial             // -/... (auth, search, audit, ping); rest is the path after "-/"
)

// parseRoute splits a request path (already cleaned and with "@scope%2f"
// decoded by the engine) into what it names. Package names are checked
// with checkReadName; tarball files must belong to their package.
func parseRoute(p string) (route, error) {
	if rest, ok := strings.CutPrefix(p, "-/"); ok {
		if pkgPath, ok := strings.CutPrefix(rest, "package/"); ok {
			name, tail := cutName(pkgPath)
			if err := checkReadName(name); err != nil {
				return route{}, err
			}
			switch {
			case tail == "dist-tags":
				return route{kind: routeDistTags, name: name}, nil
			case strings.HasPrefix(tail, "dist-tags/") && !strings.Contains(tail[len("dist-tags/"):], "/"):
				return route{kind: routeDistTags, name: name, rest: tail[len("dist-tags/"):]}, nil
			}
			return route{}, errs.New(errs.NotFound, "no such route")
		}
		return route{kind: routeSpecial, rest: rest}, nil
	}
	name, tail := cutName(p)
	if err := checkReadName(name); err != nil {
		return route{}, err
	}
	switch {
	case tail == "":
		return route{kind: routePackument, name: name}, nil
	case strings.HasPrefix(tail, "-rev/"):
		rev := tail[len("-rev/"):]
		if rev == "" || strings.Contains(rev, "/") {
			return route{}, errs.New(errs.NotFound, "no such route")
		}
		return route{kind: routeRevision, name: name, rest: rev}, nil
	case strings.HasPrefix(tail, "-/"):
		file, rev, hasRev := strings.Cut(tail[len("-/"):], "/-rev/")
		if strings.Contains(file, "/") || (hasRev && (rev == "" || strings.Contains(rev, "/"))) {
			return route{}, errs.New(errs.NotFound, "no such route")
		}
		if _, ok := fileVersion(name, file); !ok {
			return route{}, errs.New(errs.Invalid, "%q is not a tarball of package %s", file, name)
		}
		return route{kind: routeTarball, name: name, rest: file, rev: rev}, nil
	case !strings.Contains(tail, "/"):
		return route{kind: routeVersion, name: name, rest: tail}, nil
	}
	return route{}, errs.New(errs.NotFound, "no such route")
}

// cutName takes the package name off the front of p: one segment, or two
// for a scoped name.
func cutName(p string) (name, tail string) {
	n := 1
	if strings.HasPrefix(p, "@") {
		n = 2
	}
	segs := strings.SplitN(p, "/", n+1)
	if len(segs) <= n {
		return p, ""
	}
	return strings.Join(segs[:n], "/"), segs[n]
}

// packumentName is the package a stored path is the packument of, false
// for every other path.
func packumentName(p string) (string, bool) {
	r, err := parseRoute(p)
	if err != nil || r.kind != routePackument {
		return "", false
	}
	return r.name, true
}

// DecodePath unescapes npm's encoded scope separator: clients request
// "@scope%2fname" for scoped packages, the first segment of a path or the
// one after "-/package/". Only a separator between a scope and a name,
// neither of which holds another, is decoded; everything else is left for
// the engine to judge.
func (f *Format) DecodePath(escaped string) string {
	segs := strings.Split(escaped, "/")
	at := 0
	if len(segs) > 2 && segs[0] == "-" && segs[1] == "package" {
		at = 2
	}
	if at < len(segs) {
		segs[at] = decodeScoped(segs[at])
	}
	return strings.Join(segs, "/")
}

// decodeScoped turns "@scope%2fname" (or "%40scope%2Fname") into
// "@scope/name".
func decodeScoped(seg string) string {
	lower := strings.ToLower(seg)
	var rest string
	switch {
	case strings.HasPrefix(lower, "@"):
		rest = lower[1:]
	case strings.HasPrefix(lower, "%40"):
		rest = lower[3:]
	default:
		return seg
	}
	i := strings.Index(rest, "%2f")
	if i <= 0 || i+3 == len(rest) || strings.Contains(rest[i+3:], "%2f") {
		return seg
	}
	off := len(seg) - len(rest)
	return "@" + seg[off:off+i] + "/" + seg[off+i+3:]
}

// packageOf is the package name of a component: its group is the scope,
// stored without its '@'.
func packageOf(c *meta.Component) string {
	if c.Group == "" {
		return c.Name
	}
	return "@" + c.Group + "/" + c.Name
}
