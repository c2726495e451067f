package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Asset attributes of stored manifests.
const (
	attrDigest       = "digest"       // the manifest's digest (tags point at it)
	attrSubject      = "subject"      // the subject's digest, for referrers
	attrArtifactType = "artifactType" // for referrers
	attrAnnotations  = "annotations"  // JSON, for referrers
	attrRefs         = "refs"         // space-separated digests the manifest references
)

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

func (f *Format) getManifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if !f.require(w, req, t, "pull", manifestPath(t.image, ref)) {
		return
	}
	if !validRef(ref) {
		writeError(w, req, f.log, codeManifestUnknown.err(), nil)
		return
	}
	c, err := f.manifestContent(req.Context(), t.r, manifestPath(t.image, ref))
	if err == nil && req.Method == http.MethodGet {
		c, err = f.noteForeignLayers(t.r, c)
	}
	if err != nil {
		writeError(w, req, f.log, err, codeManifestUnknown.err())
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
	f.serveBytes(w, req, c)
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
		return &repo.Content{Asset: a, Body: repo.BytesBody(body), Downloaded: repo.DownloadOf(r, a)}, nil
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
	return &repo.Content{Asset: c.Asset, Body: repo.BytesBody(body), Downloaded: c.Downloaded}, nil
}

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
	return &repo.Content{Asset: &a, Body: io.NopCloser(bytes.NewReader(body)), Downloaded: c.Downloaded}, digest.FromBytes(body).String(), nil
}

func (f *Format) putManifest(w http.ResponseWriter, req *http.Request, t target, ref string) {
	if !f.require(w, req, t, "push", manifestPath(t.image, ref)) {
		return
	}
	u, ok := f.uploader(w, req, t)
	if !ok {
		return
	}
	t = f.writeTarget(t)
	tags, err := pushTags(ref, req.URL.Query())
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxManifestSize+1))
	if err != nil {
		writeError(w, req, f.log, codeManifestInvalid.with("manifest could not be read", nil), nil)
		return
	}
	if len(body) > maxManifestSize {
		writeError(w, req, f.log, codeSizeInvalid.with(fmt.Sprintf("manifest exceeds %d bytes", maxManifestSize), nil), nil)
		return
	}
	d, err := bodyDigest(body, ref)
	if err != nil {
		writeError(w, req, f.log, err, nil)
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
	// The tags are written with the manifest, in one transaction: a push
	// cut short sets all of them or none.
	for _, tag := range tags {
		opts.Aliases = append(opts.Aliases, repo.Alias{Path: manifestPath(t.image, tag), Attributes: map[string]string{attrDigest: d.String()}})
	}
	if _, err := t.r.Put(ctx, manifestPath(t.image, d.String()), bytes.NewReader(body), opts); err != nil {
		writeError(w, req, f.log, policyError(err), nil)
		return
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
				return codeManifestBlobUnknown.withDetail(desc.Digest)
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
	if !f.require(w, req, t, "delete", manifestPath(t.image, ref)) {
		return
	}
	if !validRef(ref) {
		writeError(w, req, f.log, codeManifestUnknown.err(), nil)
		return
	}
	ctx := req.Context()
	unlock := f.lockImage(t)
	defer unlock()
	if err := t.r.Delete(ctx, manifestPath(t.image, ref)); err != nil {
		writeError(w, req, f.log, policyError(err), codeManifestUnknown.err())
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
		after := repo.Consequent(ctx)
		for _, p := range tags {
			if err := t.r.Delete(after, p); err != nil && errs.KindOf(err) != errs.NotFound {
				f.log.Error("delete tag of deleted manifest", "path", p, "err", err)
			}
		}
		if err := f.collect(after, t.r, t.image); err != nil {
			f.log.Error("collect unreferenced blobs", "repository", t.r.Name(), "image", t.image, "err", err)
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }
