package docker

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The referrers API, and the referrers tag schema that stands in for it
// where a proxy's upstream lacks the API.

var _ repo.UpstreamFallback = (*Format)(nil)

// referrers serves GET /v2/<name>/referrers/<digest>: an image index of the
// manifests whose subject is digest, optionally filtered by artifactType.
func (f *Format) referrers(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		f.methodNotAllowed(w, req, "GET")
		return
	}
	if !f.require(w, req, t, "pull", "") {
		return
	}
	subject, ok := parseDigest(ref)
	if !ok {
		writeError(w, req, f.log, codeDigestInvalid.with("invalid digest", ref), nil)
		return
	}
	filter := req.URL.Query().Get("artifactType")
	all, err := f.referrersOf(req.Context(), t.r, t.image, subject.String())
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	descs := []descriptor{}
	for _, d := range all {
		if filter == "" || d.ArtifactType == filter {
			descs = append(descs, d)
		}
	}
	if filter != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	w.Header().Set("Content-Type", mtOCIIndex)
	json.NewEncoder(w).Encode(referrersIndex(descs))
}

func referrersIndex(descs []descriptor) map[string]any {
	return map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": descs}
}

// referrersOf lists the manifests of image whose subject is subject: from
// a hosted repository's own manifests, a proxy's upstream (its referrers
// list, or what Fallback built from the tag schema, cached as metadata)
// and every member of a group.
func (f *Format) referrersOf(ctx context.Context, r repo.Repository, image, subject string) ([]descriptor, error) {
	switch r.Config().Type {
	case repo.Group:
		var out []descriptor
		seen := map[string]bool{}
		for _, m := range r.(repo.GroupMembers).Members() {
			list, err := f.referrersOf(ctx, m, image, subject)
			if err != nil {
				f.log.Warn("group member referrers", "group", r.Name(), "member", m.Name(), "err", err)
				continue
			}
			for _, d := range list {
				if !seen[d.Digest] {
					seen[d.Digest] = true
					out = append(out, d)
				}
			}
		}
		return out, nil
	case repo.Proxy:
		c, err := r.Get(ctx, referrersPath(image, subject))
		if errs.KindOf(err) == errs.NotFound {
			return nil, nil // an offline proxy; a missing API is never this
		}
		if err != nil {
			return nil, err
		}
		var index manifest
		if err := decodeSmall(c, &index); err != nil {
			return nil, errs.Wrap(errs.Upstream, err, "upstream referrers of %s", subject)
		}
		return validDescriptors(index.Manifests), nil
	}
	var out []descriptor
	err := r.Walk(ctx, manifestsPrefix(image), func(a *meta.Asset) error {
		img, ref, ok := splitManifestPath(a.Path)
		if !ok || img != image || a.Attributes[attrSubject] != subject || !isDigestRef(ref) {
			return nil
		}
		d := descriptor{MediaType: a.ContentType, Digest: ref, Size: a.Size, ArtifactType: a.Attributes[attrArtifactType]}
		if raw := a.Attributes[attrAnnotations]; raw != "" {
			json.Unmarshal([]byte(raw), &d.Annotations)
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// validDescriptors drops the entries of an upstream's list that name no
// manifest a client could fetch.
func validDescriptors(descs []descriptor) []descriptor {
	out := descs[:0]
	for _, d := range descs {
		if _, ok := parseDigest(d.Digest); ok {
			out = append(out, d)
		}
	}
	return out
}

func referrersPath(image, subject string) string { return "v2/" + image + "/referrers/" + subject }

// isReferrersPath reports whether a stored path is a referrers list; the
// action is read from the end, as names may hold any segment.
func isReferrersPath(p string) bool {
	rest, ok := strings.CutPrefix(p, "v2/")
	return ok && parseRoute(rest).kind == routeReferrers
}

// referrersTag is the tag under which the referrers tag schema keeps the
// index of subject's referrers: "<alg>-<hex>", the algorithm cut to 32
// and the hex to 64 characters.
func referrersTag(subject digest.Digest) string {
	alg, hex := subject.Algorithm().String(), subject.Encoded()
	return alg[:min(len(alg), 32)] + "-" + hex[:min(len(hex), 64)]
}

// Lacks tells an upstream without the referrers API from one with it.
// The spec has clients fall back to the tag schema on a 404, whatever its
// body; a 200 that is no index (a web page served for any path) shows the
// same. Other failures (5xx, 401, a refused connection) are the
// upstream's trouble, not a missing API, and the engine treats them so.
func (f *Format) Lacks(p string, resp *http.Response) bool {
	if !isReferrersPath(p) {
		return false
	}
	switch resp.StatusCode {
	case http.StatusNotFound:
		return true
	case http.StatusOK:
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return mt != mtOCIIndex && mt != "application/json"
	}
	return false
}

// Fallback builds a referrers list the way a client would where the API
// is missing: the image index tagged referrersTag(subject) lists the
// referrers. It is fetched as any tag (and so cached, and revalidated by
// HEAD); none means no referrers yet, an answer that is cached only as
// long as metadataMaxAge, since an attach may add the tag at any time.
func (f *Format) Fallback(ctx context.Context, p string, get func(context.Context, string) (*repo.Content, error)) ([]byte, string, error) {
	rt := parseRoute(strings.TrimPrefix(p, "v2/"))
	subject, ok := parseDigest(rt.ref)
	if rt.kind != routeReferrers || !ok {
		return nil, "", errs.New(errs.Internal, "no fallback for %s", p)
	}
	descs := []descriptor{}
	c, err := get(ctx, manifestPath(rt.name, referrersTag(subject)))
	switch {
	case errs.KindOf(err) == errs.NotFound:
	case err != nil:
		return nil, "", err
	default:
		var index manifest
		if err := decodeSmall(c, &index); err != nil {
			return nil, "", errs.Wrap(errs.Upstream, err, "upstream referrers tag of %s", subject)
		}
		descs = append(descs, validDescriptors(index.Manifests)...)
	}
	body, err := json.Marshal(referrersIndex(descs))
	return body, mtOCIIndex, err
}
