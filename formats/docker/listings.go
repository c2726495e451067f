package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The listing endpoints: tags, the catalog and referrers.

// tags serves GET /v2/<name>/tags/list with n/last pagination.
func (f *Format) tags(w http.ResponseWriter, req *http.Request, t target) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		f.methodNotAllowed(w, req, "GET")
		return
	}
	if !f.require(w, req, t, "pull") {
		return
	}
	tags, found, err := f.tagsOf(req.Context(), t.r, t.image)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	if !found {
		writeError(w, req, f.log, errNameUnknown, nil)
		return
	}
	sort.Strings(tags)
	page, next, err := paginate(tags, req)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/tags/list?n=%d&last=%s>; rel="next"`, t.name, len(page), next))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"name": t.name, "tags": page})
}

// tagsOf lists the tags of image in r: a hosted repository's own, the
// upstream's list for a proxy (cached as metadata, so it survives the
// upstream going down), and the union of the members' for a group. found
// is false when no repository knows the image.
func (f *Format) tagsOf(ctx context.Context, r repo.Repository, image string) (tags []string, found bool, err error) {
	set := map[string]bool{}
	add := func(list []string) {
		for _, t := range list {
			set[t] = true
		}
	}
	switch r.Config().Type {
	case repo.Group:
		g := r.(repo.GroupMembers)
		for _, m := range g.Members() {
			list, ok, err := f.tagsOf(ctx, m, image)
			if err != nil {
				f.log.Warn("group member tags", "group", r.Name(), "member", m.Name(), "err", err)
				continue
			}
			found = found || ok
			add(list)
		}
	case repo.Proxy:
		c, err := r.Get(ctx, "v2/"+image+"/tags/list")
		if errs.KindOf(err) == errs.NotFound {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		var body struct {
			Tags []string `json:"tags"`
		}
		if err := decodeSmall(c, &body); err != nil {
			return nil, false, errs.Wrap(errs.Upstream, err, "upstream tag list of %s", image)
		}
		found = true
		add(body.Tags)
	default:
		prefix := manifestsPrefix(image)
		err := r.Walk(ctx, prefix, func(a *meta.Asset) error {
			ref := a.Path[len(prefix):]
			if strings.Contains(ref, "/") {
				return nil // an image nested in this one ("<image>/manifests/...")
			}
			found = true
			if !isDigestRef(ref) {
				set[ref] = true
			}
			return nil
		})
		if err != nil {
			return nil, false, err
		}
	}
	tags = make([]string, 0, len(set))
	for t := range set {
		tags = append(tags, t)
	}
	return tags, found, nil
}

// paginate applies the n and last parameters to a sorted list and returns
// the page and, if more follow, the last entry of the page.
func paginate(all []string, req *http.Request) ([]string, string, error) {
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(all, last)
		if i < len(all) && all[i] == last {
			i++
		}
		all = all[i:]
	}
	if raw := q.Get("n"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return nil, "", newError(http.StatusBadRequest, "PAGINATION_NUMBER_INVALID", "invalid number of results requested", raw)
		}
		if n < len(all) {
			page := all[:n]
			if n == 0 {
				return []string{}, "", nil
			}
			return page, page[n-1], nil
		}
	}
	return all, "", nil
}

// catalog serves GET /v2/_catalog: the image names of every repository the
// caller may pull from; on the main port prefixed with the repository name.
func (f *Format) catalog(w http.ResponseWriter, req *http.Request, list func() []repo.Repository, prefixed bool) {
	var names []string
	anyAllowed := false
	for _, r := range list() {
		if !mayList(req.Context(), r) {
			continue
		}
		anyAllowed = true
		seen := map[string]bool{}
		for _, m := range stored(r) {
			err := m.Walk(req.Context(), "v2/", func(a *meta.Asset) error {
				image, _, ok := splitManifestPath(a.Path)
				if !ok {
					return nil
				}
				if prefixed {
					image = r.Name() + "/" + image
				}
				if !seen[image] {
					seen[image] = true
					names = append(names, image)
				}
				return nil
			})
			if err != nil {
				writeError(w, req, f.log, err, nil)
				return
			}
		}
	}
	if !anyAllowed && len(list()) > 0 {
		challenge(w, req, "registry:catalog:*", nil)
		return
	}
	sort.Strings(names)
	page, next, err := paginate(names, req)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	if page == nil {
		page = []string{}
	}
	if next != "" {
		w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?n=%d&last=%s>; rel="next"`, len(page), next))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"repositories": page})
}

// referrersOf lists the manifests of image whose subject is subject: from
// a hosted repository's own manifests, a proxy's upstream (its referrers
// list is cached as metadata) and every member of a group.
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
		c, err := r.Get(ctx, "v2/"+image+"/referrers/"+subject)
		if errs.KindOf(err) == errs.NotFound {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		var index manifest
		if err := decodeSmall(c, &index); err != nil {
			return nil, errs.Wrap(errs.Upstream, err, "upstream referrers of %s", subject)
		}
		return index.Manifests, nil
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

// referrers serves GET /v2/<name>/referrers/<digest>: an image index of the
// manifests whose subject is digest, optionally filtered by artifactType.
func (f *Format) referrers(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		f.methodNotAllowed(w, req, "GET")
		return
	}
	if !f.require(w, req, t, "pull") {
		return
	}
	subject, ok := parseDigest(ref)
	if !ok {
		writeError(w, req, f.log, newError(http.StatusBadRequest, "DIGEST_INVALID", "invalid digest", ref), nil)
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
	json.NewEncoder(w).Encode(map[string]any{"schemaVersion": 2, "mediaType": mtOCIIndex, "manifests": descs})
}
