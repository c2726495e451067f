package repo

import (
	"context"
	"io"
	"log/slog"
	"sort"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Authorizer decides whether the caller in ctx holds a privilege.
type Authorizer interface {
	Require(ctx context.Context, perm auth.Privilege) error
}

// base is what every repository type shares: configuration, format, store.
type base struct {
	cfg    Config
	format Format
	db     *meta.DB
	blobs  *blob.Store
	authz  Authorizer
	log    *slog.Logger
	// downloads records the download times of served assets (the
	// manager's, shared by its repositories).
	downloads *downloads
	routes    *routingRules // the manager's
	frozen    *readOnly     // the manager's
}

func (b *base) Name() string   { return b.cfg.Name }
func (b *base) Config() Config { return b.cfg }
func (b *base) Format() Format { return b.format }

// Authorize is the one decision on who may use a repository's content:
// every route, listing and search asks it. Besides the caller's
// privileges, the format may refuse anonymous callers outright (Docker's
// forceBasicAuth), whatever the anonymous role holds.
func (b *base) Authorize(ctx context.Context, action string) error {
	if p := auth.PrincipalFrom(ctx); p != nil && p.Anonymous {
		if ap, ok := b.format.(AnonymousPolicy); ok && !ap.AllowsAnonymous(b.cfg) {
			return errs.New(errs.Unauthorized, "repository %s requires authentication", b.cfg.Name)
		}
	}
	return b.authz.Require(ctx, auth.RepositoryView(b.cfg.Format, b.cfg.Name, action))
}

func (b *base) Status() Status {
	if !b.cfg.Online {
		return Status{Online: false, Reason: "offline"}
	}
	return Status{Online: true}
}

func (b *base) online() error {
	if !b.cfg.Online {
		return errs.New(errs.NotFound, "repository %s is offline", b.cfg.Name)
	}
	return nil
}

func (b *base) Stat(ctx context.Context, p string) (*meta.Asset, error) {
	return b.db.AssetByPath(b.cfg.Name, p)
}

func (b *base) Walk(ctx context.Context, prefix string, fn func(*meta.Asset) error) error {
	after := ""
	for {
		assets, next, err := b.db.ListAssets(b.cfg.Name, prefix, after, 500)
		if err != nil {
			return err
		}
		for _, a := range assets {
			if err := fn(a); err != nil {
				return err
			}
		}
		if next == "" {
			return ctx.Err()
		}
		after = next
	}
}

func (b *base) Folders(ctx context.Context, prefix string, fn func(string) error) error {
	after := ""
	for {
		folders, next, err := b.db.Folders(b.cfg.Name, prefix, after, 500)
		if err != nil {
			return err
		}
		for _, f := range folders {
			if err := fn(f); err != nil {
				return err
			}
		}
		if next == "" {
			return ctx.Err()
		}
		after = next
	}
}

// open returns the stored content of an asset.
func (b *base) open(ctx context.Context, a *meta.Asset) (*Content, error) {
	body, err := b.blobs.Open(ctx, a.Blob)
	if err != nil {
		return nil, err
	}
	return &Content{Asset: a, Body: body, Downloaded: b.downloaded(a)}, nil
}

// cached returns the asset at p with its bytes, or errs.NotFound.
func (b *base) cached(ctx context.Context, p string) (*Content, error) {
	a, err := b.db.AssetByPath(b.cfg.Name, p)
	if err != nil {
		return nil, err
	}
	return b.open(ctx, a)
}

// writeCheck is a write policy's decision on a write to path, given the
// asset there (nil if none); it runs again inside the metadata transaction.
type writeCheck func(path string, existing *meta.Asset) error

// identicalAllowed lets a write of the same blob through check when allowed.
func identicalAllowed(check writeCheck, path string, allowed bool, d digest.Digest) func(*meta.Asset) error {
	if check == nil {
		return nil
	}
	return func(existing *meta.Asset) error {
		if allowed && existing != nil && existing.Blob == d {
			return check(path, nil) // judged as a new write: deny still refuses
		}
		return check(path, existing)
	}
}

// both runs check a, then b (either may be nil).
func both(a, b func(*meta.Asset) error) func(*meta.Asset) error {
	if a == nil {
		return b
	}
	return func(existing *meta.Asset) error {
		if err := a(existing); err != nil {
			return err
		}
		return b(existing)
	}
}

// release frees the bytes of blobs whose last reference went away.
func (b *base) release(ctx context.Context, digests []digest.Digest) {
	releaseBlobs(ctx, b.db, b.blobs, b.log, digests)
}

// releaseBlobs frees the bytes of blobs whose last reference went away;
// failures are logged (the start-up sweep retries them).
func releaseBlobs(ctx context.Context, db *meta.DB, blobs *blob.Store, log *slog.Logger, digests []digest.Digest) {
	for _, d := range digests {
		err := blobs.Release(ctx, d, func() (bool, error) { return db.ReleaseBlob(d) })
		if err != nil {
			log.Error("release blob", "digest", d, "err", err)
		}
	}
}

// store writes body, of at most maxSize bytes (0: no bound), as the asset
// at p. The bound is the caller's: a client's upload is bounded by
// upload.max-size, what the server stores for itself (a proxy's cache, a
// group's merge) by bounds of its own.
func (b *base) store(ctx context.Context, p string, body io.Reader, opts PutOptions, check writeCheck, maxSize int64) (*meta.Asset, error) {
	if err := b.frozen.refuseFrozen(); err != nil {
		return nil, err
	}
	if b.cfg.Storage.StrictContentTypeValidation {
		// Checked as the blob store reads: a refusal is the write's
		// failure, which followers of a proxy download hear of too.
		body = &typeChecked{r: body, declared: opts.ContentType}
	}
	rec := b.recorder(p, opts, check)
	_, err := b.blobs.Put(ctx, body, blob.PutOptions{
		Algorithms:   b.format.Checksums(),
		Expected:     opts.Expected,
		ExpectedSize: opts.Size,
		MaxSize:      maxSize,
		Tail:         opts.Tail,
		Verify:       opts.Verify,
	}, rec.record)
	return rec.finish(ctx, err)
}

// recorder turns a committed blob into the assets at a path and its
// aliases; its record method runs under the blob store's digest lock.
type recorder struct {
	b        *base
	reqs     []meta.PutAssetRequest // the path's first, then the aliases'
	check    writeCheck
	cas      func(*meta.Asset) error // the caller's check of the path
	identic  bool
	stored   *meta.Asset
	released []digest.Digest
	// committed is the blob that record was called for; if recording failed its
	// bytes may have nothing referencing them.
	committed digest.Digest
}

func (b *base) recorder(p string, opts PutOptions, check writeCheck) *recorder {
	rec := &recorder{b: b, check: check, cas: opts.Check, identic: opts.AllowIdentical}
	add := func(p string, attrs map[string]string, comp *meta.Component) {
		if comp == nil {
			comp = b.format.Component(p)
		}
		if comp != nil {
			comp.Repository = b.cfg.Name
			comp.Format = b.cfg.Format
		}
		rec.reqs = append(rec.reqs, meta.PutAssetRequest{
			Asset: meta.Asset{
				Repository:  b.cfg.Name,
				Path:        p,
				ContentType: opts.ContentType,
				Uploader:    opts.Uploader,
				UploaderIP:  opts.UploaderIP,
				Attributes:  attrs,
				// A proxy's download counts as its first verification.
				LastVerified: opts.LastVerified,
			},
			Component:         comp,
			RequireRepository: true,
		})
	}
	add(p, opts.Attributes, opts.Component)
	for _, al := range opts.Aliases {
		add(al.Path, al.Attributes, nil)
	}
	return rec
}

func (r *recorder) record(info blob.Info) error {
	r.committed = info.Digest
	// Again at the commit: the server may have been frozen while the
	// bytes were read.
	if err := r.b.frozen.refuseFrozen(); err != nil {
		return err
	}
	reqs := make([]meta.PutAssetRequest, len(r.reqs))
	for i, req := range r.reqs {
		req.Asset.Blob = info.Digest
		req.Asset.Size = info.Size
		req.Asset.Checksums = make(map[string]string, len(info.Checksums))
		for alg, v := range info.Checksums {
			req.Asset.Checksums[string(alg)] = v
		}
		req.Check = identicalAllowed(r.check, req.Asset.Path, r.identic, info.Digest)
		if i == 0 && r.cas != nil {
			req.Check = both(req.Check, r.cas)
		}
		reqs[i] = req
	}
	stored, released, err := r.b.db.PutAssets(reqs)
	if err != nil {
		return err
	}
	r.stored, r.released = stored[0], released
	return nil
}

// finish releases blobs the write replaced and returns the stored asset.
// When the write was refused after its bytes were committed (the write
// policy's check in the transaction), those bytes are released too: Release
// frees them only if nothing references them.
func (r *recorder) finish(ctx context.Context, err error) (*meta.Asset, error) {
	if err != nil {
		if r.committed != "" {
			r.b.release(ctx, []digest.Digest{r.committed})
		}
		return nil, err
	}
	r.b.release(ctx, r.released)
	return r.stored, nil
}

func (b *base) deletePath(ctx context.Context, p string) error {
	if err := b.frozen.refuseFrozen(); err != nil {
		return err
	}
	released, err := b.db.DeleteAssetByPath(b.cfg.Name, p)
	if err != nil {
		return err
	}
	b.release(ctx, released)
	return nil
}

// listStored returns a page of the children of dir among the
// repository's assets (see Repository.List).
func (b *base) listStored(dir, after string, limit int) ([]Entry, string, error) {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	children, next, err := b.db.ListChildren(b.cfg.Name, prefix, after, limit)
	if err != nil {
		return nil, "", err
	}
	entries := make([]Entry, len(children))
	for i, c := range children {
		entries[i] = Entry{Name: c.Name, Path: prefix + c.Name, Dir: c.Dir, Asset: c.Asset}
	}
	return entries, next, nil
}

// mergePages joins pages of listings that started after the same child (a
// group's members'), first occurrence of a name winning, into the page of
// limit that follows. A page ends at its last child, so the merge is
// complete up to the earliest end of a page that has more: the first limit
// merged entries, since a full page holds limit entries up to its end.
func mergePages(pages [][]Entry, more bool, limit int) ([]Entry, string) {
	seen := map[string]bool{}
	var out []Entry
	for _, l := range pages {
		for _, e := range l {
			if k := e.SortKey(); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].SortKey() < out[j].SortKey() })
	if len(out) > limit {
		out, more = out[:limit], true
	}
	if !more || len(out) == 0 {
		return out, ""
	}
	return out, out[len(out)-1].SortKey()
}

type maxSizeKey struct{}

// WithMaxUploadSize bounds the size of writes made with ctx.
func WithMaxUploadSize(ctx context.Context, n int64) context.Context {
	return context.WithValue(ctx, maxSizeKey{}, n)
}

// MaxUploadSize is the bound WithMaxUploadSize put on writes made with
// ctx, 0 for none: formats that read a body into memory (an npm publish)
// bound it by this too.
func MaxUploadSize(ctx context.Context) int64 {
	n, _ := ctx.Value(maxSizeKey{}).(int64)
	return n
}
