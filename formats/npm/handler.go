package npm

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// Media types of the two packument answers.
const (
	typeJSON        = "application/json"
	typeAbbreviated = "application/vnd.npm.install-v1+json"
)

// ServeHTTP handles the npm registry protocol under /repository/<name>/.
func (f *Format) ServeHTTP(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) {
	if err := f.serve(w, req, r, p); err != nil {
		writeError(w, req, f.log, err)
	}
}

func (f *Format) serve(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) error {
	rt, err := parseRoute(p)
	if err != nil {
		return err
	}
	switch rt.kind {
	case routeSpecial:
		return f.special(w, req, r, rt.rest)
	case routeDistTags:
		return f.distTags(w, req, r, rt)
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		// A package's documents are checked on its packument's path,
		// tarballs on their own.
		checked := rt.name
		if rt.kind == routeTarball {
			checked = p
		}
		if err := r.AuthorizePath(req.Context(), "read", checked); err != nil {
			return err
		}
		switch {
		case rt.kind == routePackument:
			return f.getPackument(w, req, r, rt.name)
		case rt.kind == routeVersion:
			return f.getVersion(w, req, r, rt.name, rt.rest)
		case rt.kind == routeTarball && rt.rev == "":
			c, err := f.tarball(req.Context(), r, rt.name, p)
			if err != nil {
				return err
			}
			return serve.Content(w, req, c, "")
		}
	case http.MethodPut:
		switch rt.kind {
		case routePackument:
			return f.put(w, req, r, rt.name, "")
		case routeRevision:
			return f.put(w, req, r, rt.name, rt.rest)
		}
	case http.MethodDelete:
		switch {
		case rt.kind == routeRevision:
			return f.unpublishAll(w, req, r, rt.name, rt.rest)
		case rt.kind == routeTarball && rt.rev != "":
			return f.deleteTarball(w, req, r, rt)
		case r.Config().Type == repo.Proxy && (rt.kind == routePackument || rt.kind == routeTarball):
			// A proxy forgets what it cached: fetched again when next asked.
			if err := r.AuthorizePath(req.Context(), "delete", p); err != nil {
				return err
			}
			if err := r.Delete(req.Context(), p); err != nil {
				return err
			}
			writeJSON(w, req, http.StatusOK, map[string]bool{"ok": true})
			return nil
		}
	}
	return errs.New(errs.Unsupported, "method %s not allowed here", req.Method)
}

// tarball is the tarball at p of package name. Through a group, a package
// a hosted member has is served from hosted members only, as its
// packument is (see Merge): a tarball URL naming a version only a public
// registry has cannot smuggle it in either.
func (f *Format) tarball(ctx context.Context, r repo.Repository, name, p string) (*repo.Content, error) {
	gm, ok := r.(repo.GroupMembers)
	if !ok || f.settingsOf(r.Config()).MergeProxiedVersions {
		return r.Get(ctx, p)
	}
	var private []repo.Repository
	for _, m := range gm.Members() {
		if m.Config().Type != repo.Hosted {
			continue
		}
		private = append(private, m)
		if c, err := m.Get(ctx, p); err == nil || errs.KindOf(err) != errs.NotFound {
			return c, err
		}
	}
	for _, m := range private {
		if _, err := m.Stat(ctx, name); err == nil {
			return nil, errs.New(errs.NotFound, "%s is not in the hosted members that have %s", p, name)
		}
	}
	return r.Get(ctx, p)
}

// getPackument serves the packument of name: the stored (or cached or
// merged) document with its tarball URLs rewritten by the engine, or its
// abbreviated form, gzipped when the client takes it. All three come from
// the engine's caches after the first request: nothing is parsed here.
func (f *Format) getPackument(w http.ResponseWriter, req *http.Request, r repo.Repository, name string) error {
	ctx := req.Context()
	forWrite := req.URL.Query().Get("write") == "true"
	from := r
	if gm, ok := r.(repo.GroupMembers); ok && forWrite && gm.WritableMember() != nil {
		// npm reads the document it is about to change (deprecate,
		// unpublish): through a group, the writable member's, whose _rev
		// the change must name, not the merge's.
		from = gm.WritableMember()
	}
	c, err := from.Get(ctx, name)
	if err != nil {
		return err
	}
	ctype := typeJSON
	if wantsAbbreviated(req) && !forWrite {
		if c, err = repo.Derive(ctx, c, "abbreviated", abbreviate); err != nil {
			return err
		}
		ctype = typeAbbreviated
	}
	h := w.Header()
	h.Set("Vary", "Accept, Accept-Encoding")
	if acceptsGzip(req) {
		if c, err = repo.Derive(ctx, c, "gzip", gzipBytes); err != nil {
			return err
		}
		h.Set("Content-Encoding", "gzip")
	}
	a := *c.Asset // the engine's copy may be shared: change ours
	a.ContentType = ctype
	c.Asset = &a
	return serve.Content(w, req, c, "")
}

// getVersion serves one version's manifest, by version or dist-tag, cut
// from the packument once per change of it (repo.Derive).
func (f *Format) getVersion(w http.ResponseWriter, req *http.Request, r repo.Repository, name, spec string) error {
	m, err := part(req.Context(), r, name, "version\x00"+spec, func(doc []byte) ([]byte, error) {
		m, err := manifestOf(doc, spec)
		if err == errNoVersion {
			return nil, errs.New(errs.NotFound, "version %s of %s not found", spec, name)
		}
		if err != nil {
			return nil, errs.Wrap(errs.Upstream, err, "the packument of %s is malformed", name)
		}
		return m, nil
	})
	if err != nil {
		return err
	}
	writeRawJSON(w, req, http.StatusOK, m)
	return nil
}

// part is what cut makes of the packument of name as r serves it,
// derived once per change of the packument.
func part(ctx context.Context, r repo.Repository, name, variant string, cut func([]byte) ([]byte, error)) ([]byte, error) {
	c, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if c, err = repo.Derive(ctx, c, variant, cut); err != nil {
		return nil, err
	}
	defer c.Body.Close()
	return io.ReadAll(c.Body)
}

// readDoc reads the packument of name as r serves it (rewritten when the
// context has a base URL).
func readDoc(ctx context.Context, r repo.Repository, name string) ([]byte, error) {
	c, err := r.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer c.Body.Close()
	return readBounded(c.Body, repo.MaxMetadataSize, "the packument of "+name)
}

// readBounded reads at most limit bytes of body; more is errs.TooLarge.
func readBounded(body io.Reader, limit int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, errs.Wrap(errs.Upstream, err, "%s could not be read", what)
	}
	if int64(len(b)) > limit {
		return nil, errs.New(errs.TooLarge, "%s is larger than %d bytes", what, limit)
	}
	return b, nil
}

// wantsAbbreviated reports whether the client prefers the abbreviated
// document: it lists its type with a quality above zero and at least that
// of application/json (pacote: "install-v1; q=1.0, application/json;
// q=0.8, */*"). An Accept of the abbreviated type alone gets it too, never
// a 406.
func wantsAbbreviated(req *http.Request) bool {
	abbrev, full := -1.0, -1.0
	for _, part := range strings.Split(strings.Join(req.Header.Values("Accept"), ","), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil {
				q = v
			}
		}
		switch mt {
		case typeAbbreviated:
			abbrev = max(abbrev, q)
		case typeJSON:
			full = max(full, q)
		}
	}
	return abbrev > 0 && abbrev >= full
}

// acceptsGzip reports whether Accept-Encoding takes gzip.
func acceptsGzip(req *http.Request) bool {
	for _, part := range strings.Split(strings.Join(req.Header.Values("Accept-Encoding"), ","), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(b) / 4)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
