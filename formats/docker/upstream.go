package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/wholematch"
)

var (
	_ repo.UpstreamRequester   = (*Format)(nil)
	_ repo.UpstreamTransporter = (*Format)(nil)
	_ repo.ExpectedDigester    = (*Format)(nil)
	_ repo.UpstreamSizer       = (*Format)(nil)
	_ repo.HeadRevalidator     = (*Format)(nil)
)

// proxySettings is the "dockerProxy" section of a proxy repository.
type proxySettings struct {
	// IndexType HUB maps one-segment names to the library/ namespace, as
	// Docker does for the public hub; REGISTRY uses names as they are;
	// CUSTOM sends V1 searches to IndexURL instead of the upstream.
	IndexType string  `json:"indexType"`
	IndexURL  *string `json:"indexUrl,omitempty"`
	// CacheForeignLayers has the proxy fetch the layers a manifest has at
	// URLs of their own, from those ForeignLayerURLWhitelist allows (see
	// foreign.go).
	CacheForeignLayers       *bool    `json:"cacheForeignLayers,omitempty"`
	ForeignLayerURLWhitelist []string `json:"foreignLayerUrlWhitelist"`
}

// validateProxySettings checks and normalises the "dockerProxy" section.
func validateProxySettings(cfg *repo.Config) error {
	ps := proxySettings{IndexType: "REGISTRY"}
	if _, err := cfg.Section("dockerProxy", &ps); err != nil {
		return &errs.FieldError{Field: "dockerProxy", Message: "malformed section: " + err.Error()}
	}
	ps.IndexType = strings.ToUpper(ps.IndexType)
	switch ps.IndexType {
	case "REGISTRY", "HUB":
	case "CUSTOM":
		if ps.IndexURL == nil || *ps.IndexURL == "" {
			return &errs.FieldError{Field: "dockerProxy.indexUrl", Message: "may not be empty with indexType CUSTOM"}
		}
	default:
		return &errs.FieldError{Field: "dockerProxy.indexType", Message: "must be REGISTRY, HUB or CUSTOM"}
	}
	if ps.IndexURL != nil && *ps.IndexURL != "" {
		if u, err := url.Parse(*ps.IndexURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &errs.FieldError{Field: "dockerProxy.indexUrl", Message: "must be an http(s) URL"}
		}
	}
	if ps.ForeignLayerURLWhitelist == nil {
		ps.ForeignLayerURLWhitelist = []string{}
	}
	for _, expr := range ps.ForeignLayerURLWhitelist {
		if _, err := wholematch.Compile(expr); err != nil {
			return &errs.FieldError{Field: "dockerProxy.foreignLayerUrlWhitelist", Message: fmt.Sprintf("%q is not a regular expression: %v", expr, err)}
		}
	}
	return cfg.SetSection("dockerProxy", ps)
}

// manifestAccept asks an upstream for every manifest type the registry
// stores, so a tag resolves to what its owner pushed (an index or a single
// manifest) whatever the first client accepted.
var manifestAccept = strings.Join([]string{mtOCIIndex, mtOCIManifest, mtDockerList, mtDockerManifest}, ", ")

// UpstreamRequest maps hub names, sets Accept for manifests, and sends
// searches to a custom index and foreign layers to their URLs.
func (f *Format) UpstreamRequest(cfg repo.Config, p string, req *http.Request) error {
	var ps proxySettings
	cfg.Section("dockerProxy", &ps)
	if ps.IndexType == "HUB" {
		if mapped := hubPath(p); mapped != p {
			prefix := strings.TrimSuffix(req.URL.Path, p)
			req.URL.Path = prefix + mapped
			req.URL.RawPath = ""
		}
	}
	if strings.Contains(p, "/manifests/") {
		req.Header.Set("Accept", manifestAccept)
	}
	if p == "v1/search" && ps.IndexType == "CUSTOM" && ps.IndexURL != nil {
		toIndex(req, *ps.IndexURL)
	}
	f.toForeignLayer(ps, p, req)
	return nil
}

// toIndex sends req, a V1 search, to the custom index at index. The
// upstream's credentials are for the upstream: they go to the index only
// if it is the same origin.
func toIndex(req *http.Request, index string) {
	u, err := url.Parse(index) // checked by Validate
	if err != nil {
		return
	}
	target := u.JoinPath("v1", "search")
	target.RawQuery = req.URL.RawQuery
	if repo.Origin(target) != repo.Origin(req.URL) {
		req.Header.Del("Authorization")
	}
	req.URL, req.Host = target, target.Host
}

// hubPath puts a one-segment image name into the library/ namespace.
func hubPath(p string) string {
	rest, ok := strings.CutPrefix(p, "v2/")
	if !ok {
		return p
	}
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/list", "/referrers/"} {
		if i := strings.Index(rest, marker); i > 0 {
			if !strings.Contains(rest[:i], "/") {
				return "v2/library/" + rest
			}
			return p
		}
	}
	return p
}

// ExpectedDigest is the digest a blob or a manifest-by-digest path names.
func (f *Format) ExpectedDigest(p string) digest.Digest {
	if isReferrersPath(p) || (!strings.Contains(p, "/blobs/") && !strings.Contains(p, "/manifests/")) {
		return ""
	}
	if d, ok := parseDigest(lastSegment(p)); ok {
		return d
	}
	return ""
}

// MaxSize bounds the metadata documents a proxy caches (manifests, tag
// lists, referrers) to what the registry reads of one: maxManifestSize.
func (f *Format) MaxSize(p string) int64 {
	dir, _ := path.Split(p)
	if _, _, ok := splitManifestPath(p); ok || strings.HasSuffix(dir, "/referrers/") || strings.HasSuffix(p, "/tags/list") {
		return maxManifestSize
	}
	return 0
}

// Current compares the digest an upstream reports for a tag with the
// cached manifest's.
func (f *Format) Current(resp *http.Response, cached *meta.Asset) (current, known bool) {
	upstream := resp.Header.Get("Docker-Content-Digest")
	if upstream == "" {
		return false, false
	}
	return upstream == manifestDigest(cached), true
}

// manifestDigest is the digest of a stored manifest: recorded at push, or
// the sha256 of its bytes for one a proxy cached.
func manifestDigest(a *meta.Asset) string {
	if d := a.Attributes[attrDigest]; d != "" {
		return d
	}
	if sum := a.Checksums["sha256"]; sum != "" {
		return "sha256:" + sum
	}
	return ""
}

// UpstreamTransport adds the token flow of Docker registries: a 401 with a
// Bearer challenge sends us to the realm for a token (with the configured
// credentials, or none), which is cached until it expires and used for the
// retry and for later requests of the same scope.
func (f *Format) UpstreamTransport(cfg repo.Config, base http.RoundTripper) http.RoundTripper {
	t := &tokenTransport{base: base, tokens: map[string]cachedToken{}}
	if hc := cfg.HTTPClient; hc != nil && hc.Authentication != nil && hc.Authentication.Type == repo.AuthUsername {
		remote, _ := url.Parse(cfg.Proxy.RemoteURL) // checked by the engine
		t.user, t.pass, t.origin = hc.Authentication.Username, hc.Authentication.Password, repo.Origin(remote)
	}
	return t
}

type cachedToken struct {
	token   string
	expires time.Time
}

type tokenTransport struct {
	base http.RoundTripper
	// user and pass go only to the realms named by challenges from
	// origin, the configured upstream's; not to the realm of a server a
	// redirect led to.
	user, pass string
	origin     string
	// fetches makes concurrent requests needing the same token share one
	// request to the realm.
	fetches singleflight.Group

	mu     sync.Mutex
	tokens map[string]cachedToken // origin + " " + scope
}

// maxTokens bounds the token cache; it is emptied when full.
const maxTokens = 1024

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := repo.Origin(req.URL) + " " + scopeOf(req.URL.Path)
	if tok := t.cached(key); tok != "" {
		resp, err := t.base.RoundTrip(withBearer(req, tok))
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
		// Revoked or expired early: forget it and go through the challenge.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t.forget(key)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	ch, ok := parseChallenge(resp.Header.Get("WWW-Authenticate"))
	if !ok {
		return resp, nil
	}
	if ch.scope == "" {
		ch.scope = scopeOf(req.URL.Path)
	}
	// The fetch is shared, so it runs on none of its callers' contexts
	// (base, the engine's transport, bounds it in time); each caller
	// waits only as long as its own context lasts.
	shared := t.fetches.DoChan(key, func() (any, error) {
		if tok := t.cached(key); tok != "" {
			return tok, nil // fetched by a request that finished meanwhile
		}
		tok, ttl, err := t.fetch(context.WithoutCancel(req.Context()), req.URL, ch)
		if err == nil {
			t.store(key, tok, ttl)
		}
		return tok, err
	})
	var got singleflight.Result
	select {
	case got = <-shared:
	case <-req.Context().Done():
		resp.Body.Close()
		return nil, context.Cause(req.Context())
	}
	if got.Err != nil {
		return resp, nil // the 401 tells the caller more than our failure
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return t.base.RoundTrip(withBearer(req, got.Val.(string)))
}

func (t *tokenTransport) cached(key string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.tokens[key]
	if !ok || time.Now().After(c.expires) {
		return ""
	}
	return c.token
}

func (t *tokenTransport) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.tokens, key)
}

func (t *tokenTransport) store(key, tok string, ttl time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.tokens) >= maxTokens {
		t.tokens = map[string]cachedToken{}
	}
	// Expire a little early so a token is never sent as it runs out.
	t.tokens[key] = cachedToken{token: tok, expires: time.Now().Add(ttl * 9 / 10)}
}

// fetch asks the realm of ch, a challenge of the server at challenger,
// for a token; with the configured credentials if that server is the
// configured upstream.
func (t *tokenTransport) fetch(ctx context.Context, challenger *url.URL, ch bearerChallenge) (string, time.Duration, error) {
	u, err := url.Parse(ch.realm)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", 0, fmt.Errorf("bad token realm %q", ch.realm)
	}
	withCreds := t.user != "" && repo.Origin(challenger) == t.origin
	// Credentials meant for an HTTPS upstream never travel in clear text.
	if withCreds && u.Scheme != "https" && strings.EqualFold(challenger.Scheme, "https") {
		return "", 0, fmt.Errorf("token realm %q is not HTTPS though the upstream is", ch.realm)
	}
	q := u.Query()
	if ch.service != "" {
		q.Set("service", ch.service)
	}
	for _, s := range strings.Fields(ch.scope) {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", 0, err
	}
	if withCreds {
		req.SetBasicAuth(t.user, t.pass)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("token realm answered %s", resp.Status)
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return "", 0, err
	}
	tok := body.Token
	if tok == "" {
		tok = body.AccessToken
	}
	if tok == "" {
		return "", 0, fmt.Errorf("token realm sent no token")
	}
	// The spec's default lifetime when none is given is 60 seconds.
	ttl := 60 * time.Second
	if body.ExpiresIn > 0 {
		ttl = time.Duration(body.ExpiresIn) * time.Second
	}
	return tok, ttl, nil
}

func withBearer(req *http.Request, tok string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// scopeOf is the pull scope a distribution API path needs.
func scopeOf(p string) string {
	i := strings.Index(p, "/v2/")
	if i < 0 {
		return ""
	}
	rest := p[i+len("/v2/"):]
	for _, marker := range []string{"/manifests/", "/blobs/", "/tags/list", "/referrers/"} {
		if i := strings.Index(rest, marker); i > 0 {
			return "repository:" + rest[:i] + ":pull"
		}
	}
	return ""
}

type bearerChallenge struct{ realm, service, scope string }

// parseChallenge reads `Bearer realm="...",service="...",scope="..."`.
func parseChallenge(h string) (bearerChallenge, bool) {
	var c bearerChallenge
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return c, false
	}
	for rest != "" {
		var key, val string
		key, rest, _ = strings.Cut(strings.TrimLeft(rest, " ,"), "=")
		if strings.HasPrefix(rest, `"`) {
			end := strings.Index(rest[1:], `"`)
			if end < 0 {
				return c, false
			}
			val, rest = rest[1:end+1], rest[end+2:]
		} else {
			val, rest, _ = strings.Cut(rest, ",")
		}
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "realm":
			c.realm = val
		case "service":
			c.service = val
		case "scope":
			c.scope = val
		}
	}
	return c, c.realm != ""
}
