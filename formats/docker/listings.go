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

// The listing endpoints: tags and the catalog (referrers: referrers.go).

// tags serves GET /v2/<name>/tags/list with n/last pagination.
func (f *Format) tags(w http.ResponseWriter, req *http.Request, t target) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		f.methodNotAllowed(w, req, "GET")
		return
	}
	if !f.require(w, req, t, "pull", "") {
		return
	}
	tags, found, err := f.tagsOf(req.Context(), t.r, t.image)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	if !found {
		writeError(w, req, f.log, codeNameUnknown.err(), nil)
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
			return nil, "", codePaginationInvalid.withDetail(raw)
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
		if !mayList(req.Context(), r, "v2/") {
			continue
		}
		anyAllowed = true
		seen := map[string]bool{}
		for _, m := range stored(r) {
			err := imageFolders(req.Context(), m, "manifests", func(image string) error {
				if !mayList(req.Context(), r, imageFolder(image)) {
					return nil // outside the caller's content selectors
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
