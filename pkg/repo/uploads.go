package repo

import (
	"context"
	"io"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Uploader is implemented by hosted repositories: resumable uploads whose
// bytes become an asset when committed (Docker's chunked blob uploads), and
// links to blobs the store already has (Docker's cross-repository mounts).
type Uploader interface {
	// NewUpload starts an upload and returns its id.
	NewUpload(ctx context.Context) (string, error)
	// UploadSize returns how many bytes the upload has received.
	UploadSize(ctx context.Context, id string) (int64, error)
	// AppendUpload appends r at offset, which must be the current size.
	AppendUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error)
	// CancelUpload discards an upload.
	CancelUpload(ctx context.Context, id string) error
	// CommitUpload verifies the upload against expected and stores it as
	// the asset at path.
	CommitUpload(ctx context.Context, path, id string, expected digest.Digest, opts PutOptions) (*meta.Asset, error)
	// Link stores the asset at path for blob d (a sha256 digest) that the
	// server already holds: in the repository's store, or copied into it
	// from another.
	Link(ctx context.Context, path string, d digest.Digest, opts PutOptions) (*meta.Asset, error)
}

var _ Uploader = (*hostedRepo)(nil)

func (h *hostedRepo) NewUpload(ctx context.Context) (string, error) {
	if err := h.online(); err != nil {
		return "", err
	}
	return h.blobs.NewUpload(ctx)
}

func (h *hostedRepo) UploadSize(ctx context.Context, id string) (int64, error) {
	return h.blobs.UploadSize(ctx, id)
}

func (h *hostedRepo) AppendUpload(ctx context.Context, id string, offset int64, r io.Reader) (int64, error) {
	return h.blobs.AppendUpload(ctx, id, offset, r, MaxUploadSize(ctx))
}

func (h *hostedRepo) CancelUpload(ctx context.Context, id string) error {
	return h.blobs.CancelUpload(ctx, id)
}

func (h *hostedRepo) CommitUpload(ctx context.Context, p, id string, expected digest.Digest, opts PutOptions) (*meta.Asset, error) {
	check, err := h.precheck(p, opts)
	if err != nil {
		return nil, err
	}
	rec := h.recorder(ctx, p, opts, check)
	_, err = h.blobs.CommitUpload(ctx, id, expected, h.format.Checksums(), rec.record)
	return rec.finish(ctx, err)
}

func (h *hostedRepo) Link(ctx context.Context, p string, d digest.Digest, opts PutOptions) (*meta.Asset, error) {
	check, err := h.precheck(p, opts)
	if err != nil {
		return nil, err
	}
	rec := h.recorder(ctx, p, opts, check)
	if _, serr := h.blobs.Stat(ctx, d); errs.KindOf(serr) == errs.NotFound {
		// Held by a repository in another store: this one gets its own copy.
		return rec.finish(ctx, h.copyIn(ctx, d, rec))
	}
	_, err = h.blobs.Ref(ctx, d, rec.record)
	return rec.finish(ctx, err)
}

// copyIn writes blob d, which another store holds, into the repository's
// store, recording it with rec.
func (h *hostedRepo) copyIn(ctx context.Context, d digest.Digest, rec *recorder) error {
	for _, st := range h.stores.List() {
		if st == h.blobs {
			continue
		}
		body, err := st.Open(ctx, d)
		if err != nil {
			continue
		}
		defer body.Close()
		_, err = h.blobs.Put(ctx, body, blob.PutOptions{Algorithms: h.format.Checksums(), Expected: d, ExpectedSize: -1}, rec.record)
		return err
	}
	return errs.New(errs.NotFound, "blob %s not found", d)
}
