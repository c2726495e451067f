package main

// End-to-end tests of npm repositories with the real clients: npm (the
// machine's npm 11) and pnpm against hosted, proxy and group repositories,
// with Verdaccio as the third-party registry upstream of the proxies.

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// npmStatus matches npm's error code for an HTTP status ("E403").
func npmStatus(status int) string { return fmt.Sprintf("E%d", status) }

// npmTokenKey is a token's key in npm token list: its hex sha512.
func npmTokenKey(token string) string {
	sum := sha512.Sum512([]byte(token))
	return hex.EncodeToString(sum[:])
}

// npmTokenEntry is an item of GET /-/npm/v1/tokens as npm token list
// --json prints it.
type npmTokenEntry struct {
	Key      string   `json:"key"`
	Token    string   `json:"token"`
	Created  string   `json:"created"`
	Readonly bool     `json:"readonly"`
	CIDR     []string `json:"cidr_whitelist"`
}

// whoamiStatus is the status GET /-/whoami answers to a Bearer token.
// approveNpmLogin signs c in to the web UI in a browser and approves the
// npm login at the URL npm printed.
func approveNpmLogin(t *testing.T, s *nexusServer, c *creds) func(loginURL string) {
	return func(loginURL string) {
		t.Helper()
		u, err := url.Parse(loginURL)
		if err != nil || "http://"+u.Host != s.base {
			t.Fatalf("npm printed the login URL %q, want one on %s", loginURL, s.base)
		}
		b := newUIBrowser(t, s.base).session("npm-login")
		b.signIn(c.user, c.pass)
		if status := b.open(u.Path); status != http.StatusOK {
			t.Fatalf("the login page %s: %d", u.Path, status)
		}
		if status := b.submit("#approve"); status != http.StatusOK {
			t.Fatalf("approving the npm login: %d:\n%s", status, b.bodyText())
		}
	}
}

func whoamiStatus(t *testing.T, registry, token string) int {
	t.Helper()
	return npmDo(t, http.MethodGet, registry+"-/whoami", bearer(token), nil, nil).status
}

// TestNpmPublishFlow: a developer's life with a hosted repository, npm
// only: login (as npm does by default, through the web UI in a browser,
// and legacy), publish of a scoped
// package, whoami, a refused republish, dist-tags, deprecate, unpublish of
// a version, tokens listed, created and revoked, logout.
func TestNpmPublishFlow(t *testing.T) {
	s := startServer(t)
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-hosted", "allow_once"))
	dev := s.createNpmUser("dev", "dev-password-1")
	registry := s.npmRepoURL("npm-hosted")

	// npm's default auth-type is web: npm prints a URL of the web UI,
	// where the developer signs in and approves, and polls meanwhile.
	e := newNpmEnv(t, registry)
	if out, ok := e.webLogin(approveNpmLogin(t, s, dev)); !ok {
		t.Fatalf("npm login (default auth-type, web):\n%s", out)
	}
	token := e.token()
	if !strings.HasPrefix(token, "npm_") {
		t.Fatalf("npm login left the token %q in .npmrc, want an npm_ token", token)
	}
	if rc, _ := os.ReadFile(e.userconfig); strings.Contains(string(rc), dev.pass) {
		t.Errorf(".npmrc holds the password:\n%s", rc)
	}
	legacy := newNpmEnv(t, registry)
	if out, ok := legacy.login(dev); !ok {
		t.Fatalf("npm login --auth-type=legacy:\n%s", out)
	}
	if legacy.token() == "" || legacy.token() == token {
		t.Fatalf("the legacy login's token %q: want a new one, distinct from %q", legacy.token(), token)
	}
	bad := newNpmEnv(t, registry)
	if out, ok := bad.login(&creds{dev.user, "wrong-password"}); ok || bad.token() != "" {
		t.Errorf("npm login with a wrong password: ok %t, token %q:\n%s", ok, bad.token(), out)
	}
	if got := strings.TrimSpace(e.mustRun(e.dir, "whoami")); got != dev.user {
		t.Errorf("npm whoami: %q, want %q", got, dev.user)
	}

	// Publish, and a republish of the same version with other bytes.
	v1 := npmPkg{name: "@e2e/lib", version: "1.0.0"}
	e.mustRun(v1.write(t, e.dir), "publish")
	tarballPath := "/repository/npm-hosted/@e2e/lib/-/lib-1.0.0.tgz"
	first := s.do(http.MethodGet, tarballPath, dev, nil, nil)
	if first.status != http.StatusOK {
		t.Fatalf("GET %s after publish: %d %s", tarballPath, first.status, first.body)
	}
	// npm itself refuses when the packument lists the version; --force
	// skips that, and then the server must, with the registry's 403.
	again := npmPkg{name: v1.name, version: v1.version, extra: map[string]any{"description": "other bytes"}}
	againDir := again.write(t, filepath.Join(e.dir, "again"))
	e.mustFail(againDir, "cannot publish over the previously published versions", "publish")
	e.mustFail(againDir, npmStatus(http.StatusForbidden), "publish", "--force")
	if res := s.do(http.MethodGet, tarballPath, dev, nil, nil); res.status != http.StatusOK || sha(res.body) != sha(first.body) {
		t.Errorf("the refused republish changed the tarball: status %d, sha256 %s, was %s", res.status, sha(res.body), sha(first.body))
	}
	v11 := npmPkg{name: v1.name, version: "1.1.0"}
	e.mustRun(v11.write(t, e.dir), "publish")
	var dist struct {
		Tarball   string `json:"tarball"`
		Integrity string `json:"integrity"`
	}
	e.viewJSON(&dist, "@e2e/lib@1.1.0", "dist")
	if want := registry + "@e2e/lib/-/lib-1.1.0.tgz"; dist.Tarball != want {
		t.Errorf("dist.tarball %q, want %q", dist.Tarball, want)
	}
	tgz := s.do(http.MethodGet, "/repository/npm-hosted/@e2e/lib/-/lib-1.1.0.tgz", dev, nil, nil)
	if want := npmDist(registry, v11.name, v11.tarballName(), tgz.body)["integrity"]; tgz.status != http.StatusOK || dist.Integrity != want {
		t.Errorf("dist.integrity %q; the tarball (status %d) has %q", dist.Integrity, tgz.status, want)
	}

	// dist-tags.
	e.mustRun(e.dir, "dist-tag", "add", "@e2e/lib@1.0.0", "stable")
	tags := e.mustRun(e.dir, "dist-tag", "ls", "@e2e/lib")
	for _, want := range []string{"latest: 1.1.0", "stable: 1.0.0"} {
		if !strings.Contains(tags, want) {
			t.Errorf("npm dist-tag ls: no %q in\n%s", want, tags)
		}
	}
	e.mustRun(e.dir, "dist-tag", "rm", "@e2e/lib", "stable")
	if tags := e.mustRun(e.dir, "dist-tag", "ls", "@e2e/lib"); strings.Contains(tags, "stable") {
		t.Errorf("npm dist-tag ls after rm still lists stable:\n%s", tags)
	}

	// deprecate, seen by npm view.
	e.mustRun(e.dir, "deprecate", "@e2e/lib@1.0.0", "use 1.1.0")
	var deprecated string
	e.viewJSON(&deprecated, "@e2e/lib@1.0.0", "deprecated")
	if deprecated != "use 1.1.0" {
		t.Errorf("npm view deprecated: %q, want %q", deprecated, "use 1.1.0")
	}

	// unpublish of one version: the other stays, its tarball too.
	e.mustRun(e.dir, "unpublish", "@e2e/lib@1.0.0")
	var versions []string
	e.viewJSON(&versions, "@e2e/lib", "versions")
	if !slices.Equal(versions, []string{"1.1.0"}) {
		t.Errorf("versions after unpublishing 1.0.0: %q, want [1.1.0]", versions)
	}
	if res := s.do(http.MethodGet, tarballPath, dev, nil, nil); res.status != http.StatusNotFound {
		t.Errorf("GET %s after its unpublish: %d, want 404", tarballPath, res.status)
	}
	if res := s.do(http.MethodGet, "/repository/npm-hosted/@e2e/lib/-/lib-1.1.0.tgz", dev, nil, nil); res.status != http.StatusOK {
		t.Errorf("the tarball of 1.1.0 after unpublishing 1.0.0: %d, want 200", res.status)
	}

	// Tokens: both logins' and one created, listed by key (npm shows
	// none in full); the legacy login's revoked answers 401 from then on.
	tokenOf := func(out string) string { // of npm token create --parseable
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, "token\t"); ok {
				return v
			}
		}
		t.Fatalf("npm token create: no token in\n%s", out)
		return ""
	}
	createdToken := tokenOf(e.mustRun(e.dir, "token", "create", "--password", dev.pass, "--parseable"))
	if !strings.HasPrefix(createdToken, "npm_") || whoamiStatus(t, registry, createdToken) != http.StatusOK {
		t.Fatalf("npm token create: %q does not work", createdToken)
	}
	var list []npmTokenEntry
	listText := e.runJSON(&list, "token", "list", "--json")
	keys := map[string]bool{}
	for _, tok := range list {
		keys[tok.Key] = true
		if strings.Contains(listText, token) || strings.Contains(listText, createdToken) || len(tok.Token) >= 20 {
			t.Errorf("npm token list shows a whole token: %+v", tok)
		}
	}
	for what, tok := range map[string]string{"login": token, "legacy login": legacy.token(), "created": createdToken} {
		if !keys[npmTokenKey(tok)] {
			t.Errorf("npm token list: the %s token (key %.12s…) missing from %+v", what, npmTokenKey(tok), list)
		}
	}
	legacyToken := legacy.token()
	if whoamiStatus(t, registry, legacyToken) != http.StatusOK {
		t.Fatalf("the legacy login's token does not work before its revocation")
	}
	e.mustRun(e.dir, "token", "revoke", npmTokenKey(legacyToken)[:12])
	if got := whoamiStatus(t, registry, legacyToken); got != http.StatusUnauthorized {
		t.Errorf("whoami with a revoked token: %d, want 401", got)
	}
	legacy.mustFail(legacy.dir, npmStatus(http.StatusUnauthorized), "whoami")
	if got := whoamiStatus(t, registry, token); got != http.StatusOK {
		t.Errorf("revoking one token broke another: whoami %d", got)
	}
	// A frozen server stores no token: npm token create fails with 503.
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/read-only/freeze", s.admin(), nil, nil)
	e.mustFail(e.dir, npmStatus(http.StatusServiceUnavailable), "token", "create", "--password", dev.pass)
	s.mustJSON(http.StatusNoContent, http.MethodPost, "/v1/read-only/release", s.admin(), nil, nil)

	// A read-only token reads but does not publish; a token bound to
	// other addresses does nothing from 127.0.0.1. (npm 11 sends nothing
	// for --read-only: the permission is how it asks.)
	readOnly := tokenOf(e.mustRun(e.dir, "token", "create", "--password", dev.pass,
		"--packages-and-scopes-permission", "read-only", "--parseable"))
	if res := npmDo(t, http.MethodGet, registry+npmEscape(v11.name), bearer(readOnly), nil, nil); res.status != http.StatusOK {
		t.Errorf("GET with a read-only token: %d, want 200", res.status)
	}
	ro := npmPkg{name: v1.name, version: "1.2.0"}
	if res := npmDo(t, http.MethodPut, registry+npmEscape(ro.name), bearer(readOnly), ro.publishBody(registry), nil); res.status != http.StatusForbidden {
		t.Errorf("publish with a read-only token: %d, want 403: %s", res.status, res.body)
	}
	elsewhere := tokenOf(e.mustRun(e.dir, "token", "create", "--password", dev.pass, "--cidr", "192.0.2.0/24", "--parseable"))
	if got := whoamiStatus(t, registry, elsewhere); got != http.StatusUnauthorized {
		t.Errorf("whoami from 127.0.0.1 with a token for 192.0.2.0/24: %d, want 401", got)
	}

	// The registry's other endpoints npm uses: ping, search, and the
	// audit of an install (a hosted repository has no advisories).
	e.mustRun(e.dir, "ping")
	var found []struct{ Name, Version string }
	e.runJSON(&found, "search", "--json", "@e2e/lib")
	if len(found) != 1 || found[0].Name != "@e2e/lib" || found[0].Version != "1.1.0" {
		t.Errorf("npm search @e2e/lib: %+v, want @e2e/lib 1.1.0", found)
	}
	proj := e.project("app", map[string]string{"@e2e/lib": "^1.0.0"})
	if out := e.mustRun(proj, "install", "--no-fund"); !strings.Contains(out, "found 0 vulnerabilities") {
		t.Errorf("npm install with its audit: no audit result in\n%s", out)
	}

	// logout revokes the token it used and drops it from .npmrc.
	e.mustRun(e.dir, "logout")
	if e.token() != "" {
		t.Errorf("npm logout left the token in .npmrc")
	}
	if got := whoamiStatus(t, registry, token); got != http.StatusUnauthorized {
		t.Errorf("whoami with the token of a logout: %d, want 401", got)
	}
	if got := whoamiStatus(t, registry, createdToken); got != http.StatusOK {
		t.Errorf("a logout revoked another token too: whoami %d", got)
	}
}

// npmGroupSetup is a server with npm-hosted, npm-proxy (of upstream) and
// npm-group (hosted, then proxy), and a user who may use them.
func npmGroupSetup(t *testing.T, upstream string) (*nexusServer, *creds) {
	t.Helper()
	s := startServer(t)
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-hosted", "allow_once"))
	s.createRepoOf("npm", "proxy", npmProxyJSON("npm-proxy", upstream))
	s.createRepoOf("npm", "group", npmGroupJSON("npm-group", "npm-hosted", "npm-proxy"))
	return s, s.createNpmUser("dev", "dev-password-1")
}

// npmPublisher is an npm that publishes to a repository with Basic
// credentials (_auth in .npmrc).
func npmPublisher(t *testing.T, s *nexusServer, repo string, c *creds) *npmEnv {
	t.Helper()
	e := newNpmEnv(t, s.npmRepoURL(repo))
	e.setAuth(c)
	return e
}

// TestNpmGroupInstall: a project on a private scoped package (hosted) and
// on a public one with a dependency (Verdaccio, through the proxy)
// installs through the group URL with empty caches, with npm and pnpm;
// the lockfile names the group. With Verdaccio stopped, a fresh install
// (no cache, no node_modules, no lockfile) succeeds from the proxy's cache.
func TestNpmGroupInstall(t *testing.T) {
	up := startVerdaccio(t, "")
	up.publish(npmPkg{name: "upstream-dep", version: "1.0.0"})
	up.publish(npmPkg{name: "upstream-dep", version: "1.2.0"})
	up.publish(npmPkg{name: "upstream-only", version: "2.0.0", deps: map[string]string{"upstream-dep": "^1.0.0"}})
	s, dev := npmGroupSetup(t, up.base)
	pub := npmPublisher(t, s, "npm-hosted", dev)
	pub.mustRun(npmPkg{name: "@e2e/private", version: "1.0.0"}.write(t, pub.dir), "publish")

	group := s.npmRepoURL("npm-group")
	e := newNpmEnv(t, group)
	if out, ok := e.login(dev); !ok {
		t.Fatalf("npm login at the group:\n%s", out)
	}
	deps := map[string]string{"@e2e/private": "^1.0.0", "upstream-only": "^2.0.0"}
	want := map[string]string{"@e2e/private": "1.0.0", "upstream-only": "2.0.0", "upstream-dep": "1.2.0"}
	// pnpm links only direct dependencies into node_modules; the others
	// are in its virtual store, node_modules/.pnpm.
	check := func(client, dir string) {
		t.Helper()
		for name, v := range want {
			at := name
			if _, direct := deps[name]; !direct && strings.HasPrefix(client, "pnpm") {
				at = filepath.Join(".pnpm", strings.ReplaceAll(name, "/", "+")+"@"+v, "node_modules", name)
			}
			if got := installedVersion(t, dir, at); got != v {
				t.Errorf("%s: node_modules/%s is %q, want %s", client, at, got, v)
			}
		}
	}
	proj := e.project("app", deps)
	e.mustRun(proj, "install", "--no-audit", "--no-fund")
	check("npm install", proj)
	resolved := lockResolved(t, proj)
	if len(resolved) != len(want) {
		t.Errorf("package-lock.json: %d packages, want %d: %v", len(resolved), len(want), resolved)
	}
	for p, u := range resolved {
		name := strings.TrimPrefix(p, "node_modules/")
		file := name[strings.LastIndex(name, "/")+1:] + "-" + want[name] + ".tgz"
		if u != group+name+"/-/"+file {
			t.Errorf("package-lock.json: %s resolved at %q, want %q", p, u, group+name+"/-/"+file)
		}
	}

	pproj := e.project("app-pnpm", deps)
	if out, ok := e.pnpm(pproj, "install"); !ok {
		t.Fatalf("pnpm install through the group:\n%s", out)
	}
	check("pnpm install", pproj)

	// The upstream goes away: the proxy's cache serves a fresh install,
	// and its audit (the group's answer, with the upstream unreachable)
	// does not break it.
	up.stop()
	e.emptyCache()
	removeAll(t, proj, "node_modules", "package-lock.json")
	if out := e.mustRun(proj, "install", "--no-fund"); !strings.Contains(out, "found 0 vulnerabilities") {
		t.Errorf("npm install with the upstream stopped: no audit result in\n%s", out)
	}
	check("npm install with the upstream stopped", proj)
	removeAll(t, pproj, "node_modules", "pnpm-lock.yaml")
	if out, ok := e.pnpm(pproj, "install"); !ok {
		t.Fatalf("pnpm install with the upstream stopped:\n%s", out)
	}
	check("pnpm install with the upstream stopped", pproj)
}

// TestNpmDependencyConfusion: a hosted foo@1.0.0 and an upstream
// foo@2.0.0: a group serves only the hosted versions, whatever the member
// order, unless its npm settings say to merge.
func TestNpmDependencyConfusion(t *testing.T) {
	up := startVerdaccio(t, "")
	up.publish(npmPkg{name: "foo", version: "2.0.0"})
	s, dev := npmGroupSetup(t, up.base)
	s.createRepoOf("npm", "group", npmGroupJSON("npm-proxy-first", "npm-proxy", "npm-hosted"))
	s.createRepoOf("npm", "group", strings.Replace(npmGroupJSON("npm-merged", "npm-hosted", "npm-proxy"),
		`"group":`, `"npm":{"mergeProxiedVersions":true},"group":`, 1))
	pub := npmPublisher(t, s, "npm-hosted", dev)
	pub.mustRun(npmPkg{name: "foo", version: "1.0.0"}.write(t, pub.dir), "publish")

	versions := func(repo string) []string {
		t.Helper()
		e := newNpmEnv(t, s.npmRepoURL(repo))
		e.setAuth(dev)
		var vs []string
		e.viewJSON(&vs, "foo", "versions")
		return vs
	}
	// The proxy itself sees the upstream's foo: the group below has a
	// version to leave out.
	if got := versions("npm-proxy"); !slices.Equal(got, []string{"2.0.0"}) {
		t.Fatalf("foo's versions through the proxy: %q, want [2.0.0]", got)
	}
	for _, g := range []string{"npm-group", "npm-proxy-first"} {
		if got := versions(g); !slices.Equal(got, []string{"1.0.0"}) {
			t.Errorf("foo's versions through %s: %q, want only the hosted [1.0.0]", g, got)
		}
		e := newNpmEnv(t, s.npmRepoURL(g))
		e.setAuth(dev)
		proj := e.project("app", map[string]string{"foo": "*"})
		e.mustRun(proj, "install", "--no-audit", "--no-fund")
		if got := installedVersion(t, proj, "foo"); got != "1.0.0" {
			t.Errorf("npm install foo through %s: %q, want 1.0.0", g, got)
		}
		e.mustFail(e.project("app2", map[string]string{"foo": "^2.0.0"}), "ETARGET", "install", "--no-audit", "--no-fund")
	}
	if got := versions("npm-merged"); !slices.Equal(got, []string{"1.0.0", "2.0.0"}) {
		t.Errorf("foo's versions through a group merging proxied versions: %q, want [1.0.0 2.0.0]", got)
	}
}

// TestNpmConcurrentPublish: versions of one package published at once all
// land: two npm publish processes, then eight publishes over HTTP.
func TestNpmConcurrentPublish(t *testing.T) {
	s := startServer(t)
	s.createRepoOf("npm", "hosted", npmHostedJSON("npm-hosted", "allow_once"))
	dev := s.createNpmUser("dev", "dev-password-1")
	e := npmPublisher(t, s, "npm-hosted", dev)
	registry := s.npmRepoURL("npm-hosted")

	var want []string
	var wg sync.WaitGroup
	outs := make([]string, 2)
	oks := make([]bool, 2)
	// npm refuses to tag latest a version below the highest it sees: the
	// lower one has its own tag, whichever lands first.
	for i, v := range []string{"1.0.0", "1.1.0"} {
		want = append(want, v)
		dir := npmPkg{name: "@e2e/both", version: v}.write(t, e.dir)
		args := []string{"publish"}
		if i == 0 {
			args = append(args, "--tag", "first")
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], oks[i] = e.run(dir, args...)
		}()
	}
	wg.Wait()
	for i := range outs {
		if !oks[i] {
			t.Errorf("concurrent npm publish of %s failed:\n%s", want[i], outs[i])
		}
	}

	versions := make([]string, 8)
	for i := range versions {
		versions[i] = fmt.Sprintf("2.0.%d", i)
	}
	if _, err := parallel(len(versions), func(i int) error {
		p := npmPkg{name: "@e2e/both", version: versions[i]}
		res, err := npmSend(http.MethodPut, registry+npmEscape(p.name), basic(dev), p.publishBody(registry), nil)
		if err != nil {
			return err
		}
		if res.status/100 != 2 {
			return fmt.Errorf("PUT of %s: %d %s", p.version, res.status, res.body)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
	want = append(want, versions...)

	var got []string
	e.viewJSON(&got, "@e2e/both", "versions")
	if !slices.Equal(got, want) {
		t.Errorf("versions after concurrent publishes: %q, want %q", got, want)
	}
	for _, v := range want {
		p := "/repository/npm-hosted/@e2e/both/-/both-" + v + ".tgz"
		if res := s.do(http.MethodGet, p, dev, nil, nil); res.status != http.StatusOK {
			t.Errorf("GET %s: %d", p, res.status)
		}
	}
}
