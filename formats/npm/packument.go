package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
)

// A packument is the document npm keeps per package: every version's
// manifest, dist-tags, times. These functions work on it as ordered raw
// JSON (see object), never decoding more than they change.

// rewriteTarballs points every versions[v].dist.tarball of doc at base:
// base + "<name>/-/<file>", the file being the stored URL's last segment.
// Everything else stays byte for byte.
func rewriteTarballs(doc []byte, base *url.URL, name string) ([]byte, error) {
	top, err := parseValidObject(doc)
	if err != nil {
		return nil, err
	}
	versions := objectOf(top.get("versions"))
	if versions == nil {
		return doc, nil
	}
	prefix := strings.TrimSuffix(base.String(), "/") + "/" + pathOfName(name) + "/-/"
	changed := false
	for i, v := range versions {
		manifest := objectOf(v.Val)
		dist := objectOf(manifest.get("dist"))
		if dist == nil {
			continue
		}
		old := stringOf(dist.get("tarball"))
		file := old[strings.LastIndexByte(old, '/')+1:]
		if file == "" {
			continue
		}
		if q := strings.IndexAny(file, "?#"); q >= 0 {
			file = file[:q]
		}
		if want := prefix + file; want != old {
			dist.set("tarball", jsonString(want))
			manifest.set("dist", dist.marshal())
			versions[i].Val = manifest.marshal()
			changed = true
		}
	}
	if !changed {
		return doc, nil
	}
	top.set("versions", versions.marshal())
	return top.appendTo(make([]byte, 0, len(doc)+len(doc)/8)), nil
}

// pathOfName is a package name as it appears in tarball URLs: a scoped
// name keeps its "/", as npm's registry writes it.
func pathOfName(name string) string {
	scope, bare := splitName(name)
	if scope == "" {
		return url.PathEscape(bare)
	}
	return "@" + url.PathEscape(scope) + "/" + url.PathEscape(bare)
}

// installFields are the fields of a version an install needs: what npm's
// registry keeps in its abbreviated documents, plus what npm's lockfile
// and pnpm read from a manifest (libc, acceptDependencies, funding,
// license).
var installFields = map[string]bool{
	"name": true, "version": true, "deprecated": true,
	"dependencies": true, "optionalDependencies": true, "devDependencies": true,
	"bundleDependencies": true, "bundledDependencies": true,
	"peerDependencies": true, "peerDependenciesMeta": true, "acceptDependencies": true,
	"bin": true, "directories": true, "dist": true, "engines": true,
	"cpu": true, "os": true, "libc": true,
	"_hasShrinkwrap": true, "hasInstallScript": true, "funding": true, "license": true,
}

// abbreviate derives the abbreviated ("corgi") document from a full one:
// name, modified, dist-tags, time and the install fields of each version.
func abbreviate(doc []byte) ([]byte, error) {
	top, err := parseObject(doc)
	if err != nil {
		return nil, err
	}
	out := object{}
	if v := top.get("name"); v != nil {
		out = append(out, member{"name", v})
	}
	times := objectOf(top.get("time"))
	if m := times.get("modified"); m != nil {
		out = append(out, member{"modified", m})
	}
	if v := top.get("dist-tags"); v != nil {
		out = append(out, member{"dist-tags", v})
	}
	versions := objectOf(top.get("versions"))
	short := make(object, 0, len(versions))
	for _, v := range versions {
		manifest := objectOf(v.Val)
		if manifest == nil {
			continue
		}
		keep := make(object, 0, 16)
		installScript := false
		for _, m := range manifest {
			if installFields[m.Key] {
				keep = append(keep, m)
			} else if m.Key == "scripts" {
				installScript = hasInstallScript(m.Val)
			}
		}
		// npm's registry derives hasInstallScript from the scripts it
		// leaves out; without it npm would not run them from a lockfile.
		if installScript && keep.get("hasInstallScript") == nil {
			keep = append(keep, member{"hasInstallScript", json.RawMessage("true")})
		}
		short = append(short, member{v.Key, keep.marshal()})
	}
	out = append(out, member{"versions", short.marshal()})
	if times != nil {
		out = append(out, member{"time", top.get("time")})
	}
	return out.marshal(), nil
}

func hasInstallScript(scripts json.RawMessage) bool {
	s := objectOf(scripts)
	return s.get("preinstall") != nil || s.get("install") != nil || s.get("postinstall") != nil
}

// errNoVersion is a version or dist-tag the packument does not have.
var errNoVersion = errors.New("no such version")

// manifestOf returns the manifest of version or dist-tag spec in doc.
func manifestOf(doc []byte, spec string) (json.RawMessage, error) {
	top, err := parseObject(doc)
	if err != nil {
		return nil, err
	}
	versions := objectOf(top.get("versions"))
	if m := versions.get(spec); m != nil {
		return m, nil
	}
	if tag := stringOf(objectOf(top.get("dist-tags")).get(spec)); tag != "" {
		if m := versions.get(tag); m != nil {
			return m, nil
		}
	}
	return nil, errNoVersion
}

// distTagsOf returns doc's dist-tags as a map.
func distTagsOf(top object) map[string]string {
	tags := map[string]string{}
	for _, m := range objectOf(top.get("dist-tags")) {
		if s := stringOf(m.Val); s != "" {
			tags[m.Key] = s
		}
	}
	return tags
}

// latestOf is the highest release among versions, else the highest
// prerelease, as npm's registry defaults the latest tag.
func latestOf(versions []string) string {
	best, bestRelease := "", ""
	for _, v := range versions {
		pv, ok := parseVersion(v)
		if !ok {
			continue
		}
		if !pv.prerelease() && (bestRelease == "" || compareVersions(v, bestRelease) > 0) {
			bestRelease = v
		}
		if best == "" || compareVersions(v, best) > 0 {
			best = v
		}
	}
	if bestRelease != "" {
		return bestRelease
	}
	return best
}

// setTags sets doc's dist-tags to tags: in the order of the tags doc has,
// then extra, then any others sorted.
func setTags(doc *object, tags map[string]string, extra ...string) {
	var order []string
	for _, m := range objectOf(doc.get("dist-tags")) {
		order = append(order, m.Key)
	}
	doc.set("dist-tags", tagsObject(append(order, extra...), tags))
}

// touch sets doc's time.modified to ts.
func touch(doc *object, ts string) {
	times := objectOf(doc.get("time"))
	if times == nil {
		times = object{}
	}
	times.set("modified", jsonString(ts))
	doc.set("time", times.marshal())
}

// tagsObject encodes dist-tags in the given key order, then any others
// sorted.
func tagsObject(order []string, tags map[string]string) json.RawMessage {
	out := object{}
	seen := map[string]bool{}
	for _, k := range order {
		if v, ok := tags[k]; ok && !seen[k] {
			out = append(out, member{k, jsonString(v)})
			seen[k] = true
		}
	}
	var rest []string
	for k := range tags {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, member{k, jsonString(tags[k])})
	}
	return out.marshal()
}

// compactJSON removes insignificant whitespace, so documents from clients
// are stored in one form.
func compactJSON(raw []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
