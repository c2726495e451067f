package docker

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxPushTags bounds the tags one manifest push may set, all of which are
// written in one metadata transaction.
const maxPushTags = 100

// pushTags are the tags a manifest push sets: the reference when it is a
// tag, and every ?tag= (OCI 1.1).
func pushTags(ref string, q url.Values) ([]string, error) {
	tags := q["tag"]
	if !isDigestRef(ref) {
		tags = append([]string{ref}, tags...)
	}
	if len(tags) > maxPushTags {
		return nil, codeTagInvalid.with(fmt.Sprintf("a manifest push sets at most %d tags, this one %d", maxPushTags, len(tags)), nil)
	}
	for _, tag := range tags {
		if !tagRe.MatchString(tag) {
			return nil, codeTagInvalid.withDetail(tag)
		}
	}
	return tags, nil
}

// Latest is true for the latest tag of every image (repo.LatestTag).
func (f *Format) Latest(p string) bool {
	return strings.HasPrefix(p, "v2/") && strings.HasSuffix(p, "/manifests/latest")
}

// checkTagsWritable refuses, before anything is stored, a push that would
// move a tag of an allow_once repository to another manifest.
func (f *Format) checkTagsWritable(req *http.Request, t target, tags []string, d string) error {
	if t.r.Config().Storage.WritePolicy != repo.WriteAllowOnce {
		return nil
	}
	for _, tag := range tags {
		if repo.RedeploysLatest(f, t.r.Config(), manifestPath(t.image, tag)) {
			continue
		}
		a, err := t.r.Stat(req.Context(), manifestPath(t.image, tag))
		if err == nil && manifestDigest(a) != d {
			return codeDenied.with(fmt.Sprintf("repository %s does not allow updating tag %s (write policy allow_once)", t.r.Name(), tag), nil)
		}
	}
	return nil
}
