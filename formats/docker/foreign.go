package docker

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

// Foreign layers are layers a manifest lists with urls of their own
// (Windows base layers, non-distributable media types): registries often
// lack them, and clients fetch them from those URLs. A proxy with
// dockerProxy.cacheForeignLayers fetches them itself, from the first URL
// its foreignLayerUrlWhitelist allows, so that clients that cannot reach
// those URLs pull them through the proxy; the digest is checked as for
// every blob.

// maxForeignLayers bounds the remembered layer locations; the set is
// emptied when full (the manifests are read again as clients ask).
const maxForeignLayers = 10000

// maxWhitelistRegexps bounds the compiled whitelist entries; the set is
// emptied when full (entries are compiled again as layers are asked for).
const maxWhitelistRegexps = 1000

// foreignLayers remembers, by digest, the URLs of the foreign layers of
// manifests that proxies with cacheForeignLayers served.
type foreignLayers struct {
	mu   sync.Mutex
	urls map[string][]string
}

func newForeignLayers() *foreignLayers { return &foreignLayers{urls: map[string][]string{}} }

func (fl *foreignLayers) note(m *manifest) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, l := range m.Layers {
		if len(l.URLs) == 0 {
			continue
		}
		if len(fl.urls) >= maxForeignLayers {
			fl.urls = map[string][]string{}
		}
		fl.urls[l.Digest] = l.URLs
	}
}

func (fl *foreignLayers) lookup(d string) []string {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return fl.urls[d]
}

// whitelist holds the compiled foreignLayerUrlWhitelist entries of the
// proxies' configurations, by expression, so that a request compiles none:
// the settings are decoded anew for every request, and an edited
// configuration's new entries are compiled on first use.
type whitelist struct {
	mu  sync.Mutex
	res map[string]*regexp.Regexp // nil for an invalid expression
}

func newWhitelist() *whitelist { return &whitelist{res: map[string]*regexp.Regexp{}} }

// compiled is expr compiled for whole URLs, as Nexus's (Java's) matches()
// does; nil if invalid, which validation refuses.
func (w *whitelist) compiled(expr string) *regexp.Regexp {
	w.mu.Lock()
	defer w.mu.Unlock()
	re, ok := w.res[expr]
	if !ok {
		if len(w.res) >= maxWhitelistRegexps {
			w.res = map[string]*regexp.Regexp{}
		}
		re, _ = wholematch.Compile(expr)
		w.res[expr] = re
	}
	return re
}

// cachesForeignLayers reports whether ps has foreign layers fetched.
func (ps proxySettings) cachesForeignLayers() bool {
	return ps.CacheForeignLayers != nil && *ps.CacheForeignLayers
}

// allowed is the first of urls, http(s) ones, that an entry of ps's
// whitelist matches; "" for none.
func (w *whitelist) allowed(ps proxySettings, urls []string) string {
	for _, u := range urls {
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			continue
		}
		for _, expr := range ps.ForeignLayerURLWhitelist {
			if re := w.compiled(expr); re != nil && re.MatchString(u) {
				return u
			}
		}
	}
	return ""
}

// noteForeignLayers reads the manifest c that r served, when it came from
// a proxy that caches foreign layers, and remembers where its foreign
// layers are. It returns c to serve, read into memory if it was read.
func (f *Format) noteForeignLayers(r repo.Repository, c *repo.Content) (*repo.Content, error) {
	if !cachesForeignLayers(r, c.Asset.Repository) {
		return c, nil
	}
	body, err := readSmall(c)
	if err != nil {
		return nil, err
	}
	var m manifest
	if json.Unmarshal(body, &m) == nil {
		f.foreign.note(&m)
	}
	return &repo.Content{Asset: c.Asset, Body: repo.BytesBody(body), Downloaded: c.Downloaded}, nil
}

// cachesForeignLayers reports whether holder, r or the member of r (a
// group) of that name, is a proxy with cacheForeignLayers.
func cachesForeignLayers(r repo.Repository, holder string) bool {
	if r.Name() == holder {
		if r.Config().Type != repo.Proxy {
			return false
		}
		var ps proxySettings
		cfg := r.Config()
		cfg.Section("dockerProxy", &ps)
		return ps.cachesForeignLayers()
	}
	if g, ok := r.(repo.GroupMembers); ok {
		for _, m := range g.Members() {
			if cachesForeignLayers(m, holder) {
				return true
			}
		}
	}
	return false
}

// toForeignLayer sends req, the GET of blob p, to the layer's own URL when
// it is a foreign layer ps allows. The upstream's credentials are for the
// upstream: another origin gets none.
func (f *Format) toForeignLayer(ps proxySettings, p string, req *http.Request) {
	i := strings.LastIndex(p, "/blobs/")
	if !ps.cachesForeignLayers() || i < 0 || !strings.HasPrefix(p, "v2/") {
		return
	}
	target := f.whitelist.allowed(ps, f.foreign.lookup(p[i+len("/blobs/"):]))
	if target == "" {
		return
	}
	u, _ := url.Parse(target) // checked by allowed
	if repo.Origin(u) != repo.Origin(req.URL) {
		req.Header.Del("Authorization")
	}
	req.URL, req.Host = u, u.Host
}
