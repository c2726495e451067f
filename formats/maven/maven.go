package maven

import (
	"errors"
	"log/slog"
	"path"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/keylock"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Format is the Maven 2 format plugin.
type Format struct {
	log  *slog.Logger
	opts Options
	// artifacts serializes the rebuilds of one artifact's metadata in one
	// repository, so that concurrent deploys cannot write a listing that
	// misses the other's version.
	artifacts keylock.Map

	settings repo.SectionCache[settings]
}

// Options configure the format.
type Options struct {
	// CentralURL, when set, is the remote of the maven-central proxy a
	// first start creates and puts in maven-public.
	CentralURL string
}

var (
	_ repo.Format              = (*Format)(nil)
	_ repo.APINamed            = (*Format)(nil)
	_ repo.MaintainedMetadata  = (*Format)(nil)
	_ repo.ContentTyper        = (*Format)(nil)
	_ repo.GroupMerger         = (*Format)(nil)
	_ repo.UpstreamChecksums   = (*Format)(nil)
	_ repo.DefaultRepositories = (*Format)(nil)
	_ repo.DeleteObserver      = (*Format)(nil)
	_ repo.SearchTerms         = (*Format)(nil)
)

// New returns the Maven format.
func New(log *slog.Logger, opts Options) *Format {
	return &Format{log: log, opts: opts, settings: repo.SectionCache[settings]{Key: "maven"}}
}

// Name is "maven2", as in Nexus's repository JSON and privileges.
func (f *Format) Name() string { return "maven2" }

// APIName is "maven", as in Nexus's REST paths (/v1/repositories/maven/hosted).
func (f *Format) APIName() string { return "maven" }

// Version, layout and download policies.
const (
	policyRelease    = "RELEASE"
	policySnapshot   = "SNAPSHOT"
	policyMixed      = "MIXED"
	layoutStrict     = "STRICT"
	layoutPermissive = "PERMISSIVE"
)

// settings is the "maven" section of a Maven repository's configuration.
type settings struct {
	VersionPolicy string `json:"versionPolicy"`
	LayoutPolicy  string `json:"layoutPolicy"`
	// ContentDisposition is kept only when set ("" serves inline): Nexus
	// returns what it was sent, and clients compare (go-nexus-client).
	ContentDisposition string `json:"contentDisposition,omitempty"`
}

// Validate checks and defaults the "maven" section as Nexus does: a release
// repository with a strict layout (served inline unless set otherwise).
func (f *Format) Validate(cfg *repo.Config) error {
	s := settings{}
	if _, err := cfg.Section("maven", &s); err != nil {
		return &errs.FieldError{Field: "maven", Message: "malformed section: " + err.Error()}
	}
	for _, v := range []struct {
		field string
		value *string
		def   string
		allow []string
	}{
		{"maven.versionPolicy", &s.VersionPolicy, policyRelease, []string{policyRelease, policySnapshot, policyMixed}},
		{"maven.layoutPolicy", &s.LayoutPolicy, layoutStrict, []string{layoutStrict, layoutPermissive}},
		{"maven.contentDisposition", &s.ContentDisposition, "", []string{"", "INLINE", "ATTACHMENT"}},
	} {
		*v.value = strings.ToUpper(*v.value)
		if *v.value == "" {
			*v.value = v.def
		}
		ok := false
		for _, a := range v.allow {
			ok = ok || *v.value == a
		}
		if !ok {
			return &errs.FieldError{Field: v.field, Message: "must be one of " + strings.Join(v.allow, ", ")}
		}
	}
	return cfg.SetSection("maven", s)
}

// settingsOf returns r's validated "maven" section.
func (f *Format) settingsOf(r repo.Repository) settings { return f.settings.Of(r.Config()) }

// Checksums are the four Maven clients ask for beside every file.
func (f *Format) Checksums() []blob.Algorithm { return ChecksumAlgorithms }

// IsMetadata is true for maven-metadata.xml (and its checksums), which
// proxies revalidate and groups merge.
func (f *Format) IsMetadata(p string) bool { return IsMetadataPath(p) }

// Maintained is true for maven-metadata.xml: the server rewrites it after
// every deploy and delete, whatever the write policy says of content.
func (f *Format) Maintained(p string) bool { return IsMetadataPath(p) }

// ContentType types Maven files by extension, whatever an upstream or a
// client declares.
func (f *Format) ContentType(p string) string {
	name := path.Base(p)
	if base, _, ok := SplitChecksum(p); ok && base != "" {
		return "text/plain"
	}
	switch {
	case strings.HasSuffix(name, ".asc"):
		return "text/plain"
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return "application/x-gzip"
	}
	switch path.Ext(name) {
	case ".pom", ".xml":
		return "application/xml"
	case ".jar", ".war", ".ear", ".aar", ".rar":
		return "application/java-archive"
	case ".module", ".json":
		return "application/json"
	case ".zip":
		return "application/zip"
	}
	return ""
}

// Component makes each GAV a component: group = groupId, name =
// artifactId, version = baseVersion. Metadata and paths outside the
// layout belong to none.
func (f *Format) Component(p string) *meta.Component {
	if _, _, ok := SplitChecksum(p); ok {
		return nil
	}
	c, err := ParseArtifact(p)
	if err != nil {
		return nil
	}
	return &meta.Component{Group: c.GroupID, Name: c.ArtifactID, Version: c.BaseVersion}
}

// ChecksumFile is the upstream's .sha1 beside an artifact, which proxies
// check downloads against.
func (f *Format) ChecksumFile(p string) (string, blob.Algorithm, bool) {
	if _, _, ok := SplitChecksum(p); ok || IsMetadataPath(p) {
		return "", "", false
	}
	return p + ".sha1", blob.SHA1, true
}

// DefaultRepositories are Nexus's: maven-releases, maven-snapshots, a
// maven-central proxy when its URL is configured, and the maven-public
// group of them.
func (f *Format) DefaultRepositories() []repo.Config {
	hosted := func(name, policy, write string) repo.Config {
		cfg := repo.Config{Name: name, Format: f.Name(), Type: repo.Hosted, Online: true,
			Storage: repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true, WritePolicy: write}}
		cfg.SetSection("maven", settings{VersionPolicy: policy, LayoutPolicy: layoutStrict, ContentDisposition: "INLINE"})
		return cfg
	}
	out := []repo.Config{
		hosted("maven-releases", policyRelease, repo.WriteAllowOnce),
		hosted("maven-snapshots", policySnapshot, repo.WriteAllow),
	}
	members := []string{"maven-releases", "maven-snapshots"}
	if f.opts.CentralURL != "" {
		central := repo.Config{Name: "maven-central", Format: f.Name(), Type: repo.Proxy, Online: true,
			Storage:       repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true},
			Proxy:         &repo.ProxySettings{RemoteURL: f.opts.CentralURL, ContentMaxAge: -1, MetadataMaxAge: 1440},
			NegativeCache: &repo.NegativeCache{Enabled: true, TimeToLive: 1440},
			HTTPClient:    &repo.HTTPClient{AutoBlock: true}}
		central.SetSection("maven", settings{VersionPolicy: policyRelease, LayoutPolicy: layoutPermissive, ContentDisposition: "INLINE"})
		out = append(out, central)
		members = append(members, "maven-central")
	}
	group := repo.Config{Name: "maven-public", Format: f.Name(), Type: repo.Group, Online: true,
		Storage: repo.Storage{BlobStoreName: "default", StrictContentTypeValidation: true},
		Group:   &repo.GroupSettings{MemberNames: members}}
	group.SetSection("maven", settings{VersionPolicy: policyMixed, LayoutPolicy: layoutPermissive, ContentDisposition: "INLINE"})
	return append(out, group)
}

// SearchTerms are Nexus's maven.* search parameters.
func (f *Format) SearchTerms() []repo.SearchTerm {
	coord := func(field func(Coords) string) func(*meta.Asset) []string {
		return func(a *meta.Asset) []string {
			co, err := ParseArtifact(a.Path)
			if err != nil {
				return nil
			}
			return []string{field(co)}
		}
	}
	return []repo.SearchTerm{
		{Param: "maven.groupId", Component: "group"},
		{Param: "maven.artifactId", Component: "name"},
		{Param: "maven.baseVersion", Component: "version"},
		{Param: "maven.extension", Asset: coord(func(c Coords) string { return c.Extension })},
		{Param: "maven.classifier", Asset: coord(func(c Coords) string { return c.Classifier })},
		{Param: "gavec", Expand: gavec},
	}
}

// gavecParts are the terms gavec stands for, in its order.
var gavecParts = []string{"maven.groupId", "maven.artifactId", "maven.baseVersion", "maven.extension", "maven.classifier"}

// gavec reads Nexus's "group:artifact:version:extension:classifier": the
// parts left out or empty match anything.
func gavec(v string) (map[string]string, error) {
	parts := strings.Split(v, ":")
	if len(parts) > len(gavecParts) {
		return nil, errors.New("must be group:artifact:version:extension:classifier")
	}
	out := map[string]string{}
	for i, part := range parts {
		if part != "" {
			out[gavecParts[i]] = part
		}
	}
	return out, nil
}
