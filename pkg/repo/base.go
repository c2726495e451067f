package repo

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/clientip"
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
	blobs  *blob.Store  // the store storage.blobStoreName names
	stores *blob.Stores // every store, to free what a write replaced
	// wrote is told of every stored write (the manager's soft quota check).
	wrote func(ctx context.Context, store string)
	authz Authorizer
	log   *slog.Logger
	// record is the manager's audit record.
	record func(ctx context.Context, domain, typ, subject string, attrs map[string]string)
	// downloads records the download times of served assets, and
	// downloadEvents their events (the manager's, shared by its
	// repositories).
	downloads      *downloads
	downloadEvents *downloadEvents
	// note explains a status beyond the repository's own (nil for none).
	note   func(Config) string
	routes *routingRules // the manager's
	frozen *readOnly     // the manager's
	meter  Meter         // the manager's
}

func (b *base) Name() string   { return b.cfg.Name }
func (b *base) Config() Config { return b.cfg }
func (b *base) Format() Format { return b.format }

// ContentAuthorizer is an Authorizer that also decides on content by
// path (auth.Service): content selector grants hold for the paths their
// expression selects. Without it, path checks are repository-wide.
type ContentAuthorizer interface {
	RequireContent(ctx context.Context, perm auth.Privilege, c auth.Content) error
}

// Authorize is the one decision on who may use a repository's content as
// a whole: AuthorizePath and AuthorizeFolder extend it to the grants that
// cover only some paths, and every route, listing and search asks one of
// them. Besides the caller's privileges, the format may refuse anonymous
// callers outright (Docker's forceBasicAuth), whatever the anonymous role
// holds.
func (b *base) Authorize(ctx context.Context, action string) error {
	if err := b.anonymousAllowed(ctx); err != nil {
		return err
	}
	return b.authz.Require(ctx, b.view(action))
}

// AuthorizePath is Authorize for the asset at p.
func (b *base) AuthorizePath(ctx context.Context, action, p string) error {
	return b.authorizeContent(ctx, action, auth.Content{Path: "/" + p, Coordinate: b.coordinates(p)})
}

// AuthorizeFolder is Authorize for something under the folder dir ("" is
// the root): whether a listing of dir may show anything, whether a folder
// may be shown.
func (b *base) AuthorizeFolder(ctx context.Context, action, dir string) error {
	if dir != "" && !strings.HasSuffix(dir, "/") {
		dir += "/"
	}
	return b.authorizeContent(ctx, action, auth.Content{Path: "/" + dir, Folder: true})
}

func (b *base) authorizeContent(ctx context.Context, action string, c auth.Content) error {
	if err := b.anonymousAllowed(ctx); err != nil {
		return err
	}
	ca, ok := b.authz.(ContentAuthorizer)
	if !ok {
		return b.authz.Require(ctx, b.view(action))
	}
	return ca.RequireContent(ctx, b.view(action), c)
}

func (b *base) view(action string) auth.Privilege {
	return auth.RepositoryView(b.cfg.Format, b.cfg.Name, action)
}

func (b *base) anonymousAllowed(ctx context.Context) error {
	if p := auth.PrincipalFrom(ctx); p != nil && p.Anonymous {
		if ap, ok := b.format.(AnonymousPolicy); ok && !ap.AllowsAnonymous(b.cfg) {
			return errs.New(errs.Unauthorized, "repository %s requires authentication", b.cfg.Name)
		}
	}
	return nil
}

// coordinates gives a content selector's coordinate.<name> of the asset at
// p from the component the format puts it in: group (groupId), name
// (artifactId) and version.
func (b *base) coordinates(p string) func(string) (string, bool) {
	var c *meta.Component
	done := false
	return func(name string) (string, bool) {
		if !done {
			c, done = b.format.Component(p), true
		}
		if c == nil {
			return "", false
		}
		switch name {
		case "group", "groupId":
			return c.Group, c.Group != ""
		case "name", "artifactId":
			return c.Name, true
		case "version":
			return c.Version, c.Version != ""
		}
		return "", false
	}
}

func (b *base) Status() Status {
	if !b.cfg.Online {
		return Status{Online: false, Reason: "offline"}
	}
	s := Status{Online: true}
	if b.note != nil {
		s.Reason = b.note(b.cfg)
	}
	return s
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

// writable is errFrozen while the server is read-only (see Writable).
func (b *base) writable() error { return b.frozen.refuseFrozen() }

// release frees the bytes of blobs whose last reference went away.
func (b *base) release(ctx context.Context, refs []meta.BlobRef) {
	releaseBlobs(ctx, b.db, b.stores, b.log, refs)
}

// releaseBlobs frees the bytes of blobs whose last reference went away,
// each in its own store; failures are logged (the start-up sweep retries
// them).
func releaseBlobs(ctx context.Context, db *meta.DB, stores *blob.Stores, log *slog.Logger, refs []meta.BlobRef) {
	for _, ref := range refs {
		s, ok := stores.Get(ref.Store)
		if !ok {
			log.Error("release blob: no such blob store", "store", ref.Store, "digest", ref.Digest)
			continue
		}
		err := s.Release(ctx, ref.Digest, func() (bool, error) { return db.ReleaseBlob(ref.Store, ref.Digest) })
		if err != nil {
			log.Error("release blob", "store", ref.Store, "digest", ref.Digest, "err", err)
		}
	}
}

// store writes body, of at most maxSize bytes (0: no bound), as the asset
// at p. The bound is the caller's: a client's upload is bounded by
// upload.max-size, what the server stores for itself (a proxy's cache, a
// group's merge) by bounds of its own.
func (b *base) store(ctx context.Context, p string, body io.Reader, opts PutOptions, check writeCheck, maxSize int64) (*meta.Asset, error) {
	if err := b.frozen.refuseFrozen(); err != nil {
		if opts.Tail != nil {
			opts.Tail.Fail(err) // its readers wait for the end of a write
		}
		return nil, err
	}
	if b.cfg.Storage.StrictContentTypeValidation {
		// Checked as the blob store reads: a refusal is the write's
		// failure, which followers of a proxy download hear of too.
		body = &typeChecked{r: body, declared: opts.ContentType}
	}
	rec := b.recorder(ctx, p, opts, check)
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
	released []meta.BlobRef
	// committed is the blob that record was called for; if recording failed its
	// bytes may have nothing referencing them.
	committed digest.Digest
}

func (b *base) recorder(ctx context.Context, p string, opts PutOptions, check writeCheck) *recorder {
	if opts.Uploader == "" && opts.UploaderIP == "" {
		// Whoever's request writes, for every format: the asset's
		// uploader, and the initiator of the write's events.
		if who := auth.PrincipalFrom(ctx); who != nil && !who.IsSystem() {
			opts.Uploader, opts.UploaderIP = who.UserID, clientip.FromContext(ctx)
		}
	}
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
		req.Asset.BlobStore = r.b.blobs.Name()
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
			r.b.release(ctx, []meta.BlobRef{{Store: r.b.blobs.Name(), Digest: r.committed}})
		}
		return nil, err
	}
	r.b.release(ctx, r.released)
	r.b.wrote(ctx, r.b.blobs.Name())
	return r.stored, nil
}

func (b *base) deletePath(ctx context.Context, p string) error {
	if err := b.frozen.refuseFrozen(); err != nil {
		return err
	}
	released, err := b.db.As(audit.Initiator(ctx)).DeleteAssetByPath(b.cfg.Name, p)
	if err != nil {
		return err
	}
	b.auditDelete(ctx, p)
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
