package docker

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// blob serves GET, HEAD and DELETE of /v2/<name>/blobs/<digest>.
func (f *Format) blob(w http.ResponseWriter, req *http.Request, t target, ref string) {
	action := map[string]string{http.MethodGet: "pull", http.MethodHead: "pull", http.MethodDelete: "delete"}[req.Method]
	if action == "" {
		f.methodNotAllowed(w, req, "GET, HEAD, DELETE")
		return
	}
	if !f.require(w, req, t, action, "v2/"+t.image+"/blobs/"+ref) {
		return
	}
	d, ok := parseDigest(ref)
	if !ok {
		writeError(w, req, f.log, codeDigestInvalid.with("invalid digest", ref), nil)
		return
	}
	if req.Method == http.MethodDelete {
		if err := t.r.Delete(req.Context(), blobPath(t.image, d)); err != nil {
			writeError(w, req, f.log, policyError(err), codeBlobUnknown.err())
			return
		}
		w.WriteHeader(http.StatusAccepted)
		return
	}
	c, err := t.r.Get(req.Context(), blobPath(t.image, d))
	if err != nil {
		writeError(w, req, f.log, err, codeBlobUnknown.err())
		return
	}
	f.touch(t, d)
	h := w.Header()
	h.Set("Docker-Content-Digest", d.String())
	h.Set("ETag", `"`+d.String()+`"`)
	c.Asset.ContentType = "application/octet-stream"
	f.serveBytes(w, req, c)
}

// serveBytes writes content with ranges and conditional requests, or the
// error of a download that failed before its first byte.
func (f *Format) serveBytes(w http.ResponseWriter, req *http.Request, c *repo.Content) {
	if err := serve.Content(w, req, c, ""); err != nil {
		writeError(w, req, f.log, err, nil)
	}
}

// A group takes pushes through its writable member.
func (f *Format) uploader(w http.ResponseWriter, req *http.Request, t target) (repo.Uploader, bool) {
	r := t.r
	if g, ok := r.(repo.GroupMembers); ok {
		if r = g.WritableMember(); r == nil {
			writeError(w, req, f.log, codeUnsupported.with(fmt.Sprintf("group %s has no writable member: push to one of its hosted members, or set group.writableMember", t.r.Name()), nil), nil)
			return nil, false
		}
	}
	u, ok := r.(repo.Uploader)
	if !ok {
		writeError(w, req, f.log, codeUnsupported.with(fmt.Sprintf("repository %s does not accept pushes (it is a %s repository)", r.Name(), r.Config().Type), nil), nil)
		return nil, false
	}
	// Refuse at once, not after the client has sent a whole layer.
	if req.Method != http.MethodDelete && r.Config().Storage.WritePolicy == repo.WriteDeny {
		writeError(w, req, f.log, codeDenied.with(fmt.Sprintf("repository %s is read-only (write policy deny)", r.Name()), nil), nil)
		return nil, false
	}
	return u, true
}

// startUpload serves POST /v2/<name>/blobs/uploads/: a cross-repository
// mount, a monolithic upload with ?digest=, or a new upload session.
func (f *Format) startUpload(w http.ResponseWriter, req *http.Request, t target, resolve resolver) {
	if req.Method != http.MethodPost {
		f.methodNotAllowed(w, req, "POST")
		return
	}
	if !f.require(w, req, t, "push", "") {
		return
	}
	u, ok := f.uploader(w, req, t)
	if !ok {
		return
	}
	t = f.writeTarget(t)
	ctx := req.Context()
	q := req.URL.Query()
	if mount := q.Get("mount"); mount != "" {
		from := q.Get("from")
		if _, isToken := bearer(req); isToken && from != "" {
			// A token scoped to this name alone cannot read the source:
			// ask the client for one that covers both, as Docker expects.
			if r, image, ok := resolve(req.Context(), from); ok && f.allowed(req, r, from, "pull", imageFolder(image)) != nil {
				challenge(w, req, "repository:"+t.name+":pull,push repository:"+from+":pull", nil)
				return
			}
		}
		if d, ok := parseDigest(mount); ok && f.mount(w, req, t, u, d, from, resolve) {
			return
		}
	}
	if raw := q.Get("digest"); raw != "" {
		d, ok := parseDigest(raw)
		if !ok {
			writeError(w, req, f.log, codeDigestInvalid.err(), nil)
			return
		}
		f.monolithic(w, req, t, d)
		return
	}
	id, err := u.NewUpload(ctx)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	f.uploadHeaders(w, t, id, 0)
	w.WriteHeader(http.StatusAccepted)
}

// monolithic stores the body of POST .../blobs/uploads/?digest= as blob d.
// It is a plain write, not an upload session: the client never learns an
// id to resume, so its bytes are only a temporary file until verified,
// which the start-up sweep removes if the server dies meanwhile.
func (f *Format) monolithic(w http.ResponseWriter, req *http.Request, t target, d digest.Digest) {
	body := &trackedBody{r: req.Body}
	_, err := t.r.Put(req.Context(), blobPath(t.image, d), body, repo.PutOptions{
		ContentType: "application/octet-stream", AllowIdentical: true, Size: -1, Expected: d,
	})
	switch {
	case err == nil:
		f.touch(t, d)
		blobCreated(w, t, d)
	case errs.KindOf(err) == errs.Invalid && body.err == nil:
		// The whole body arrived: its digest is not d.
		writeError(w, req, f.log, codeDigestInvalid.with(errs.Message(err), nil), nil)
	case errs.KindOf(err) == errs.Unsupported:
		writeError(w, req, f.log, policyError(err), nil)
	default:
		writeError(w, req, f.log, uploadErr(err), nil)
	}
}

// trackedBody remembers whether reading a request body failed, to tell a
// body cut short from one whose digest is wrong.
type trackedBody struct {
	r   io.Reader
	err error
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// mount links a blob that image from (or, without from, any image of this
// repository) already has; it reports false when the caller should get an
// upload session instead.
func (f *Format) mount(w http.ResponseWriter, req *http.Request, t target, u repo.Uploader, d digest.Digest, from string, resolve resolver) bool {
	var a *meta.Asset
	if from != "" {
		r, image, ok := resolve(req.Context(), from)
		if !ok || !validName(image) || f.allowed(req, r, from, "pull", blobPath(image, d)) != nil {
			return false
		}
		_, a = statStored(req, r, blobPath(image, d))
		if a == nil {
			return false
		}
	} else {
		searched := t.r
		if t.group != nil {
			searched = t.group
		}
		a = f.findBlob(req, searched, d)
		if a == nil {
			return false
		}
	}
	if _, err := u.Link(req.Context(), blobPath(t.image, d), a.Blob, repo.PutOptions{
		ContentType: "application/octet-stream", AllowIdentical: true, Size: a.Size,
	}); err != nil {
		writeError(w, req, f.log, policyError(err), nil)
		return true
	}
	f.touch(t, d)
	blobCreated(w, t, d)
	return true
}

// findBlob finds a link to blob d in any image of r (of any member, for a
// group), for a mount without from (which the spec lets a registry honour
// when it knows the blob): one lookup per image with blob links.
func (f *Format) findBlob(req *http.Request, r repo.Repository, d digest.Digest) *meta.Asset {
	var found *meta.Asset
	stop := errors.New("found")
	for _, m := range stored(r) {
		imageFolders(req.Context(), m, "blobs", func(image string) error {
			if a, err := m.Stat(req.Context(), blobPath(image, d)); err == nil {
				found = a
				return stop
			}
			return nil
		})
		if found != nil {
			break
		}
	}
	return found
}

// stored returns the repositories that hold r's assets: r itself, or for a
// group its members, depth first, in order.
func stored(r repo.Repository) []repo.Repository {
	g, ok := r.(repo.GroupMembers)
	if !ok {
		return []repo.Repository{r}
	}
	var out []repo.Repository
	for _, m := range g.Members() {
		out = append(out, stored(m)...)
	}
	return out
}

// statStored finds the asset at p in r or, for a group, in a member, and
// the repository that holds it.
func statStored(req *http.Request, r repo.Repository, p string) (repo.Repository, *meta.Asset) {
	for _, m := range stored(r) {
		if a, err := m.Stat(req.Context(), p); err == nil {
			return m, a
		}
	}
	return nil, nil
}

// linkFromMembers links the asset at p that another member of the group
// has into the writable member, instead of asking the client to upload it.
// A manifest brings along what it references, so the writable member never
// holds a manifest whose blobs it lacks.
func (f *Format) linkFromMembers(req *http.Request, t target, u repo.Uploader, p string) error {
	holder, a := statStored(req, t.group, p)
	if a == nil {
		return errs.New(errs.NotFound, "%s not in any member", p)
	}
	attrs := a.Attributes
	if _, ref, ok := splitManifestPath(p); ok && isDigestRef(ref) {
		refs, err := f.linkReferences(req, t, u, holder, p)
		if err != nil {
			return err
		}
		attrs = map[string]string{attrDigest: ref, attrRefs: strings.Join(refs, " ")}
		for _, k := range []string{attrSubject, attrArtifactType, attrAnnotations} {
			if v := a.Attributes[k]; v != "" {
				attrs[k] = v
			}
		}
	}
	_, err := u.Link(req.Context(), p, a.Blob, repo.PutOptions{ContentType: a.ContentType, Size: a.Size,
		AllowIdentical: true, Attributes: attrs})
	return err
}

// linkReferences makes sure the writable member has everything the
// manifest at p (held by holder) references, linking what it lacks from
// the group's members; it returns the referenced digests.
func (f *Format) linkReferences(req *http.Request, t target, u repo.Uploader, holder repo.Repository, p string) ([]string, error) {
	c, err := holder.Get(req.Context(), p)
	if err != nil {
		return nil, err
	}
	var m manifest
	if err := decodeSmall(c, &m); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "stored manifest %s", p)
	}
	var refs []string
	need := func(desc descriptor, want string) error {
		refs = append(refs, desc.Digest)
		if len(desc.URLs) > 0 {
			return nil
		}
		if _, err := t.r.Stat(req.Context(), want); err == nil {
			return nil
		}
		return f.linkFromMembers(req, t, u, want)
	}
	for _, r := range m.references(t.image) {
		if err := need(r.desc, r.path); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// upload serves GET (status), PATCH (append), PUT (finish) and DELETE
// (cancel) of /v2/<name>/blobs/uploads/<id>.
func (f *Format) upload(w http.ResponseWriter, req *http.Request, t target, session string) {
	action := "push"
	if req.Method == http.MethodGet {
		action = "pull"
	}
	if !f.require(w, req, t, action, "") {
		return
	}
	u, ok := f.uploader(w, req, t)
	if !ok {
		return
	}
	id, ok := f.uploadID(t, session)
	if !ok {
		writeError(w, req, f.log, codeBlobUploadUnknown.err(), nil)
		return
	}
	ctx := req.Context()
	size, err := u.UploadSize(ctx, id)
	if err != nil {
		writeError(w, req, f.log, uploadErr(err), codeBlobUploadUnknown.err())
		return
	}
	switch req.Method {
	case http.MethodGet:
		f.uploadHeaders(w, t, id, size)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		size, ok := f.appendChunk(w, req, u, t, id, size)
		if !ok {
			return
		}
		f.uploadHeaders(w, t, id, size)
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		d, ok := parseDigest(req.URL.Query().Get("digest"))
		if !ok {
			writeError(w, req, f.log, codeDigestInvalid.with("a valid digest parameter is required", nil), nil)
			return
		}
		if req.ContentLength != 0 {
			if _, ok := f.appendChunk(w, req, u, t, id, size); !ok {
				return
			}
		}
		f.commit(w, req, t, u, id, d)
	case http.MethodDelete:
		if err := u.CancelUpload(ctx, id); err != nil {
			writeError(w, req, f.log, uploadErr(err), codeBlobUploadUnknown.err())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		f.methodNotAllowed(w, req, "GET, PATCH, PUT, DELETE")
	}
}

// appendChunk appends the request body at the offset its Content-Range
// names (or at the end for a streamed PATCH); an out-of-order chunk gets 416.
func (f *Format) appendChunk(w http.ResponseWriter, req *http.Request, u repo.Uploader, t target, id string, size int64) (int64, bool) {
	offset := size
	if cr := req.Header.Get("Content-Range"); cr != "" {
		start, end, ok := parseContentRange(cr)
		if !ok || start != size || (req.ContentLength >= 0 && end-start+1 != req.ContentLength) {
			rangeNotSatisfiable(w, req, f, t, id, size)
			return 0, false
		}
		offset = start
	}
	n, err := u.AppendUpload(req.Context(), id, offset, req.Body)
	var re *blob.RangeError
	if errors.As(err, &re) {
		rangeNotSatisfiable(w, req, f, t, id, re.Size)
		return 0, false
	}
	if err != nil {
		writeError(w, req, f.log, uploadErr(err), codeBlobUploadUnknown.err())
		return 0, false
	}
	return n, true
}

func rangeNotSatisfiable(w http.ResponseWriter, req *http.Request, f *Format, t target, id string, size int64) {
	f.uploadHeaders(w, t, id, size)
	writeError(w, req, f.log, codeRangeInvalid.withDetail(map[string]int64{"size": size}), nil)
}

// parseContentRange reads "<start>-<end>" (the distribution API form, no
// unit), tolerating a "bytes " prefix.
func parseContentRange(s string) (start, end int64, ok bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "bytes ")
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// commit finishes an upload as the blob d of t's image; it reports whether
// it did.
func (f *Format) commit(w http.ResponseWriter, req *http.Request, t target, u repo.Uploader, id string, d digest.Digest) bool {
	_, err := u.CommitUpload(req.Context(), blobPath(t.image, d), id, d, repo.PutOptions{
		ContentType: "application/octet-stream", AllowIdentical: true, Size: -1,
	})
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Invalid:
			writeError(w, req, f.log, codeDigestInvalid.with(errs.Message(err), nil), nil)
		case errs.Unsupported:
			writeError(w, req, f.log, policyError(err), nil)
		default:
			writeError(w, req, f.log, uploadErr(err), codeBlobUploadUnknown.err())
		}
		return false
	}
	f.touch(t, d)
	blobCreated(w, t, d)
	return true
}

func uploadErr(err error) error {
	if errs.KindOf(err) == errs.Invalid {
		return codeBlobUploadInvalid.with(errs.Message(err), nil)
	}
	return err
}

// uploadHeaders describes upload id of the store to the client. The client
// sees it as a session "<id>.<signature>", bound to the repository and
// image it was started in, so that it cannot be continued anywhere else.
func (f *Format) uploadHeaders(w http.ResponseWriter, t target, id string, size int64) {
	session := id
	if sig, err := f.auth.Sign(sessionBinding(t, id)); err == nil {
		session += "." + sig
	}
	h := w.Header()
	h.Set("Location", "/v2/"+t.name+"/blobs/uploads/"+session)
	h.Set("Docker-Upload-UUID", session)
	end := size - 1
	if end < 0 {
		end = 0
	}
	h.Set("Range", fmt.Sprintf("0-%d", end))
	h.Set("Content-Length", "0")
}

// uploadID returns the store's upload id of a client's session, if the
// session was started in this repository and image.
func (f *Format) uploadID(t target, session string) (string, bool) {
	i := strings.LastIndexByte(session, '.')
	if i < 0 {
		return "", false
	}
	id := session[:i]
	return id, f.auth.Verify(sessionBinding(t, id), session[i+1:])
}

// sessionBinding is what an upload session is signed for: the repository
// the client addressed (a group, not its writable member) and the image.
func sessionBinding(t target, id string) string {
	repoName := t.r.Name()
	if t.group != nil {
		repoName = t.group.Name()
	}
	return "docker-upload\x00" + repoName + "\x00" + t.image + "\x00" + id
}

func blobCreated(w http.ResponseWriter, t target, d digest.Digest) {
	h := w.Header()
	h.Set("Location", "/v2/"+t.name+"/blobs/"+d.String())
	h.Set("Docker-Content-Digest", d.String())
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusCreated)
}
