package maven

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"path"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// maxMetadata bounds a maven-metadata.xml or pom read into memory; the
// largest real ones (artifacts with thousands of versions) are a few
// hundred KiB.
const maxMetadata = 10 << 20

// maxChecksumUpload bounds an uploaded checksum file: a hex digest,
// perhaps followed by a file name.
const maxChecksumUpload = 1 << 10

// ServeHTTP handles the Maven 2 layout: GET and HEAD of files and their
// checksums, PUT (deploy) and DELETE.
func (f *Format) ServeHTTP(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) {
	var err error
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		err = f.get(w, req, r, p)
	case http.MethodPut:
		err = f.put(w, req, r, p)
	case http.MethodDelete:
		err = f.delete(w, req, r, p)
	default:
		w.Header().Set("Allow", "GET, HEAD, PUT, DELETE")
		err = errs.New(errs.Unsupported, "method %s not allowed", req.Method)
	}
	if err != nil {
		serve.Error(w, req, f.log, err)
	}
}

func (f *Format) get(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) error {
	ctx := req.Context()
	if err := r.AuthorizePath(ctx, "read", p); err != nil {
		return err
	}
	if base, alg, ok := SplitChecksum(p); ok {
		return f.serveChecksum(w, req, r, base, alg)
	}
	c, err := f.content(ctx, r, p)
	if err != nil {
		return err
	}
	disposition := "inline"
	if f.settingsOf(r).ContentDisposition == "ATTACHMENT" {
		disposition = "attachment"
	}
	return serve.Content(w, req, c, disposition)
}

// content is the file at p. A snapshot file named by its base version
// ("lib-1.1-SNAPSHOT.jar"), when not stored as such, is the newest
// timestamped build the folder's maven-metadata.xml names.
func (f *Format) content(ctx context.Context, r repo.Repository, p string) (*repo.Content, error) {
	c, err := r.Get(ctx, p)
	if errs.KindOf(err) == errs.NotFound {
		if build, ok := f.newestBuild(ctx, r, p); ok {
			return r.Get(ctx, build)
		}
	}
	return c, err
}

// newestBuild is the path of the newest timestamped build of snapshot
// file p, from its folder's metadata; false if p is no such file or the
// metadata names none.
func (f *Format) newestBuild(ctx context.Context, r repo.Repository, p string) (string, bool) {
	co, err := ParseArtifact(p)
	if err != nil || !co.Snapshot() || co.Timestamp != "" {
		return "", false
	}
	md, err := f.readMetadata(ctx, r, path.Dir(p)+"/"+MetadataName)
	if err != nil || md == nil {
		return "", false
	}
	v, ok := md.SnapshotFile(co.Classifier, co.Extension)
	if !ok || v == co.Version {
		return "", false
	}
	co.Version = v
	return co.Path(), true
}

// serveChecksum answers a checksum file from the hashes stored with the
// file's blob: for every file, hosted, proxied or merged, and whether or
// not an upstream publishes checksum files. The file is located, not
// opened; one just downloaded, whose hashes are not known yet, is hashed.
func (f *Format) serveChecksum(w http.ResponseWriter, req *http.Request, r repo.Repository, base string, alg blob.Algorithm) error {
	ctx := req.Context()
	a, err := r.Locate(ctx, base)
	if errs.KindOf(err) == errs.NotFound {
		if build, ok := f.newestBuild(ctx, r, base); ok {
			a, err = r.Locate(ctx, build)
		}
	}
	if err != nil {
		return err
	}
	sum := a.Checksums[string(alg)]
	if sum == "" {
		if sum, err = f.hash(ctx, r, base, alg); err != nil {
			return err
		}
	}
	return serve.Content(w, req, &repo.Content{
		Asset: &meta.Asset{Path: base + "." + string(alg), ContentType: "text/plain; charset=utf-8",
			Size: int64(len(sum)), LastModified: a.LastModified},
		Body: repo.BytesBody([]byte(sum)),
	}, "")
}

// hash computes the alg checksum of the file at p from its bytes.
func (f *Format) hash(ctx context.Context, r repo.Repository, p string, alg blob.Algorithm) (string, error) {
	c, err := f.content(ctx, r, p)
	if err != nil {
		return "", err
	}
	defer c.Body.Close()
	h, _ := alg.NewHash()
	if _, err := io.Copy(h, c.Body); err != nil {
		return "", errs.Wrap(errs.Upstream, err, "%s could not be read to compute its %s", p, alg)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (f *Format) put(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) error {
	ctx := req.Context()
	existing, _ := r.Stat(ctx, p)
	action := "add"
	if existing != nil {
		action = "edit"
	}
	if err := r.AuthorizePath(ctx, action, p); err != nil {
		return err
	}
	if t := r.Config().Type; t != repo.Hosted {
		return errs.New(errs.Unsupported, "repository %s is a %s repository: deploy to a hosted one", r.Name(), t)
	}
	if base, alg, ok := SplitChecksum(p); ok {
		if err := f.checkUploadedChecksum(ctx, req.Body, r, base, alg); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	opts := repo.PutOptions{Size: req.ContentLength, UploaderIP: clientip.Of(req), AllowIdentical: true}
	if pr := auth.PrincipalFrom(ctx); pr != nil {
		opts.Uploader = pr.UserID
	}
	if IsMetadataPath(p) {
		if err := f.putMetadata(ctx, req.Body, r, p, opts); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	co, err := f.checkArtifactPath(r, p)
	if err != nil {
		return err
	}
	a, err := r.Put(ctx, p, req.Body, opts)
	if err != nil {
		return err
	}
	if co != nil {
		if err := f.deployed(ctx, r, *co); err != nil {
			return err
		}
	}
	if existing != nil && existing.Blob == a.Blob {
		w.WriteHeader(http.StatusOK) // the very same bytes again: nothing changed
		return nil
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// checkArtifactPath applies the layout and version policies to a deploy
// of p; it returns p's coordinates, nil for a path outside the layout
// that a permissive repository takes.
func (f *Format) checkArtifactPath(r repo.Repository, p string) (*Coords, error) {
	s := f.settingsOf(r)
	co, err := ParseArtifact(p)
	if err != nil {
		if s.LayoutPolicy == layoutStrict {
			return nil, errs.New(errs.Invalid, "%s is not a Maven 2 layout path: %v", p, err)
		}
		return nil, nil
	}
	switch {
	case s.VersionPolicy == policyRelease && co.Snapshot():
		return nil, errs.New(errs.Invalid, "repository %s takes releases only, not snapshot %s", r.Name(), co.BaseVersion)
	case s.VersionPolicy == policySnapshot && !co.Snapshot():
		return nil, errs.New(errs.Invalid, "repository %s takes snapshots only, not release %s", r.Name(), co.BaseVersion)
	}
	return &co, nil
}

// checkUploadedChecksum compares an uploaded checksum file with the hash
// stored for the file it belongs to; it stores nothing. For metadata,
// which the server rewrites, the checksum may also be that of the bytes
// the client uploaded.
func (f *Format) checkUploadedChecksum(ctx context.Context, body io.Reader, r repo.Repository, base string, alg blob.Algorithm) error {
	b, err := io.ReadAll(io.LimitReader(body, maxChecksumUpload+1))
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "checksum upload could not be read")
	}
	if len(b) > maxChecksumUpload {
		return errs.New(errs.TooLarge, "a checksum file is at most %d bytes", maxChecksumUpload)
	}
	sum := blob.ParseChecksumFile(string(b), alg)
	if sum == "" {
		return errs.New(errs.Invalid, "the upload is not a %s checksum", alg)
	}
	a, err := r.Stat(ctx, base)
	if err != nil {
		if errs.KindOf(err) == errs.NotFound {
			return errs.New(errs.Invalid, "%s is the checksum of %s, which is not stored", base+"."+string(alg), base)
		}
		return err
	}
	if sum == a.Checksums[string(alg)] || sum == a.Attributes[uploadedAttr(alg)] {
		return nil
	}
	return errs.New(errs.Invalid, "%s checksum %s does not match %s (stored: %s)", alg, sum, base, a.Checksums[string(alg)])
}

// uploadedAttr is the attribute of a metadata asset holding the alg
// checksum of the bytes a client uploaded for it.
func uploadedAttr(alg blob.Algorithm) string { return "uploaded." + string(alg) }

func (f *Format) delete(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) error {
	ctx := req.Context()
	if err := r.AuthorizePath(ctx, "delete", p); err != nil {
		return err
	}
	if err := r.Delete(ctx, p); err != nil {
		return err
	}
	if err := f.Deleted(ctx, r, []string{p}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
