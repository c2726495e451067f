package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxManifestSize bounds manifest uploads, as the spec lets registries do.
const maxManifestSize = 4 << 20

// Media types the registry understands.
const (
	mtOCIManifest    = "application/vnd.oci.image.manifest.v1+json"
	mtOCIIndex       = "application/vnd.oci.image.index.v1+json"
	mtDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mtDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
	mtSchema1        = "application/vnd.docker.distribution.manifest.v1+json"
	mtSchema1Signed  = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// Asset attributes of stored manifests.
const (
	attrDigest       = "digest"       // the manifest's digest (tags point at it)
	attrSubject      = "subject"      // the subject's digest, for referrers
	attrArtifactType = "artifactType" // for referrers
	attrAnnotations  = "annotations"  // JSON, for referrers
	attrRefs         = "refs"         // space-separated digests the manifest references
)

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
}

// manifest holds the fields of every manifest kind the registry reads.
type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *descriptor       `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Manifests     []descriptor      `json:"manifests"`
	Subject       *descriptor       `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// manifest serves GET, HEAD, PUT and DELETE of /v2/<name>/manifests/<ref>.
func (f *Format) manifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		f.getManifest(w, req, t, ref)
	case http.MethodPut:
		f.putManifest(w, req, t, ref)
	case http.MethodDelete:
		f.deleteManifest(w, req, t, ref)
	default:
		f.methodNotAllowed(w, req, "GET, HEAD, PUT, DELETE")
	}
}

func validRef(ref string) bool {
	if isDigestRef(ref) {
		_, ok := parseDigest(ref)
		return ok
	}
	return tagRe.MatchString(ref)
}

func (f *Format) getManifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if !f.require(w, req, t, "pull") {
		return
	}
	if !validRef(ref) {
		writeError(w, req, f.log, errManifestUnknown, nil)
		return
	}
	c, err := f.manifestContent(req.Context(), t.r, manifestPath(t.image, ref))
	if err != nil {
		writeError(w, req, f.log, err, errManifestUnknown)
		return
	}
	d := manifestDigest(c.Asset)
	switch {
	case isDigestRef(ref):
		d = ref
	case d == "":
		// A proxy's first download of a tag streams; a manifest is small,
		// so read it to know its digest before answering.
		c, d, err = digestOf(c)
		if err != nil {
			writeError(w, req, f.log, err, nil)
			return
		}
	}
	w.Header().Set("Docker-Content-Digest", d)
	w.Header().Set("ETag", `"`+d+`"`)
	serveBytes(w, req, c)
}

// manifestContent returns a stored manifest. A hosted repository's comes
// from its metadata and, when hot, from memory; proxies and groups decide
// freshness themselves, through Get.
func (f *Format) manifestContent(ctx context.Context, r repo.Repository, p string) (*repo.Content, error) {
	if r.Config().Type != repo.Hosted {
		return r.Get(ctx, p)
	}
	a, err := r.Stat(ctx, p)
	if err != nil {
		return nil, err
	}
	if body, ok := f.manifests.get(a.Blob); ok {
		return &repo.Content{Asset: a, Body: nopSeekCloser{bytes.NewReader(body)}}, nil
	}
	c, err := r.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	body, err := readSmall(c)
	if err != nil {
		return nil, err
	}
	f.manifests.put(a.Blob, body)
	return &repo.Content{Asset: c.Asset, Body: nopSeekCloser{bytes.NewReader(body)}}, nil
}

// nopSeekCloser serves in-memory bytes as content with ranges.
type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

// readSmall reads a metadata document (a manifest, a tag list) to the end;
// for a first proxy download that is also when it has been cached.
func readSmall(c *repo.Content) ([]byte, error) {
	defer c.Body.Close()
	body, err := io.ReadAll(io.LimitReader(c.Body, maxManifestSize+1))
	if err == nil && len(body) > maxManifestSize {
		err = errs.New(errs.TooLarge, "metadata document exceeds %d bytes", maxManifestSize)
	}
	return body, err
}

// decodeSmall reads a metadata document to the end (so a first proxy
// download is cached before the answer) and decodes its JSON into v.
func decodeSmall(c *repo.Content, v any) error {
	raw, err := readSmall(c)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

// digestOf reads a streamed manifest into memory to learn its digest.
func digestOf(c *repo.Content) (*repo.Content, string, error) {
	body, err := readSmall(c)
	if err != nil {
		return nil, "", err
	}
	a := *c.Asset
	a.Size = int64(len(body))
	return &repo.Content{Asset: &a, Body: io.NopCloser(bytes.NewReader(body))}, digest.FromBytes(body).String(), nil
}

func (f *Format) putManifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if !f.require(w, req, t, "push") {
		return
	}
	u, ok := f.uploader(w, req, t)
	if !ok {
		return
	}
	t = f.writeTarget(t)
	tags := req.URL.Query()["tag"]
	if !isDigestRef(ref) {
		tags = append([]string{ref}, tags...)
	}
	for _, tag := range tags {
		if !tagRe.MatchString(tag) {
			writeError(w, req, f.log, newError(http.StatusBadRequest, "TAG_INVALID", "invalid tag", tag), nil)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestSize+1))
	if err != nil {
		writeError(w, req, f.log, newError(http.StatusBadRequest, "MANIFEST_INVALID", "manifest could not be read", nil), nil)
		return
	}
	if len(body) > maxManifestSize {
		writeError(w, req, f.log, newError(http.StatusRequestEntityTooLarge, "SIZE_INVALID",
			fmt.Sprintf("manifest exceeds %d bytes", maxManifestSize), nil), nil)
		return
	}
	alg := digest.SHA256
	if isDigestRef(ref) {
		want, ok := parseDigest(ref)
		if !ok {
			writeError(w, req, f.log, newError(http.StatusBadRequest, "DIGEST_INVALID", "invalid digest", ref), nil)
			return
		}
		alg = want.Algorithm()
	}
	d := alg.FromBytes(body)
	if isDigestRef(ref) && d.String() != ref {
		writeError(w, req, f.log, newError(http.StatusBadRequest, "DIGEST_INVALID",
			"manifest digest does not match the reference", map[string]string{"computed": d.String()}), nil)
		return
	}
	m, mediaType, err := parseManifest(body, req.Header.Get("Content-Type"))
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}

	unlock := f.lockImage(t)
	defer unlock()
	if err := f.checkTagsWritable(req, t, tags, d.String()); err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	refs, err := f.checkReferences(req, t, u, m)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	attrs := map[string]string{attrDigest: d.String(), attrRefs: strings.Join(refs, " ")}
	if m.Subject != nil {
		attrs[attrSubject] = m.Subject.Digest
	}
	artifactType := m.ArtifactType
	if artifactType == "" && m.Config != nil {
		artifactType = m.Config.MediaType
	}
	if artifactType != "" {
		attrs[attrArtifactType] = artifactType
	}
	if len(m.Annotations) > 0 {
		raw, _ := json.Marshal(m.Annotations)
		attrs[attrAnnotations] = string(raw)
	}
	ctx := req.Context()
	opts := repo.PutOptions{ContentType: mediaType, Size: int64(len(body)), AllowIdentical: true, Attributes: attrs}
	if _, err := t.r.Put(ctx, manifestPath(t.image, d.String()), bytes.NewReader(body), opts); err != nil {
		writeError(w, req, f.log, policyError(err), nil)
		return
	}
	for _, tag := range tags {
		opts.Attributes = map[string]string{attrDigest: d.String()}
		if _, err := t.r.Put(ctx, manifestPath(t.image, tag), bytes.NewReader(body), opts); err != nil {
			writeError(w, req, f.log, policyError(err), nil)
			return
		}
	}
	h := w.Header()
	h.Set("Location", "/v2/"+t.name+"/manifests/"+d.String())
	h.Set("Docker-Content-Digest", d.String())
	if m.Subject != nil {
		h.Set("OCI-Subject", m.Subject.Digest)
	}
	for _, tag := range tags {
		h.Add("OCI-Tag", tag)
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}

// checkTagsWritable refuses, before anything is stored, a push that would
// move a tag of an allow_once repository to another manifest.
func (f *Format) checkTagsWritable(req *http.Request, t target, tags []string, d string) error {
	if t.r.Config().Storage.WritePolicy != repo.WriteAllowOnce {
		return nil
	}
	for _, tag := range tags {
		a, err := t.r.Stat(req.Context(), manifestPath(t.image, tag))
		if err == nil && manifestDigest(a) != d {
			return newError(http.StatusForbidden, "DENIED",
				fmt.Sprintf("repository %s does not allow updating tag %s (write policy allow_once)", t.r.Name(), tag), nil)
		}
	}
	return nil
}

// parseManifest checks a manifest's JSON and settles its media type: the
// Content-Type header, which must agree with a mediaType field if both are
// given. Schema 1 manifests are refused: no current client needs them.
func parseManifest(body []byte, contentType string) (*manifest, string, error) {
	invalid := func(msg string) error { return newError(http.StatusBadRequest, "MANIFEST_INVALID", msg, nil) }
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "", invalid("manifest is not valid JSON: " + err.Error())
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	if ct == mtSchema1 || ct == mtSchema1Signed || m.MediaType == mtSchema1 || m.MediaType == mtSchema1Signed || m.SchemaVersion == 1 {
		return nil, "", invalid("Docker image manifest schema 1 is not supported; push with a client that uses schema 2 or OCI")
	}
	if m.SchemaVersion != 2 {
		return nil, "", invalid("schemaVersion must be 2")
	}
	mediaType := ct
	switch {
	case m.MediaType != "" && ct != "" && m.MediaType != ct:
		return nil, "", invalid(fmt.Sprintf("mediaType %s does not match Content-Type %s", m.MediaType, ct))
	case mediaType == "" && m.MediaType != "":
		mediaType = m.MediaType
	case mediaType == "" && m.Manifests != nil:
		mediaType = mtOCIIndex
	case mediaType == "":
		mediaType = mtOCIManifest
	}
	switch mediaType {
	case mtOCIManifest, mtDockerManifest:
		if m.Config == nil {
			return nil, "", invalid("an image manifest needs a config descriptor")
		}
	case mtOCIIndex, mtDockerList:
		if m.Config != nil || m.Layers != nil {
			return nil, "", invalid("an index lists manifests, not a config or layers")
		}
	}
	for _, desc := range m.descriptors() {
		if _, ok := parseDigest(desc.Digest); !ok {
			return nil, "", invalid("invalid descriptor digest " + strconv.Quote(desc.Digest))
		}
	}
	return &m, mediaType, nil
}

// descriptors returns every descriptor the manifest names.
func (m *manifest) descriptors() []descriptor {
	var out []descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	out = append(out, m.Layers...)
	out = append(out, m.Manifests...)
	if m.Subject != nil {
		out = append(out, *m.Subject)
	}
	return out
}

// reference is a descriptor a manifest depends on and where the image
// stores it: config and layers as blobs, an index's entries as manifests.
// (The subject is no dependency: it need not exist.)
type reference struct {
	desc descriptor
	path string
}

func (m *manifest) references(image string) []reference {
	var out []reference
	if m.Config != nil {
		out = append(out, reference{*m.Config, blobPath(image, digest.Digest(m.Config.Digest))})
	}
	for _, l := range m.Layers {
		out = append(out, reference{l, blobPath(image, digest.Digest(l.Digest))})
	}
	for _, c := range m.Manifests {
		out = append(out, reference{c, manifestPath(image, c.Digest)})
	}
	return out
}

// checkReferences returns the digests of the blobs and child manifests m
// references, refusing with MANIFEST_BLOB_UNKNOWN any the image lacks
// unless the repository allows sparse manifests. Foreign layers (with
// urls) and the subject need not be present. Pushed through a group, what
// another member has is linked into the writable member, not re-uploaded.
func (f *Format) checkReferences(req *http.Request, t target, u repo.Uploader, m *manifest) ([]string, error) {
	sparse := settingsOf(t.r).AllowSparseManifests
	var refs []string
	ctx := req.Context()
	check := func(desc descriptor, p string) error {
		refs = append(refs, desc.Digest)
		if sparse || len(desc.URLs) > 0 {
			return nil
		}
		_, err := t.r.Stat(ctx, p)
		if errs.KindOf(err) == errs.NotFound && t.group != nil {
			err = f.linkFromMembers(req, t, u, p)
		}
		if err != nil {
			if errs.KindOf(err) == errs.NotFound {
				return newError(http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "manifest references a blob or manifest the repository does not have", desc.Digest)
			}
			return err
		}
		return nil
	}
	for _, r := range m.references(t.image) {
		if err := check(r.desc, r.path); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

func (f *Format) deleteManifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if !f.require(w, req, t, "delete") {
		return
	}
	if !validRef(ref) {
		writeError(w, req, f.log, errManifestUnknown, nil)
		return
	}
	ctx := req.Context()
	unlock := f.lockImage(t)
	defer unlock()
	if err := t.r.Delete(ctx, manifestPath(t.image, ref)); err != nil {
		writeError(w, req, f.log, policyError(err), errManifestUnknown)
		return
	}
	if isDigestRef(ref) {
		// Tags pointing at a deleted manifest go with it.
		var tags []string
		err := t.r.Walk(ctx, manifestsPrefix(t.image), func(a *meta.Asset) error {
			if image, tag, ok := splitManifestPath(a.Path); ok && image == t.image && a.Attributes[attrDigest] == ref && !isDigestRef(tag) {
				tags = append(tags, a.Path)
			}
			return nil
		})
		if err != nil {
			writeError(w, req, f.log, err, nil)
			return
		}
		for _, p := range tags {
			if err := t.r.Delete(ctx, p); err != nil && errs.KindOf(err) != errs.NotFound {
				f.log.Error("delete tag of deleted manifest", "path", p, "err", err)
			}
		}
		if err := f.collect(ctx, t.r, t.image); err != nil {
			f.log.Error("collect unreferenced blobs", "repository", t.r.Name(), "image", t.image, "err", err)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

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
