// Package repo is the repository engine: the hosted, proxy and group types,
// the Format hooks that format plugins implement, and the Manager that
// creates, updates and deletes repositories at runtime. It parses no wire
// protocol: formats do that and call the engine.
package repo

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Format is a repository format plugin (raw, docker, maven, npm).
type Format interface {
	// Name is the format's name in configuration and privileges ("raw").
	Name() string
	// Validate checks and defaults the format's own sections of cfg.
	Validate(cfg *Config) error
	// Checksums lists the algorithms the format's clients ask for; they are
	// computed while content is written (sha256 always is).
	Checksums() []blob.Algorithm
	// IsMetadata reports whether path is mutable metadata, revalidated by
	// proxies after metadataMaxAge, rather than content, kept for
	// contentMaxAge.
	IsMetadata(path string) bool
	// Component returns the component an asset at path belongs to, or nil.
	// Repository and ID are filled in by the engine.
	Component(path string) *meta.Component
	// ServeHTTP handles a request for path (already cleaned, see CleanPath)
	// under /repository/<name>/ of r.
	ServeHTTP(w http.ResponseWriter, req *http.Request, r Repository, path string)
}

// APINamed is implemented by formats that the REST API's paths name other
// than their configurations and privileges do, as in Nexus: repositories
// created at /v1/repositories/maven/hosted are of format maven2.
type APINamed interface {
	APIName() string
}

// APIName is f's name in the REST API's paths.
func APIName(f Format) string {
	if n, ok := f.(APINamed); ok {
		return n.APIName()
	}
	return f.Name()
}

// DefaultRepositories is implemented by formats whose repositories a first
// start creates, as Nexus's does (maven-releases, maven-snapshots and the
// maven-public group): members before the groups that hold them.
type DefaultRepositories interface {
	DefaultRepositories() []Config
}

// GroupMerger is implemented by formats whose group metadata is the merge of
// the members' metadata (maven-metadata.xml, npm packuments). Merge is called
// for metadata paths of group g with the content of every member that has
// path, in g's member order; each content's Asset.Repository names its
// member (see GroupMembers for their types), and g's configuration may
// hold the format's merge settings.
type GroupMerger interface {
	Merge(ctx context.Context, g Repository, path string, members []*Content) (*Content, error)
}

// MaintainedMetadata is implemented by formats with metadata the server
// itself rewrites after every change (maven-metadata.xml). The write policy
// governs content: allow_once lets such paths be rewritten (deny does not).
// Metadata a client writes and the policy protects (Docker tags) is not
// maintained.
type MaintainedMetadata interface {
	Maintained(path string) bool
}

// LatestTag is implemented by formats with a "latest" that moves (Docker's
// latest tag): with storage.latestPolicy, an allow_once repository lets
// the paths Latest reports be redeployed, while the rest stays write-once.
type LatestTag interface {
	Latest(path string) bool
}

// RedeploysLatest reports whether cfg's write policy lets path, a "latest"
// of format f, be redeployed (see LatestTag).
func RedeploysLatest(f Format, cfg Config, path string) bool {
	lt, ok := f.(LatestTag)
	return ok && cfg.Storage.LatestPolicy != nil && *cfg.Storage.LatestPolicy &&
		cfg.Storage.WritePolicy == WriteAllowOnce && lt.Latest(path)
}

// ErrorWriter is implemented by formats whose clients read errors in a
// shape of their own (Docker's and npm's JSON): the server answers with it
// what it refuses before the format's handler runs (a path CleanPath
// refuses, a write to a folder), as the handler itself would.
type ErrorWriter interface {
	WriteError(w http.ResponseWriter, req *http.Request, err error)
}

// SignIn is implemented by formats whose clients sign in with a request
// that carries the credentials in its body (npm login's PUT of
// -/user/org.couchdb.user:<name>). Such a request reaches the format
// without a principal, before any visibility check or refusal of its
// body; the format authenticates it before doing anything else, and
// answers nothing but the sign-in.
type SignIn interface {
	SignsIn(method, path string) bool
}

// Connector is implemented by formats that serve a repository at the root
// of its own port (Docker's /v2/), besides the main port.
type Connector interface {
	// Handler serves r at the root of its connector port. The server has
	// resolved the caller and applied the main port's limits first.
	Handler(r Repository) http.Handler
	// Ports returns the HTTP and HTTPS connector ports cfg asks for; 0 is none.
	Ports(cfg Config) (httpPort, httpsPort int)
}

// The upstream hooks, each optional and of one method, are implemented by
// formats whose proxies speak to their upstream in a way of their own
// (Docker maps names, asks for every manifest type, authenticates with
// tokens, names content by digest and revalidates tags with HEAD; npm only
// asks for full packuments).

// UpstreamRequester adjusts req, made for path, before it is sent.
type UpstreamRequester interface {
	UpstreamRequest(cfg Config, path string, req *http.Request) error
}

// UpstreamTransporter wraps the transport every upstream request goes
// through.
type UpstreamTransporter interface {
	UpstreamTransport(cfg Config, base http.RoundTripper) http.RoundTripper
}

// ExpectedDigester names the digest content at path must have, or "" when
// the path names none; content that does not match is never cached.
type ExpectedDigester interface {
	ExpectedDigest(path string) digest.Digest
}

// UpstreamSizer bounds the content at path, or answers 0 for no bound of
// the format's own; larger content is refused and never cached.
type UpstreamSizer interface {
	MaxSize(path string) int64
}

// HeadRevalidator tells from the upstream's answer to a HEAD of path
// whether the stale cached asset is still what the upstream serves. known
// is false when the answer does not tell; then a GET decides.
type HeadRevalidator interface {
	Current(resp *http.Response, cached *meta.Asset) (current, known bool)
}

// ImmutableContent is implemented by formats whose content at some paths
// never changes once published (npm tarballs: a version is never
// published twice): a proxy never revalidates it, whatever contentMaxAge
// says, so a cached version installs without asking the upstream.
type ImmutableContent interface {
	Immutable(path string) bool
}

// ContentChecksum is implemented by formats whose metadata names the
// checksum of the content it lists (npm's dist.integrity): a proxy checks
// a download against it before caching, and caches nothing if they
// differ. sum is lowercase hex of alg, one of the format's Checksums; ok
// is false when nothing is known of path.
type ContentChecksum interface {
	ExpectedChecksum(ctx context.Context, r Repository, path string) (alg blob.Algorithm, sum string, ok bool)
}

// UpstreamFallback is implemented by formats whose upstreams may lack an
// endpoint whose answer the format can build from other paths instead
// (Docker: the referrers API, and the referrers tag schema in its place).
type UpstreamFallback interface {
	// Lacks tells from the upstream's answer to a GET of path, by its
	// status and headers, that the upstream has no such endpoint. That
	// answer is then no error and no missing path: it is not remembered in
	// the negative cache, and Fallback builds what is cached at path.
	Lacks(path string, resp *http.Response) bool
	// Fallback builds the content of path from other paths, which it
	// reads with get: through the proxy's cache (they are cached too) but
	// never answered from its negative cache. The result is cached at path
	// as metadata or content, as IsMetadata says, like an upstream answer.
	Fallback(ctx context.Context, path string, get func(ctx context.Context, path string) (*Content, error)) (body []byte, contentType string, err error)
}

// ComponentHooks is implemented by formats whose components reach beyond
// their own assets (a Docker tag names a manifest, which names layers).
type ComponentHooks interface {
	// ComponentAssets returns the assets a component shows: own, the
	// component's own assets, plus what they reference.
	ComponentAssets(ctx context.Context, r Repository, own []*meta.Asset) ([]*meta.Asset, error)
	// DeleteComponent deletes a component the way the format's own
	// protocol would, freeing what nothing references any more.
	DeleteComponent(ctx context.Context, r Repository, own []*meta.Asset) error
}

// DeleteObserver is implemented by formats that keep something up to date
// with what is stored (Maven's maven-metadata.xml): the REST API's deletes
// of assets and components, which bypass the format's own protocol, tell
// it which paths of r they deleted.
type DeleteObserver interface {
	Deleted(ctx context.Context, r Repository, paths []string) error
}

// SearchTerms is implemented by formats with search parameters of their
// own, as Nexus's maven.groupId or maven.extension.
type SearchTerms interface {
	SearchTerms() []SearchTerm
}

// SearchTerm is one search parameter of a format: it matches a component
// field, values taken from an asset or from the format's metadata, or it
// stands for other terms.
type SearchTerm struct {
	Param string
	// Component is the component field the parameter matches: "group",
	// "name" or "version"; empty for the other kinds.
	Component string
	// Asset is, for an asset term, the parameter's values for an asset:
	// the term matches an asset if it matches any of them.
	Asset func(a *meta.Asset) []string
	// Metadata is, for a term on what the format's metadata says of a
	// component (npm: the package.json and dist-tags in the packument),
	// the lookup of its values for the components of one repository; the
	// term matches a component if it matches any of them. A search makes
	// one lookup per repository and term, so the lookup may keep what it
	// reads for that search: the answer follows the metadata as it is
	// when the search runs. stored reads what the repository stores at a
	// path (see ReadStored), nil where nothing is.
	Metadata func(stored func(path string) ([]byte, error)) func(c *meta.Component) ([]string, error)
	// Text marks free-text values (a description, keywords): the pattern
	// matches a whole value or one of its words, ignoring case.
	Text bool
	// Negate makes an asset or metadata term match where none of the
	// values match (npm.tagged_not).
	Negate bool
	// Expand is, for a term that stands for others (Maven's gavec), the
	// values of those terms that its value gives; an error refuses the
	// value.
	Expand func(value string) (map[string]string, error)
}

// ReadStored returns the metadata stored at path of r as it is stored:
// never asking an upstream or a member (a group stores nothing), nor
// rewritten; errs.NotFound if there is none. It is for what the server
// reads of metadata for itself (searches), not for serving it.
func ReadStored(ctx context.Context, r Repository, path string) ([]byte, error) {
	s, ok := r.(interface {
		cached(ctx context.Context, p string) (*Content, error)
	})
	if !ok {
		return nil, errs.New(errs.NotFound, "%s stores nothing", r.Name())
	}
	c, err := s.cached(ctx, path)
	if err != nil {
		return nil, err
	}
	defer c.Body.Close()
	return readMetadata(c)
}

// GroupMembers is implemented by group repositories.
type GroupMembers interface {
	// Members returns the members in order.
	Members() []Repository
	// WritableMember returns the member that takes uploads sent to the
	// group, or nil.
	WritableMember() Repository
}

// Maintainer is implemented by formats with periodic housekeeping for a
// repository (Docker: unreferenced layer links); the repository.docker.gc
// task runs it.
type Maintainer interface {
	Maintain(ctx context.Context, r Repository) error
}

// Content is what a repository returns for a path. Body is an
// io.ReadSeekCloser when the bytes come from the store, so they can be
// served with ranges; a first proxy download streams instead.
type Content struct {
	Asset *meta.Asset
	Body  io.ReadCloser
	// Downloaded, set by the engine on content it serves from an asset,
	// records that the asset was served to the context's caller (its
	// LastDownloaded, a download event): serve.Content calls it for a GET
	// it answers 200 or 206.
	Downloaded func(context.Context)
}

// BytesBody is a Content body of bytes in memory (built or merged
// metadata), with ranges.
func BytesBody(b []byte) io.ReadSeekCloser { return bytesBody{bytes.NewReader(b)} }

type bytesBody struct{ *bytes.Reader }

func (bytesBody) Close() error { return nil }

// Entry is one child of a folder, for browsing. A folder's Name has no
// trailing slash and it has no Asset.
type Entry struct {
	Name  string
	Path  string
	Dir   bool
	Asset *meta.Asset
}

// SortKey is the entry's place in a listing and the token that resumes a
// listing after it: its name, and a trailing slash for a folder (a folder
// sorts where its paths do, so "a.txt" comes before the folder "a/").
func (e Entry) SortKey() string { return meta.Child{Name: e.Name, Dir: e.Dir}.SortKey() }

// PutOptions describe a write.
type PutOptions struct {
	ContentType string
	// Component is the component the asset belongs to, if the format has one.
	Component *meta.Component
	// Size is the announced length, or -1.
	Size       int64
	Uploader   string
	UploaderIP string
	Attributes map[string]string
	// LastVerified is set by proxies: when the upstream confirmed the content.
	LastVerified time.Time
	// Expected, when set, is the digest the bytes must have; a mismatch
	// stores nothing.
	Expected digest.Digest
	// AllowIdentical lets an allow_once repository accept a rewrite with
	// the very same bytes (content-addressed paths, re-pushed Docker tags).
	AllowIdentical bool
	// Aliases are more paths the same bytes are stored at, in the metadata
	// transaction of the path itself: all are written or none (a Docker
	// manifest and its tags). Each is subject to the write policy and
	// belongs to the component the format gives its path.
	Aliases []Alias
	// Tail, if set, lets readers follow the write as it happens (proxy
	// downloads: see blob.Tail).
	Tail *blob.Tail
	// Verify, if set, is a last check of the bytes by their checksums
	// before they are committed (see blob.PutOptions.Verify).
	Verify func(blob.Info) error
	// Check, if set, runs inside the metadata transaction with the asset
	// at the path (nil if none), after the write policy: its error aborts
	// the write, which stores nothing, and is returned as it is. It makes
	// a read-modify-write (an npm packument) a compare-and-swap.
	Check func(existing *meta.Asset) error
}

// Alias is one more path a write stores its bytes at, with attributes of
// its own.
type Alias struct {
	Path       string
	Attributes map[string]string
}

// Repository is a configured repository of any type.
type Repository interface {
	Name() string
	Config() Config
	Format() Format
	// Get returns the content at path, or errs.NotFound.
	Get(ctx context.Context, path string) (*Content, error)
	// Stat returns the asset stored at path without its bytes, or
	// errs.NotFound; it never asks an upstream or a member.
	Stat(ctx context.Context, path string) (*meta.Asset, error)
	// Locate returns the asset Get would serve at path, without opening
	// its bytes where they are stored (a group's member, a proxy's fresh
	// cache): for callers that need only what is known of it (checksums).
	// What Get would fetch or merge, Locate fetches or merges too; an
	// asset just downloaded may lack its checksums.
	Locate(ctx context.Context, path string) (*meta.Asset, error)
	// Put stores body at path, subject to the write policy.
	Put(ctx context.Context, path string, body io.Reader, opts PutOptions) (*meta.Asset, error)
	// Delete removes the asset at path.
	Delete(ctx context.Context, path string) error
	// List returns up to limit children of folder dir ("" is the root),
	// in SortKey order (plain name order, folders and assets mixed),
	// starting after the child whose SortKey is after ("" from the
	// start). next is the after of the following page, "" at the end;
	// limit <= 0 is meta.DefaultPageSize. A page costs O(limit), however
	// much the folders below hold (a group's, O(members × limit)). A
	// missing folder is errs.NotFound.
	List(ctx context.Context, dir, after string, limit int) (entries []Entry, next string, err error)
	// Walk calls fn for each asset stored in this repository (a group
	// stores none) whose path starts with prefix, in path order.
	Walk(ctx context.Context, prefix string, fn func(*meta.Asset) error) error
	// Folders calls fn for each folder whose name starts with prefix and
	// that directly holds assets stored in this repository, in order,
	// without visiting the assets (meta's folder index).
	Folders(ctx context.Context, prefix string, fn func(folder string) error) error
	// Authorize checks that the caller in ctx may perform action (browse,
	// read, edit, add, delete) on this repository as a whole.
	Authorize(ctx context.Context, action string) error
	// AuthorizePath checks action on the asset at path: a content
	// selector grant may allow it where Authorize does not.
	AuthorizePath(ctx context.Context, action, path string) error
	// AuthorizeFolder checks action on something under the folder dir
	// ("" is the root): what a listing of dir may show, whether the
	// caller may know of the folder.
	AuthorizeFolder(ctx context.Context, action, dir string) error
	// Status reports the repository's health (proxy blocking).
	Status() Status
}

// Status is a repository's runtime state.
type Status struct {
	Online bool   `json:"online"`
	Reason string `json:"reason,omitempty"`
	// Blocked is set while a proxy does not call its upstream (configured,
	// or auto-blocked after failures).
	Blocked bool `json:"blocked"`
	// AutoBlocked is set while Blocked is for upstream failures, not by
	// configuration: what health checks and alerts care about. Nexus's
	// status has no such field, so the REST API does not show it.
	AutoBlocked bool `json:"-"`
	// RateLimitRemaining is the upstream's last RateLimit-Remaining header.
	RateLimitRemaining string `json:"rateLimitRemaining,omitempty"`
}

type baseURLKey struct{}

// WithBaseURL records the URL of the repository the client addressed, which
// MetadataRewriter hooks point rewritten locations at (nil for none).
func WithBaseURL(ctx context.Context, u *url.URL) context.Context {
	return context.WithValue(ctx, baseURLKey{}, u)
}

// BaseURL returns the URL recorded by WithBaseURL, or nil.
func BaseURL(ctx context.Context) *url.URL {
	u, _ := ctx.Value(baseURLKey{}).(*url.URL)
	return u
}
