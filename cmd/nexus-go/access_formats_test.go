package main

// The formats the tests of rules every format must keep run over (access,
// path limits). A new format is covered by all of them once it has an
// entry in accessFormats.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// accessFormat tells the access tests how to drive one format.
type accessFormat struct {
	// name is the format's name in privileges; api, when it differs, its
	// name in REST paths (maven2 and maven).
	name, api string
	// hosted, proxy and group are the bodies of POST
	// /v1/repositories/<name>/<type> for a repository called repo.
	hosted func(t *testing.T, repo string) string
	proxy  func(t *testing.T, s *nexusServer, repo, upstream string) string
	group  func(t *testing.T, repo, writable string, members ...string) string
	// upstreamURL is the remoteUrl under which a proxy reaches hosted
	// repository repo of server s.
	upstreamURL func(s *nexusServer, repo string) string
	// seed stores one component in hosted repository repo as admin and
	// returns its content path under /repository/<repo>/.
	seed func(t *testing.T, s *nexusServer, repo string) string
	// mainPort, when set, is the format's own route on the main port to
	// content path p of repo (Docker's /v2/<repo>/...).
	mainPort func(repo, p string) string
	// downloads, when set, are the content paths of what seed stored in
	// hosted repository repo that clients download as bytes (Docker: the
	// image's manifests, by tag and digest, and blobs); without it, the
	// seeded path.
	downloads func(t *testing.T, s *nexusServer, repo, seeded string) []string
	// refusesAnonymous, when set, is a hosted configuration under which the
	// repository refuses anonymous callers (refuse true) whatever the
	// anonymous role holds (Docker's forceBasicAuth).
	refusesAnonymous func(t *testing.T, repo string, refuse bool) string
	// pathRoutes are the routes on which the format takes a path from the
	// client, for the tests of what every route must refuse.
	pathRoutes []pathRoute
	// areaPrefix is the path, as content selectors see it, under which
	// store puts the content of area (a word: "team"): "/team/" for raw.
	areaPrefix func(area string) string
	// store writes one component of area to hosted repository repo as c
	// with the format's client protocol and returns the status of the
	// last request and the content path under /repository/<repo>/ of what
	// it wrote (to read it back).
	store func(t *testing.T, s *nexusServer, c *creds, repo, area string) (int, string)
}

// slashArea is the areaPrefix of formats whose paths start with it.
func slashArea(area string) string { return "/" + area + "/" }

// rest is the format's name in REST paths.
// route is the request path of content path p of repo: the format's own
// main-port route, or /repository/<repo>/<p>.
func (f accessFormat) route(repo, p string) string {
	if f.mainPort != nil {
		return f.mainPort(repo, p)
	}
	return "/repository/" + repo + "/" + p
}

// downloaded returns the content paths clients download of what seed
// stored at seeded in hosted repository repo.
func (f accessFormat) downloaded(t *testing.T, s *nexusServer, repo, seeded string) []string {
	t.Helper()
	if f.downloads == nil {
		return []string{seeded}
	}
	paths := f.downloads(t, s, repo, seeded)
	if len(paths) == 0 {
		t.Fatalf("%s: nothing to download", f.name)
	}
	return paths
}

func (f accessFormat) rest() string {
	if f.api != "" {
		return f.api
	}
	return f.name
}

// pathRoute is one route on which a format takes a path from the client.
type pathRoute struct {
	name string
	// port serves the route for hosted repository repo; nil is the main port.
	port func(s *nexusServer, repo string) int
	// write and read are request targets in repo with p, escaped as the
	// client wrote it, where the format puts the client's path.
	write, read func(repo, p string) string
	// ociErrors marks answers in the distribution API's error shape.
	ociErrors bool
}

var accessFormats = []accessFormat{rawAccess, dockerAccess, mavenAccess, npmAccess}

// plainGroupJSON is a group with no format section of its own.
func plainGroupJSON(_ *testing.T, repo, writable string, members ...string) string {
	m, _ := json.Marshal(members)
	return fmt.Sprintf(`{"name":%q,"online":true,%s},"group":{"memberNames":%s,"writableMember":%q}}`,
		repo, rawStorage, m, writable)
}

// repositoryURL is the URL of repo on the main port, a proxy's remoteUrl.
func repositoryURL(s *nexusServer, repo string) string { return s.url("/repository/" + repo + "/") }

// contentRoutes is the one route of formats that take paths only under
// /repository/<repo>/.
func contentRoutes(name string) []pathRoute {
	route := func(repo, p string) string { return "/repository/" + repo + "/" + p }
	return []pathRoute{{name: name, write: route, read: route}}
}

const rawStorage = `"storage":{"blobStoreName":"default","strictContentTypeValidation":false`

var rawAccess = accessFormat{
	name:   "raw",
	hosted: func(_ *testing.T, repo string) string { return hostedBody(repo, "allow") },
	proxy: func(_ *testing.T, s *nexusServer, repo, upstream string) string {
		return proxyBody(repo, upstream, "admin", s.adminPW)
	},
	group:       plainGroupJSON,
	upstreamURL: repositoryURL,
	seed: func(t *testing.T, s *nexusServer, repo string) string {
		s.put(repo, "team/app/1.0/app.txt", []byte("content of "+repo+"\n"))
		return "team/app/1.0/app.txt"
	},
	pathRoutes: contentRoutes("raw"),
	areaPrefix: slashArea,
	store: func(t *testing.T, s *nexusServer, c *creds, repo, area string) (int, string) {
		p := area + "/app/1.0/app.txt"
		return s.do(http.MethodPut, "/repository/"+repo+"/"+p, c, []byte("raw of "+area), nil).status, p
	},
}

var dockerAccess = accessFormat{
	name: "docker",
	hosted: func(t *testing.T, repo string) string {
		return dockerHostedJSON(repo, testproc.FreePort(t), false)
	},
	proxy: func(t *testing.T, s *nexusServer, repo, upstream string) string {
		return dockerProxyJSON(repo, upstream, testproc.FreePort(t), false,
			fmt.Sprintf(`{"type":"username","username":"admin","password":%q}`, s.adminPW))
	},
	group: func(t *testing.T, repo, writable string, members ...string) string {
		return dockerGroupJSON(repo, testproc.FreePort(t), writable, members...)
	},
	// The upstream is the hosted repository's connector: a registry root.
	upstreamURL: func(s *nexusServer, repo string) string {
		return "http://127.0.0.1:" + strconv.Itoa(connectorPort(s, repo))
	},
	seed: func(t *testing.T, s *nexusServer, repo string) string {
		img := newDPImage(t, []byte("layer of "+repo))
		pushDPImage(t, s.url("/v2/"+repo), s.admin(), "team/app", "1.0", img)
		return "v2/team/app/manifests/1.0"
	},
	mainPort: func(repo, p string) string { return "/v2/" + repo + "/" + strings.TrimPrefix(p, "v2/") },
	downloads: func(t *testing.T, s *nexusServer, repo, _ string) []string {
		var paths []string
		for _, a := range s.assets(repo) {
			if strings.Contains(a.Path, "/blobs/") || strings.Contains(a.Path, "/manifests/") {
				paths = append(paths, a.Path)
			}
		}
		return paths
	},
	refusesAnonymous: func(t *testing.T, repo string, refuse bool) string {
		return dockerHostedJSON(repo, testproc.FreePort(t), refuse)
	},
	pathRoutes: []pathRoute{
		{
			name: "docker on the main port", ociErrors: true,
			write: func(repo, p string) string { return "/v2/" + repo + "/" + p + "/manifests/latest" },
			read:  func(repo, p string) string { return "/v2/" + repo + "/app/blobs/uploads/" + p },
		},
		{
			name: "docker on its connector", ociErrors: true, port: connectorPort,
			write: func(_, p string) string { return "/v2/" + p + "/manifests/latest" },
			read:  func(_, p string) string { return "/v2/app/blobs/uploads/" + p },
		},
	},
	areaPrefix: func(area string) string { return "/v2/" + area + "/" },
	store: func(t *testing.T, s *nexusServer, c *creds, repo, area string) (int, string) {
		img := newDPImage(t, []byte("layer of "+area))
		base := s.url("/v2/" + repo + "/" + area + "/app")
		for _, b := range append([][]byte{img.config}, img.layers...) {
			status, _, _ := dpDo(t, http.MethodPost, base+"/blobs/uploads/?digest=sha256:"+sha(b), c, b,
				map[string]string{"Content-Type": "application/octet-stream"})
			if status != http.StatusCreated {
				return status, ""
			}
		}
		status, _, _ := dpDo(t, http.MethodPut, base+"/manifests/1.0", c, img.manifest, map[string]string{"Content-Type": dpOCIManifest})
		return status, "v2/" + area + "/app/manifests/1.0"
	},
}

var mavenAccess = accessFormat{
	name: "maven2", api: "maven",
	hosted: func(_ *testing.T, repo string) string {
		return fmt.Sprintf(`{"name":%q,"online":true,%s,"writePolicy":"allow"},"maven":{"versionPolicy":"MIXED","layoutPolicy":"STRICT"}}`, repo, rawStorage)
	},
	proxy: func(_ *testing.T, s *nexusServer, repo, upstream string) string {
		return fmt.Sprintf(`{"name":%q,"online":true,%s},"proxy":{"remoteUrl":%q,"contentMaxAge":-1,"metadataMaxAge":1440},`+
			`"negativeCache":{"enabled":true,"timeToLive":1440},"httpClient":{"blocked":false,"autoBlock":true,`+
			`"authentication":{"type":"username","username":"admin","password":%q}},"maven":{"versionPolicy":"MIXED","layoutPolicy":"PERMISSIVE"}}`,
			repo, rawStorage, upstream, s.adminPW)
	},
	group: func(_ *testing.T, repo, writable string, members ...string) string {
		m, _ := json.Marshal(members)
		return fmt.Sprintf(`{"name":%q,"online":true,%s},"group":{"memberNames":%s,"writableMember":%q},"maven":{"versionPolicy":"MIXED"}}`,
			repo, rawStorage, m, writable)
	},
	upstreamURL: repositoryURL,
	seed: func(t *testing.T, s *nexusServer, repo string) string {
		p := "org/example/app/1.0/app-1.0.jar"
		s.put(repo, p, []byte("PK\x03\x04 jar of "+repo))
		return p
	},
	pathRoutes: contentRoutes("maven"),
	areaPrefix: slashArea,
	store: func(t *testing.T, s *nexusServer, c *creds, repo, area string) (int, string) {
		p := area + "/example/app/1.0/app-1.0.jar"
		return s.do(http.MethodPut, "/repository/"+repo+"/"+p, c, []byte("PK\x03\x04 jar of "+area), nil).status, p
	},
}

var npmAccess = accessFormat{
	name: "npm",
	hosted: func(_ *testing.T, repo string) string {
		return fmt.Sprintf(`{"name":%q,"online":true,%s,"writePolicy":"allow_once"}}`, repo, rawStorage)
	},
	proxy: func(_ *testing.T, s *nexusServer, repo, upstream string) string {
		return fmt.Sprintf(`{"name":%q,"online":true,%s},"proxy":{"remoteUrl":%q,"contentMaxAge":-1,"metadataMaxAge":1440},`+
			`"negativeCache":{"enabled":true,"timeToLive":1440},"httpClient":{"blocked":false,"autoBlock":true,`+
			`"authentication":{"type":"username","username":"admin","password":%q}}}`,
			repo, rawStorage, upstream, s.adminPW)
	},
	group:       plainGroupJSON,
	upstreamURL: repositoryURL,
	seed: func(t *testing.T, s *nexusServer, repo string) string {
		pkg := npmPkg{name: "@team/app", version: "1.0.0", payload: []byte("content of " + repo)}
		body := pkg.publishBody(s.url("/repository/" + repo + "/"))
		res := s.do(http.MethodPut, "/repository/"+repo+"/@team%2fapp", s.admin(), body, http.Header{"Content-Type": {"application/json"}})
		if res.status != http.StatusOK {
			t.Fatalf("npm publish to %s: %d %s", repo, res.status, res.body)
		}
		return "@team/app/-/app-1.0.0.tgz"
	},
	pathRoutes: contentRoutes("npm"),
	areaPrefix: func(area string) string { return "/@" + area + "/" },
	store: func(t *testing.T, s *nexusServer, c *creds, repo, area string) (int, string) {
		pkg := npmPkg{name: "@" + area + "/app", version: "1.0.0", payload: []byte("npm of " + area)}
		body := pkg.publishBody(s.url("/repository/" + repo + "/"))
		res := s.do(http.MethodPut, "/repository/"+repo+"/@"+area+"%2fapp", c, body, http.Header{"Content-Type": {"application/json"}})
		return res.status, "@" + area + "/app/-/app-1.0.0.tgz"
	},
}

// connectorPort is the HTTP connector port of hosted Docker repository repo.
func connectorPort(s *nexusServer, repo string) int {
	s.t.Helper()
	var cfg struct {
		Docker struct {
			HTTPPort int `json:"httpPort"`
		} `json:"docker"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/hosted/"+repo, s.admin(), nil, &cfg)
	return cfg.Docker.HTTPPort
}

// pushDPImage uploads img's blobs and manifest as name:tag to the /v2/ API
// at base (a connector, or /v2/<repo> on the main port) with Basic c.
func pushDPImage(t *testing.T, base string, c *creds, name, tag string, img dpImage) {
	t.Helper()
	for _, b := range append([][]byte{img.config}, img.layers...) {
		d := "sha256:" + sha(b)
		status, _, body := dpDo(t, http.MethodPost, base+"/"+name+"/blobs/uploads/?digest="+d, c, b,
			map[string]string{"Content-Type": "application/octet-stream"})
		if status != http.StatusCreated {
			t.Fatalf("pushing blob %s to %s/%s: %d %s", d, base, name, status, body)
		}
	}
	status, hdr, body := dpDo(t, http.MethodPut, base+"/"+name+"/manifests/"+tag, c, img.manifest,
		map[string]string{"Content-Type": dpOCIManifest})
	if status != http.StatusCreated || hdr.Get("Docker-Content-Digest") != img.digest {
		t.Fatalf("pushing manifest %s:%s to %s: %d %s", name, tag, base, status, body)
	}
}

// createAs creates a repository of format f and type kind from body as c
// and returns the status.
func createAs(s *nexusServer, c *creds, f accessFormat, kind, body string) result {
	s.t.Helper()
	return s.doJSON(http.MethodPost, "/v1/repositories/"+f.rest()+"/"+kind, c, body, nil)
}

// mustCreate creates a repository as admin.
func mustCreate(s *nexusServer, f accessFormat, kind, body string) {
	s.t.Helper()
	if res := createAs(s, s.admin(), f, kind, body); res.status != http.StatusCreated {
		s.t.Fatalf("creating a %s %s repository: %d %s", f.name, kind, res.status, res.body)
	}
}

// groupMembers is the member list of a group, read as admin.
func groupMembers(s *nexusServer, f accessFormat, repo string) []string {
	s.t.Helper()
	var cfg struct {
		Group struct {
			MemberNames    []string `json:"memberNames"`
			WritableMember string   `json:"writableMember"`
		} `json:"group"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/"+f.rest()+"/group/"+repo, s.admin(), nil, &cfg)
	return append(cfg.Group.MemberNames, "writable="+cfg.Group.WritableMember)
}
