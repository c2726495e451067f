// Package docker is the Docker/OCI format: the OCI Distribution Spec v1.1
// (the /v2/ API) served on each repository's own connector port and, with
// the repository name as the first path segment, on the main port.
package docker

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/keylock"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
)

// Options tune the format.
type Options struct {
	// GCGrace protects layer links younger than this from being collected
	// when no manifest references them, so a push in progress (layers
	// first, manifest last) is never undercut.
	GCGrace time.Duration
}

// Format is the Docker format plugin.
type Format struct {
	auth *auth.Service
	log  *slog.Logger
	opts Options

	// images serialises manifest writes and collections per image.
	images keylock.Map // by repo+"\x00"+image
	// recent remembers blob links clients were told exist, so collection
	// leaves them alone for the grace period.
	recent *recentSet
	// manifests holds the bytes of hot manifests (served by hosted
	// repositories) so a GET needs no file open.
	manifests *byteCache
	// foreign knows where the foreign layers of proxied manifests are.
	foreign *foreignLayers
	// whitelist holds the proxies' compiled foreign layer whitelists.
	whitelist *whitelist
}

var (
	_ repo.Format          = (*Format)(nil)
	_ repo.Connector       = (*Format)(nil)
	_ repo.Maintainer      = (*Format)(nil)
	_ repo.AnonymousPolicy = (*Format)(nil)
	_ repo.LatestTag       = (*Format)(nil)
	_ repo.UniqueSettings  = (*Format)(nil)
)

// New returns the Docker format; it issues and checks tokens with authn.
func New(authn *auth.Service, log *slog.Logger, opts Options) *Format {
	return &Format{auth: authn, log: log, opts: opts, recent: newRecentSet(opts.GCGrace), manifests: newByteCache(manifestCacheBytes),
		foreign: newForeignLayers(), whitelist: newWhitelist()}
}

// Name returns "docker".
func (f *Format) Name() string { return "docker" }

// settings is the "docker" section of a repository's configuration.
type settings struct {
	V1Enabled            bool `json:"v1Enabled"`
	ForceBasicAuth       bool `json:"forceBasicAuth"`
	HTTPPort             *int `json:"httpPort,omitempty"`
	HTTPSPort            *int `json:"httpsPort,omitempty"`
	AllowSparseManifests bool `json:"allowSparseManifests"`
	// Subdomain serves the repository on the main port to requests for
	// host <subdomain>.<anything> at /v2/, as a connector would.
	Subdomain *string `json:"subdomain,omitempty"`
	// PathEnabled false refuses the main port's /v2/<repository>/...
	// routes; unset is true. Both are shown as they were sent.
	PathEnabled *bool `json:"pathEnabled,omitempty"`
}

// pathEnabled reports whether the main port serves s's repository with
// its name in the path.
func (s settings) pathEnabled() bool { return s.PathEnabled == nil || *s.PathEnabled }

// subdomainRe is one DNS label.
var subdomainRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

// sections decodes "docker" sections; forceBasicAuth is on unless turned off.
var sections = repo.SectionCache[settings]{Key: "docker", Default: settings{ForceBasicAuth: true}}

func settingsOf(r repo.Repository) settings { return sections.Of(r.Config()) }

// AllowsAnonymous is false for repositories with forceBasicAuth (the
// default): anonymous callers may not use them whatever the anonymous role
// holds, on any route (repo.AnonymousPolicy).
func (f *Format) AllowsAnonymous(cfg repo.Config) bool { return !sections.Of(cfg).ForceBasicAuth }

// Validate checks the "docker" section.
func (f *Format) Validate(cfg *repo.Config) error {
	s := settings{ForceBasicAuth: true}
	if _, err := cfg.Section("docker", &s); err != nil {
		return &errs.FieldError{Field: "docker", Message: "malformed section: " + err.Error()}
	}
	for field, port := range map[string]*int{"docker.httpPort": s.HTTPPort, "docker.httpsPort": s.HTTPSPort} {
		if port != nil && (*port < 1 || *port > 65535) {
			return &errs.FieldError{Field: field, Message: "must be a port from 1 to 65535"}
		}
	}
	if s.HTTPPort != nil && s.HTTPSPort != nil && *s.HTTPPort == *s.HTTPSPort {
		return &errs.FieldError{Field: "docker.httpsPort", Message: "must differ from httpPort"}
	}
	if s.Subdomain != nil && !subdomainRe.MatchString(*s.Subdomain) {
		return &errs.FieldError{Field: "docker.subdomain", Message: "must be a DNS label: letters, digits and '-', at most 63"}
	}
	if cfg.Type == repo.Proxy {
		if err := validateProxySettings(cfg); err != nil {
			return err
		}
	}
	return cfg.SetSection("docker", s)
}

// Unique: no two Docker repositories share a subdomain
// (repo.UniqueSettings).
func (f *Format) Unique(cfg repo.Config) map[string]string {
	if s := sections.Of(cfg); s.Subdomain != nil {
		return map[string]string{"docker.subdomain": *s.Subdomain}
	}
	return nil
}

// Ports returns the connector ports of cfg.
func (f *Format) Ports(cfg repo.Config) (httpPort, httpsPort int) {
	var s settings
	cfg.Section("docker", &s)
	if s.HTTPPort != nil {
		httpPort = *s.HTTPPort
	}
	if s.HTTPSPort != nil {
		httpsPort = *s.HTTPSPort
	}
	return httpPort, httpsPort
}

// Checksums: Docker clients need only the sha256 digest, always computed.
func (f *Format) Checksums() []blob.Algorithm { return nil }

// IsMetadata is true for tags, tag lists and referrer lists, which move;
// manifests by digest and blobs never change.
func (f *Format) IsMetadata(p string) bool {
	if strings.HasSuffix(p, "/tags/list") || isReferrersPath(p) {
		return true
	}
	i := strings.LastIndex(p, "/manifests/")
	return i >= 0 && !isDigestRef(p[i+len("/manifests/"):])
}

// Component makes each tag a component: the image name and the tag.
// SearchTerms are Nexus's docker.* search parameters: the image and tag
// are the component's name and version, the content digest is the tag's
// manifest's, a layer id any digest the manifest references (its config
// and layers; an index's are its platforms' manifests).
func (f *Format) SearchTerms() []repo.SearchTerm {
	return []repo.SearchTerm{
		{Param: "docker.imageName", Component: "name"},
		{Param: "docker.imageTag", Component: "version"},
		{Param: "docker.contentDigest", Asset: func(a *meta.Asset) []string { return []string{manifestDigest(a)} }},
		{Param: "docker.layerId", Asset: func(a *meta.Asset) []string { return strings.Fields(a.Attributes[attrRefs]) }},
	}
}

func (f *Format) Component(p string) *meta.Component {
	i := strings.LastIndex(p, "/manifests/")
	if i < 0 || !strings.HasPrefix(p, "v2/") {
		return nil
	}
	image, ref := p[len("v2/"):i], p[i+len("/manifests/"):]
	if isDigestRef(ref) {
		return nil
	}
	return &meta.Component{Name: image, Version: ref}
}

// ServeHTTP serves the stored assets under /repository/<name>/ for reading,
// so the REST API's download URLs work; Docker clients use the /v2/ API,
// on the connector port or at /v2/<name>/ on the main port.
func (f *Format) ServeHTTP(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		serve.Error(w, req, f.log, errs.New(errs.Unsupported, "docker repository %s takes pushes at /v2/ on its connector port, or at /v2/%s/ on this port", r.Name(), r.Name()))
		return
	}
	if err := r.AuthorizePath(req.Context(), "read", p); err != nil {
		serve.Error(w, req, f.log, err)
		return
	}
	// Stored assets only (a group's are its members'): this route never
	// makes a proxy ask its upstream.
	holder, a := statStored(req, r, p)
	if a == nil {
		serve.Error(w, req, f.log, errs.New(errs.NotFound, "asset %q not found", p))
		return
	}
	c, err := holder.Get(req.Context(), a.Path)
	if err != nil {
		serve.Error(w, req, f.log, err)
		return
	}
	if err := serve.Content(w, req, c, ""); err != nil {
		serve.Error(w, req, f.log, err)
	}
}

// Handler serves r's /v2/ API and /v1/search at the root of its connector
// port; the server has resolved the caller, as on the main port.
func (f *Format) Handler(r repo.Repository) http.Handler {
	resolve := func(_ context.Context, name string) (repo.Repository, string, bool) { return r, name, true }
	return f.withV1(connectorSearch(r), f.v2(func(w http.ResponseWriter, req *http.Request, p string) {
		f.dispatch(w, req, p, resolve, func() []repo.Repository { return []repo.Repository{r} }, r)
	}))
}

// Lookup finds repositories by name for the main port.
type Lookup interface {
	Lookup(name string) (repo.Repository, bool)
	List() []repo.Repository
	// Visible reports whether the caller in ctx may know r exists.
	Visible(ctx context.Context, r repo.Repository) bool
}

// MainPortHandler serves /v2/ and /v1/search on the main port, behind the
// server's authentication: the first segment of every name is the
// repository ("host:8081/docker-h/team/app:1.0").
func (f *Format) MainPortHandler(repos Lookup) http.Handler {
	resolve := func(ctx context.Context, name string) (repo.Repository, string, bool) {
		repoName, image, ok := strings.Cut(name, "/")
		if !ok {
			return nil, "", false
		}
		r, found := repos.Lookup(repoName)
		if !found || !f.byPath(r) || !repos.Visible(ctx, r) {
			return nil, "", false
		}
		return r, image, true
	}
	list := func() []repo.Repository {
		var out []repo.Repository
		for _, r := range repos.List() {
			if f.byPath(r) {
				out = append(out, r)
			}
		}
		return out
	}
	byPath := f.withV1(f.mainPortSearch(repos), f.v2(func(w http.ResponseWriter, req *http.Request, p string) {
		f.dispatch(w, req, p, resolve, list, nil)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r := f.bySubdomain(repos, req.Host); r != nil {
			f.Handler(r).ServeHTTP(w, req)
			return
		}
		byPath.ServeHTTP(w, req)
	})
}

// byPath reports whether r is a Docker repository the main port serves
// with its name in the path (docker.pathEnabled).
func (f *Format) byPath(r repo.Repository) bool {
	return r.Config().Format == f.Name() && settingsOf(r).pathEnabled()
}

// bySubdomain is the Docker repository whose docker.subdomain (unique, see
// Unique) is the first label of host, as Nexus routes "<subdomain>.<host>".
// A bare host ("localhost") or an IP address names none.
func (f *Format) bySubdomain(repos Lookup, host string) repo.Repository {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, rest, ok := strings.Cut(host, ".")
	if !ok || label == "" || rest == "" || net.ParseIP(host) != nil {
		return nil
	}
	for _, r := range repos.List() {
		if r.Config().Format != f.Name() {
			continue
		}
		if sub := settingsOf(r).Subdomain; sub != nil && strings.EqualFold(*sub, label) {
			return r
		}
	}
	return nil
}

// v2 strips /v2/ and sets the API version header every response carries.
// Paths no repository could hold (see repo.CheckPathText) are refused here,
// once for every route of both ports.
func (f *Format) v2(serveV2 func(w http.ResponseWriter, req *http.Request, p string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		p, ok := strings.CutPrefix(req.URL.Path, "/v2/")
		if !ok && req.URL.Path != "/v2" {
			writeError(w, req, f.log, codeNotFound.err(), nil)
			return
		}
		if err := repo.CheckPathText(p); err != nil {
			writeError(w, req, f.log, codeNameInvalid.ofEngine(err), nil)
			return
		}
		serveV2(w, req, p)
	})
}
