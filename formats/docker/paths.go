package docker

import (
	"path"
	"regexp"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// Names and tags as the OCI distribution spec defines them.
var (
	nameRe = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRe  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

const maxNameLen = 255

func validName(name string) bool { return len(name) <= maxNameLen && nameRe.MatchString(name) }

// Assets are laid out per image, the way the distribution spec scopes
// blobs and manifests to a repository name:
//
//	v2/<image>/blobs/<digest>        a layer or config blob linked to the image
//	v2/<image>/manifests/<digest>    a manifest
//	v2/<image>/manifests/<tag>       a tag: the same bytes, one component
func blobPath(image string, d digest.Digest) string { return "v2/" + image + "/blobs/" + d.String() }

func manifestPath(image, ref string) string { return "v2/" + image + "/manifests/" + ref }

func manifestsPrefix(image string) string { return "v2/" + image + "/manifests/" }

func blobsPrefix(image string) string { return "v2/" + image + "/blobs/" }

// splitManifestPath splits a stored path "v2/<image>/manifests/<ref>" into
// image and ref. It reports false for any other path, such as a blob link of
// an image whose name has a "manifests" segment; walks under one image's
// manifestsPrefix also meet the manifests of images nested in it
// ("<image>/manifests"), which callers tell apart by the image.
func splitManifestPath(p string) (image, ref string, ok bool) {
	dir, ref := path.Split(p)
	image, ok = strings.CutSuffix(dir, "/manifests/")
	if !ok || ref == "" || !strings.HasPrefix(image, "v2/") {
		return "", "", false
	}
	return image[len("v2/"):], ref, true
}

// isDigestRef reports whether a manifest reference is a digest, not a tag.
func isDigestRef(ref string) bool { return strings.Contains(ref, ":") }

// parseDigest accepts the algorithms the registry stores: sha256 and sha512.
func parseDigest(s string) (digest.Digest, bool) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", false
	}
	switch d.Algorithm() {
	case digest.SHA256, digest.SHA512:
		return d, true
	}
	return "", false
}

// route is one request of the distribution API, after /v2/.
type route struct {
	kind routeKind
	name string // the repository name as the client wrote it
	ref  string // digest, tag or upload id
}

type routeKind int

const (
	routeNone routeKind = iota
	routeBase
	routeCatalog
	routeTags
	routeManifest
	routeBlob
	routeUploads // POST .../blobs/uploads/
	routeUpload  // .../blobs/uploads/<id>
	routeReferrers
)

// parseRoute splits the path after /v2/ into name and action. Names may
// contain slashes, so the action is found from the end.
func parseRoute(p string) route {
	switch p {
	case "":
		return route{kind: routeBase}
	case "_catalog":
		return route{kind: routeCatalog}
	}
	if name, ok := strings.CutSuffix(p, "/tags/list"); ok {
		return route{kind: routeTags, name: name}
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads/"); ok {
		return route{kind: routeUploads, name: name}
	}
	if name, ok := strings.CutSuffix(p, "/blobs/uploads"); ok {
		return route{kind: routeUploads, name: name}
	}
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return route{}
	}
	rest, ref := p[:i], p[i+1:]
	if ref == "" {
		return route{}
	}
	// "/blobs/uploads" before "/blobs": the longer suffix wins.
	for _, a := range []struct {
		suffix string
		kind   routeKind
	}{{"/blobs/uploads", routeUpload}, {"/manifests", routeManifest}, {"/blobs", routeBlob}, {"/referrers", routeReferrers}} {
		if name, ok := strings.CutSuffix(rest, a.suffix); ok && name != "" {
			return route{kind: a.kind, name: name, ref: ref}
		}
	}
	return route{}
}
