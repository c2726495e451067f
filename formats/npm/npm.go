// Package npm is the npm format: hosted, proxy and group repositories
// speaking the npm registry protocol (packuments, tarballs, publish,
// dist-tags, deprecate, unpublish, login and tokens, search, audit).
//
// Storage: the packument of a package is the asset at its name ("lodash",
// "@scope/name"), the full document as JSON without attachments; a
// tarball is at "<name>/-/<unscoped>-<version>.tgz". Stored packuments keep
// tarball URLs as they came; Rewrite points them at the repository the
// client addressed.
package npm

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/keylock"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Format is the npm format plugin.
type Format struct {
	security *auth.Service
	log      *slog.Logger
	// packages serializes the changes of one package (see lock).
	packages keylock.Map

	settings repo.SectionCache[settings]
}

var (
	_ repo.Format             = (*Format)(nil)
	_ repo.PathDecoder        = (*Format)(nil)
	_ repo.MetadataRewriter   = (*Format)(nil)
	_ repo.MaintainedMetadata = (*Format)(nil)
	_ repo.ContentTyper       = (*Format)(nil)
	_ repo.GroupMerger        = (*Format)(nil)
	_ repo.UpstreamRequester  = (*Format)(nil)
	_ repo.ContentChecksum    = (*Format)(nil)
	_ repo.ImmutableContent   = (*Format)(nil)
	_ repo.SignIn             = (*Format)(nil)
	_ repo.SearchTerms        = (*Format)(nil)
	_ repo.ErrorWriter        = (*Format)(nil)
)

// New returns the npm format; security authenticates logins and keeps
// tokens.
func New(security *auth.Service, log *slog.Logger) *Format {
	return &Format{security: security, log: log, settings: repo.SectionCache[settings]{Key: "npm"}}
}

// Name is "npm", as in Nexus's repository JSON, REST paths and privileges.
func (f *Format) Name() string { return "npm" }

// settings is the optional "npm" section of a repository's configuration.
type settings struct {
	// MergeProxiedVersions lets a group mix versions from proxy members
	// into a package that a hosted member has. Off by default: a name
	// published privately is served from hosted members only, so nobody
	// can shadow it with a higher version on a public registry
	// (dependency confusion).
	MergeProxiedVersions bool `json:"mergeProxiedVersions"`
}

// Validate checks the "npm" section: optional, and mergeProxiedVersions
// only means something for groups.
func (f *Format) Validate(cfg *repo.Config) error {
	var s settings
	if _, err := cfg.Section("npm", &s); err != nil {
		return &errs.FieldError{Field: "npm", Message: "malformed section: " + err.Error()}
	}
	if s.MergeProxiedVersions && cfg.Type != repo.Group {
		return &errs.FieldError{Field: "npm.mergeProxiedVersions", Message: "applies to group repositories only"}
	}
	if cfg.Type != repo.Group {
		return nil // kept as sent: Nexus's proxies carry fields of their own
	}
	return cfg.SetSection("npm", s)
}

// settingsOf returns the "npm" section of cfg.
func (f *Format) settingsOf(cfg repo.Config) settings { return f.settings.Of(cfg) }

// Checksums: sha1 is npm's shasum, sha512 its integrity.
func (f *Format) Checksums() []blob.Algorithm { return []blob.Algorithm{blob.SHA1, blob.SHA512} }

// IsMetadata is true for packuments only.
func (f *Format) IsMetadata(p string) bool {
	_, ok := packumentName(p)
	return ok
}

// Maintained is true for packuments: the server rewrites them on every
// publish, dist-tag change, deprecation and unpublish, whatever the write
// policy says of tarballs.
func (f *Format) Maintained(p string) bool { return f.IsMetadata(p) }

// ContentType types packuments as JSON and tarballs as gzip, whatever an
// upstream declares.
func (f *Format) ContentType(p string) string {
	if f.IsMetadata(p) {
		return "application/json"
	}
	if strings.HasSuffix(p, ".tgz") {
		return "application/octet-stream"
	}
	return ""
}

// Component of a tarball: group = scope without "@", name = unscoped name,
// version, as Nexus has them. Packuments belong to none.
func (f *Format) Component(p string) *meta.Component {
	r, err := parseRoute(p)
	if err != nil || r.kind != routeTarball || r.rev != "" {
		return nil
	}
	v, _ := fileVersion(r.name, r.rest)
	scope, bare := splitName(r.name)
	return &meta.Component{Group: scope, Name: bare, Version: v}
}

// Immutable is true for tarballs: a version is never published twice, so
// a cached tarball never needs asking the upstream again.
func (f *Format) Immutable(p string) bool {
	r, err := parseRoute(p)
	return err == nil && r.kind == routeTarball
}

// Rewrite points the tarball URLs of a packument at base, the repository
// the client addressed.
func (f *Format) Rewrite(_ context.Context, p string, body []byte, base *url.URL) ([]byte, error) {
	name, ok := packumentName(p)
	if !ok || base == nil {
		return body, nil
	}
	out, err := rewriteTarballs(body, base, name)
	if err != nil {
		// Only an upstream's document can be malformed: what is published
		// here is checked first.
		return nil, errs.Wrap(errs.Upstream, err, "the packument of %s is not a JSON object", name)
	}
	return out, nil
}
