package main

// Fixtures of the npm end-to-end tests and benchmarks: the npm
// repositories of a server, Verdaccio (a third-party registry: upstream and
// peer) on a free port of 127.0.0.1, and npm and pnpm runs with a home, user
// configuration and cache of their own. The packages they publish and
// install are made in npm_wire_test.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// npmRunTimeout bounds every npm or pnpm run.
const npmRunTimeout = 3 * time.Minute

// npmHostedJSON is a hosted npm repository (Nexus's REST shape).
func npmHostedJSON(name, writePolicy string) string {
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":%q}}`, name, writePolicy)
}

// npmProxyJSON is a proxy of remote: tarballs cached for ever, packuments
// for a day, so that nothing revalidates during a test.
func npmProxyJSON(name, remote string) string {
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true},`+
		`"proxy":{"remoteUrl":%q,"contentMaxAge":-1,"metadataMaxAge":1440},`+
		`"negativeCache":{"enabled":true,"timeToLive":1440},`+
		`"httpClient":{"blocked":false,"autoBlock":false}}`, name, remote)
}

func npmGroupJSON(name string, members ...string) string {
	quoted, _ := json.Marshal(members)
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true},`+
		`"group":{"memberNames":%s}}`, name, quoted)
}

// npmRepoURL is the registry URL of a repository, as .npmrc names it.
func (s *nexusServer) npmRepoURL(repo string) string {
	return s.url("/repository/" + repo + "/")
}

// createNpmUser creates a user who may do everything with npm
// repositories (and nothing else) and returns its credentials.
func (s *nexusServer) createNpmUser(id, password string) *creds {
	s.t.Helper()
	s.createRole("npm-dev-"+id, "nx-repository-view-npm-*-*")
	s.createUser(id, password, "npm-dev-"+id)
	return &creds{id, password}
}

// verdaccio is one Verdaccio process with its storage and configuration in
// a temp dir.
type verdaccio struct {
	t     testing.TB
	dir   string
	base  string // "http://127.0.0.1:<port>/"
	cmd   *exec.Cmd
	done  chan struct{}
	logs  *logBuffer
	token string // of the user "e2e", who publishes
}

// verdaccioConfig is Verdaccio's configuration: packages readable by all,
// published by users. With an uplink, every package but the @private scope
// is proxied from it, packuments cached for a day (as the tests' proxies
// do); without, all are local. Verdaccio's plugins that call out (audit)
// are not configured.
func verdaccioConfig(dir, uplink string) string {
	const rule = "    access: $all\n    publish: $authenticated\n    unpublish: $authenticated\n"
	up, packages := "uplinks: {}\n", "  '**':\n"+rule
	if uplink != "" {
		up = fmt.Sprintf("uplinks:\n  up:\n    url: %s\n    maxage: 24h\n    timeout: 30s\n    cache: true\n", uplink)
		packages = "  '@private/*':\n" + rule + "  '**':\n" + rule + "    proxy: up\n"
	}
	return fmt.Sprintf(`storage: %s
auth:
  htpasswd:
    file: %s
    max_users: 1000
%spackages:
%sweb:
  enable: false
max_body_size: 100mb
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: warn }
`, filepath.Join(dir, "storage"), filepath.Join(dir, "htpasswd"), up, packages)
}

// startVerdaccio runs Verdaccio (NEXUS_GO_VERDACCIO) until t ends and
// creates the user "e2e"; uplink, if set, is the registry it proxies.
func startVerdaccio(t testing.TB, uplink string) *verdaccio {
	t.Helper()
	bin := e2eTool(t, "NEXUS_GO_VERDACCIO", "Verdaccio")
	v := &verdaccio{t: t, dir: t.TempDir(), logs: &logBuffer{}}
	config := filepath.Join(v.dir, "config.yaml")
	if err := os.WriteFile(config, []byte(verdaccioConfig(v.dir, uplink)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		v.stop()
		if t.Failed() {
			t.Logf("Verdaccio output (%s):\n%s", v.dir, conformanceTail(v.logs.String(), 32<<10))
		}
	})
	for attempt := 0; attempt < 3; attempt++ {
		host := "127.0.0.1:" + strconv.Itoa(testproc.FreePort(t))
		v.base = "http://" + host + "/"
		fmt.Fprintf(v.logs, "=== launch %d on %s\n", attempt, host)
		v.cmd = exec.Command(bin, "--config", config, "--listen", host)
		v.cmd.Dir, v.cmd.Env = v.dir, clientEnv()
		v.cmd.Stdout, v.cmd.Stderr = v.logs, v.logs
		if err := v.cmd.Start(); err != nil {
			t.Fatalf("starting Verdaccio: %v", err)
		}
		v.done = make(chan struct{})
		go func(cmd *exec.Cmd, done chan struct{}) {
			cmd.Wait()
			close(done)
		}(v.cmd, v.done)
		if v.waitReady() {
			v.token = v.addUser("e2e", "e2e-password")
			return v
		}
		v.stop()
		if !strings.Contains(v.logs.String(), "EADDRINUSE") {
			t.Fatalf("Verdaccio did not answer /-/ping on %s:\n%s", host, v.logs.String())
		}
	}
	t.Fatalf("Verdaccio could not get a free port")
	return nil
}

func (v *verdaccio) waitReady() bool {
	c := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < 300; i++ {
		select {
		case <-v.done:
			return false
		default:
		}
		if resp, err := c.Get(v.base + "-/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// stop ends the process (SIGTERM, then SIGKILL after 10s); from then on
// every request to it fails.
func (v *verdaccio) stop() {
	if v.done == nil {
		return
	}
	select {
	case <-v.done:
		return
	default:
	}
	v.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-v.done:
	case <-time.After(10 * time.Second):
		v.cmd.Process.Kill()
		<-v.done
	}
}

func (v *verdaccio) pid() int { return v.cmd.Process.Pid }

// addUser creates a user and returns its token.
func (v *verdaccio) addUser(name, password string) string {
	v.t.Helper()
	return couchLogin(v.t, v.base, &creds{name, password})
}

// publish PUTs the publish body of a generated package as the user e2e.
func (v *verdaccio) publish(p npmPkg) {
	v.t.Helper()
	res := npmDo(v.t, http.MethodPut, v.base+npmEscape(p.name), bearer(v.token), p.publishBody(v.base), nil)
	if res.status/100 != 2 {
		v.t.Fatalf("publishing %s@%s to Verdaccio: status %d: %s", p.name, p.version, res.status, res.body)
	}
}

// npmEnv runs npm and pnpm as a user of one registry, with a home, a user
// configuration and a cache of its own in a temp dir.
type npmEnv struct {
	t          testing.TB
	npm        string
	dir        string
	home       string
	userconfig string
	cache      string
	registry   string
}

func newNpmEnv(t testing.TB, registry string) *npmEnv {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err != nil {
		e2eClientMissing(t, "npm")
	}
	e := &npmEnv{t: t, npm: npm, dir: t.TempDir(), registry: registry}
	e.home = filepath.Join(e.dir, "home")
	e.userconfig = filepath.Join(e.home, ".npmrc") // where pnpm looks too
	e.cache = filepath.Join(e.dir, "cache")
	if err := os.MkdirAll(e.home, 0o755); err != nil {
		t.Fatal(err)
	}
	// No update check (it would ask the registry for npm itself).
	if err := os.WriteFile(e.userconfig, []byte("registry="+registry+"\nupdate-notifier=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// env is the environment of npm and pnpm: none of the caller's npm
// settings, the home of e.
func (e *npmEnv) env() []string {
	var env []string
	for _, kv := range clientEnv() {
		k, _, _ := strings.Cut(kv, "=")
		switch lk := strings.ToLower(k); {
		case k == "HOME", k == "NODE_OPTIONS", strings.HasPrefix(lk, "npm_config_"), strings.HasPrefix(k, "PNPM_"),
			strings.HasPrefix(k, "XDG_"), lk == "http_proxy", lk == "https_proxy", lk == "all_proxy":
			continue
		}
		env = append(env, kv)
	}
	// A dead proxy for all but 127.0.0.1 (clientEnv's NO_PROXY): nothing
	// reaches another host.
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		env = append(env, k+"=http://127.0.0.1:9")
	}
	return append(env, "HOME="+e.home, "npm_config_userconfig="+e.userconfig,
		"XDG_CONFIG_HOME="+filepath.Join(e.home, ".config"), "XDG_CACHE_HOME="+filepath.Join(e.home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(e.home, ".local", "share"))
}

// args are npm's arguments for one run against e's registry.
func (e *npmEnv) args(args []string) []string {
	return append(args, "--registry", e.registry, "--userconfig", e.userconfig, "--cache", e.cache)
}

// run runs npm in dir (bounded in time) and returns its output and
// whether it succeeded.
func (e *npmEnv) run(dir string, args ...string) (string, bool) {
	e.t.Helper()
	stdout, stderr, ok := e.exec(dir, e.npm, e.args(args))
	return stdout + stderr, ok
}

// exec runs bin in dir and returns what it wrote to stdout and stderr.
func (e *npmEnv) exec(dir, bin string, args []string) (string, string, bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), npmRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, e.env(), &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		fmt.Fprintf(&stderr, "\n%s timed out after %v", filepath.Base(bin), npmRunTimeout)
	}
	return stdout.String(), stderr.String(), err == nil
}

// mustRun is run that requires success.
func (e *npmEnv) mustRun(dir string, args ...string) string {
	e.t.Helper()
	out, ok := e.run(dir, args...)
	if !ok {
		e.t.Fatalf("npm %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// mustFail is run that requires failure, with want in the output (such
// as the status the server answered). A failure is not retried.
func (e *npmEnv) mustFail(dir, want string, args ...string) string {
	e.t.Helper()
	out, ok := e.run(dir, append(args, "--fetch-retries=0")...)
	if ok {
		e.t.Fatalf("npm %s succeeded, want a failure:\n%s", strings.Join(args, " "), out)
	}
	if !strings.Contains(out, want) {
		e.t.Errorf("npm %s failed without %q in its output:\n%s", strings.Join(args, " "), want, out)
	}
	return out
}

// pnpm runs pnpm in dir with a store of e's (bounded in time).
func (e *npmEnv) pnpm(dir string, args ...string) (string, bool) {
	e.t.Helper()
	bin := e2eTool(e.t, "NEXUS_GO_PNPM", "pnpm")
	stdout, stderr, ok := e.exec(dir, bin, append(args, "--registry", e.registry, "--store-dir", filepath.Join(e.dir, "pnpm-store"),
		"--config.cache-dir="+filepath.Join(e.dir, "pnpm-cache"), "--config.update-notifier=false"))
	return stdout + stderr, ok
}

// login runs npm login --auth-type=legacy with args and answers its
// prompts (npm reads each prompt's answer afresh from stdin, so they are
// written one at a time, when asked) and returns npm's output and whether
// it succeeded.
func (e *npmEnv) login(c *creds, args ...string) (string, bool) {
	e.t.Helper()
	answers := []struct{ prompt, answer string }{{"Username: ", c.user}, {"Password: ", c.pass}}
	return e.runLogin(append([]string{"--auth-type=legacy"}, args...), func(out []byte, stdin io.WriteCloser) {
		if len(answers) > 0 && bytes.HasSuffix(out, []byte(answers[0].prompt)) {
			io.WriteString(stdin, answers[0].answer+"\n")
			answers = answers[1:]
			if len(answers) == 0 {
				stdin.Close()
			}
		}
	})
}

// npmLoginURL is the line npm's web login prints for the browser.
var npmLoginURL = regexp.MustCompile(`(https?://\S+/ui/npm-login/\S+)\n`)

// webLogin runs npm login in its default, web, flow and hands the login
// URL npm prints to approve, which signs in and approves it in a browser
// while npm polls for its token.
func (e *npmEnv) webLogin(approve func(loginURL string)) (string, bool) {
	e.t.Helper()
	seen := false
	return e.runLogin(nil, func(out []byte, stdin io.WriteCloser) {
		if m := npmLoginURL.FindSubmatch(out); m != nil && !seen {
			seen = true
			stdin.Close()
			approve(string(m[1]))
		}
	})
}

// runLogin runs npm login with args, calling answer with the output so
// far after each byte of it, and returns the output and whether npm
// succeeded.
func (e *npmEnv) runLogin(args []string, answer func(out []byte, stdin io.WriteCloser)) (string, bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), npmRunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.npm, e.args(append([]string{"login"}, args...))...)
	cmd.Dir, cmd.Env = e.dir, e.env()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	var stderr logBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var out bytes.Buffer
	r := bufio.NewReader(stdout)
	for {
		b, err := r.ReadByte()
		if err != nil {
			break
		}
		out.WriteByte(b)
		answer(out.Bytes(), stdin)
	}
	stdin.Close()
	err = cmd.Wait()
	if ctx.Err() != nil {
		fmt.Fprintf(&out, "\nnpm login timed out after %v", npmRunTimeout)
	}
	return out.String() + stderr.String(), err == nil
}

// npmrcKey is the .npmrc key prefix of the registry's credentials
// ("//127.0.0.1:port/repository/x/:").
func (e *npmEnv) npmrcKey() string {
	return strings.TrimPrefix(strings.TrimPrefix(e.registry, "http:"), "https:") + ":"
}

// token is the _authToken .npmrc holds for the registry, or "".
func (e *npmEnv) token() string {
	e.t.Helper()
	b, err := os.ReadFile(e.userconfig)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), e.npmrcKey()+"_authToken="); ok {
			return v
		}
	}
	return ""
}

// setToken writes the registry's token into .npmrc, as npm login does.
func (e *npmEnv) setToken(token string) { e.addConfig("_authToken=" + token) }

// setAuth writes Basic credentials for the registry into .npmrc (_auth).
func (e *npmEnv) setAuth(c *creds) {
	e.addConfig("_auth=" + base64.StdEncoding.EncodeToString([]byte(c.user+":"+c.pass)))
}

func (e *npmEnv) addConfig(line string) {
	e.t.Helper()
	f, err := os.OpenFile(e.userconfig, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "%s%s\n", e.npmrcKey(), line); err != nil {
		e.t.Fatal(err)
	}
}

// runJSON runs npm with args, which must succeed, decodes what it prints
// into out and returns it.
func (e *npmEnv) runJSON(out any, args ...string) string {
	e.t.Helper()
	stdout, stderr, ok := e.exec(e.dir, e.npm, e.args(args))
	if !ok {
		e.t.Fatalf("npm %s failed:\n%s%s", strings.Join(args, " "), stdout, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), out); err != nil {
		e.t.Fatalf("npm %s: %v:\n%s%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// viewJSON runs npm view --json with args.
func (e *npmEnv) viewJSON(out any, args ...string) {
	e.t.Helper()
	e.runJSON(out, append([]string{"view", "--json"}, args...)...)
}

// emptyCache removes npm's cache (and pnpm's store).
func (e *npmEnv) emptyCache() {
	e.t.Helper()
	for _, d := range []string{e.cache, filepath.Join(e.dir, "pnpm-store"), filepath.Join(e.dir, "pnpm-cache")} {
		if err := os.RemoveAll(d); err != nil {
			e.t.Fatal(err)
		}
	}
}

// project writes a project folder depending on deps and returns it.
func (e *npmEnv) project(name string, deps map[string]string) string {
	e.t.Helper()
	dir := filepath.Join(e.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	pj, _ := json.MarshalIndent(map[string]any{"name": name, "version": "1.0.0", "private": true, "dependencies": deps}, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "package.json"), pj, 0o644); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

// lockResolved returns, by package path ("node_modules/x"), the resolved
// URLs of package-lock.json in dir.
func lockResolved(t testing.TB, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version  string `json:"version"`
			Resolved string `json:"resolved"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatalf("package-lock.json: %v", err)
	}
	out := map[string]string{}
	for p, v := range lock.Packages {
		if p != "" {
			out[p] = v.Resolved
		}
	}
	return out
}

// installedVersion is the version of node_modules/<name> in dir, or "".
func installedVersion(t testing.TB, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", name, "package.json"))
	if err != nil {
		return ""
	}
	var pj struct{ Version string }
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatalf("node_modules/%s/package.json: %v", name, err)
	}
	return pj.Version
}

// removeAll removes the paths under dir.
func removeAll(t testing.TB, dir string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNpmFixtures runs the clients straight against Verdaccio, no server
// between: npm login as npm does it by default (web login refused, then
// the prompts), npm publish, and installs with npm and pnpm of a project
// on a published package and on one PUT in the wire format. A failure
// here is the fixture's, not the server's.
func TestNpmFixtures(t *testing.T) {
	v := startVerdaccio(t, "")
	e := newNpmEnv(t, v.base)
	if out, ok := e.login(&creds{"fixture", "fixture-password"}); !ok || e.token() == "" {
		t.Fatalf("npm login: ok %t, token %q:\n%s", ok, e.token(), out)
	}
	lib := npmPkg{name: "@fixture/lib", version: "1.0.0"}
	e.mustRun(lib.write(t, e.dir), "publish")
	v.publish(npmPkg{name: "dep-of-wire", version: "2.0.0"})
	v.publish(npmPkg{name: "wire", version: "1.2.3", deps: map[string]string{"dep-of-wire": "^2.0.0"}})
	deps := map[string]string{"@fixture/lib": "^1.0.0", "wire": "1.2.3"}

	proj := e.project("app", deps)
	e.mustRun(proj, "install", "--no-audit", "--no-fund")
	for name, want := range map[string]string{"@fixture/lib": "1.0.0", "wire": "1.2.3", "dep-of-wire": "2.0.0"} {
		if got := installedVersion(t, proj, name); got != want {
			t.Errorf("npm install: %s is %q, want %s", name, got, want)
		}
	}
	for p, u := range lockResolved(t, proj) {
		if !strings.HasPrefix(u, v.base) {
			t.Errorf("package-lock.json: %s resolved at %q, not under %s", p, u, v.base)
		}
	}

	e.emptyCache()
	pproj := e.project("app-pnpm", deps)
	if out, ok := e.pnpm(pproj, "install"); !ok {
		t.Fatalf("pnpm install:\n%s", out)
	}
	if got := installedVersion(t, pproj, "wire"); got != "1.2.3" {
		t.Errorf("pnpm install: wire is %q, want 1.2.3", got)
	}
}
