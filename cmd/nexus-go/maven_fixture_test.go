package main

// Fixtures of the Maven end-to-end tests and benchmarks: the upstream
// "central" (Debian's Maven repository served in-process), the Maven
// repositories of a server, the test projects under testdata/maven and a
// real mvn run against them.

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// debianMavenRepo is where Debian's Maven packages (see the Makefile's
// test-deps) put a Maven-layout repository: the upstream of the tests.
const debianMavenRepo = "/usr/share/maven-repo"

// mavenUpstream is an in-process static file server over a Maven-layout
// folder on 127.0.0.1, counting the requests it serves.
type mavenUpstream struct {
	srv  *httptest.Server
	hits atomic.Int64
}

func startMavenUpstream(t testing.TB, dir string) *mavenUpstream {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "junit")); err != nil {
		e2eClientMissing(t, "Debian's Maven repository at "+dir)
	}
	u := &mavenUpstream{}
	files := http.FileServer(http.Dir(dir))
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *mavenUpstream) url() string { return u.srv.URL + "/" }

// stop closes the listener: from now on every upstream request fails.
func (u *mavenUpstream) stop() { u.srv.Close() }

// mavenJSON is the configuration of a Maven repository of kind hosted,
// proxy or group; extra holds the blocks of the kind (proxy, group...).
func mavenJSON(name, writePolicy, versionPolicy, layoutPolicy string, strict bool, extra string) string {
	wp := ""
	if writePolicy != "" {
		wp = fmt.Sprintf(`,"writePolicy":%q`, writePolicy)
	}
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":%t%s},`+
		`"maven":{"versionPolicy":%q,"layoutPolicy":%q,"contentDisposition":"INLINE"}%s}`,
		name, strict, wp, versionPolicy, layoutPolicy, extra)
}

func mavenHostedJSON(name, writePolicy, versionPolicy, layoutPolicy string) string {
	return mavenJSON(name, writePolicy, versionPolicy, layoutPolicy, true, "")
}

// mavenProxyJSON is a proxy of remote as the tests' central: artifacts
// cached for ever, metadata for a day.
func mavenProxyJSON(name, remote string, strict bool) string {
	return mavenJSON(name, "", "RELEASE", "PERMISSIVE", strict, fmt.Sprintf(`,`+
		`"proxy":{"remoteUrl":%q,"contentMaxAge":-1,"metadataMaxAge":1440},`+
		`"negativeCache":{"enabled":true,"timeToLive":1440},`+
		`"httpClient":{"blocked":false,"autoBlock":false}`, remote))
}

func mavenGroupJSON(name string, members ...string) string {
	quoted := make([]string, len(members))
	for i, m := range members {
		quoted[i] = fmt.Sprintf("%q", m)
	}
	return mavenJSON(name, "", "MIXED", "PERMISSIVE", true,
		`,"group":{"memberNames":[`+strings.Join(quoted, ",")+`]}`)
}

// setupMavenRepos creates the proxy maven-central of upstream and makes
// it the last member of the group maven-public, as the tests' central.
func setupMavenRepos(t testing.TB, s *nexusServer, upstream string) {
	t.Helper()
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/proxy", s.admin(),
		mavenProxyJSON("maven-central", upstream, true), nil)
	s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/maven/group/maven-public", s.admin(),
		mavenGroupJSON("maven-public", "maven-releases", "maven-snapshots", "maven-central"), nil)
}

// mavenEnv is what a real mvn run needs: the program, a settings file
// naming a mirror of everything (a server's group) and a work folder.
type mavenEnv struct {
	t        testing.TB
	s        *nexusServer
	mvn      string
	dir      string
	settings string
	home     string
}

// newMavenEnv mirrors everything to maven-public of s, with s's admin
// credentials for it and for the deploys.
func newMavenEnv(t testing.TB, s *nexusServer) *mavenEnv {
	t.Helper()
	return newMavenEnvMirror(t, s, s.url("/repository/maven-public/"))
}

// newMavenEnvMirror mirrors everything to mirror; s may be nil (no
// credentials, deploys to a folder).
func newMavenEnvMirror(t testing.TB, s *nexusServer, mirror string) *mavenEnv {
	t.Helper()
	mvn := e2eClient(t, "mvn")
	m := &mavenEnv{t: t, s: s, mvn: mvn, dir: t.TempDir()}
	m.home = filepath.Join(m.dir, "home")
	if err := os.MkdirAll(m.home, 0o755); err != nil {
		t.Fatal(err)
	}
	m.settings = filepath.Join(m.dir, "settings.xml")
	server := func(id string) string {
		if s == nil {
			return ""
		}
		return fmt.Sprintf("<server><id>%s</id><username>admin</username><password>%s</password></server>",
			id, xmlEscape(s.adminPW))
	}
	settings := `<?xml version="1.0" encoding="UTF-8"?>
<settings xmlns="http://maven.apache.org/SETTINGS/1.0.0">
  <mirrors>
    <mirror><id>nexus</id><mirrorOf>*</mirrorOf><url>` + mirror + `</url></mirror>
  </mirrors>
  <!-- The mirror takes central's policies, which refuse snapshots:
       central is redefined to allow them. -->
  <profiles><profile><id>snapshots</id>
    <repositories><repository><id>central</id><url>http://upstream.example/</url>
      <snapshots><enabled>true</enabled></snapshots></repository></repositories>
    <pluginRepositories><pluginRepository><id>central</id><url>http://upstream.example/</url>
      <snapshots><enabled>true</enabled></snapshots></pluginRepository></pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>snapshots</activeProfile></activeProfiles>
  <servers>` + server("nexus") + server("maven-releases") + server("maven-snapshots") + `</servers>
  <pluginGroups><pluginGroup>org.example.e2e.plugins</pluginGroup></pluginGroups>
</settings>
`
	if err := os.WriteFile(m.settings, []byte(settings), 0o600); err != nil {
		t.Fatal(err)
	}
	return m
}

var xmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace

// unfilled is a placeholder of the test projects left without a value.
var unfilled = regexp.MustCompile(`@[A-Z_]+@`)

// project copies testdata/maven/<name> to a new folder of the work
// folder, replacing @KEY@ by vars[KEY] in every file; @PLUGINS@ and
// @DISTRIBUTION@ are the shared pluginManagement and distributionManagement,
// the latter deploying to maven-releases and maven-snapshots unless
// RELEASES_URL or SNAPSHOTS_URL say otherwise.
func (m *mavenEnv) project(name, copyName string, vars map[string]string) string {
	m.t.Helper()
	src := filepath.Join("testdata", "maven")
	all := map[string]string{
		"RELEASES_URL":  "file://" + filepath.Join(m.dir, "deployed"),
		"SNAPSHOTS_URL": "file://" + filepath.Join(m.dir, "deployed"),
	}
	if m.s != nil {
		all["RELEASES_URL"] = m.s.url("/repository/maven-releases/")
		all["SNAPSHOTS_URL"] = m.s.url("/repository/maven-snapshots/")
	}
	for k, v := range vars {
		all[k] = v
	}
	// The shared parts go in first: they hold placeholders of their own.
	var shared []string
	for _, part := range []string{"PLUGINS", "DISTRIBUTION"} {
		b, err := os.ReadFile(filepath.Join(src, strings.ToLower(part)+".xml"))
		if err != nil {
			m.t.Fatal(err)
		}
		shared = append(shared, "@"+part+"@", string(b))
	}
	expand := strings.NewReplacer(shared...)
	var pairs []string
	for k, v := range all {
		pairs = append(pairs, "@"+k+"@", v)
	}
	fill := strings.NewReplacer(pairs...)
	dst := filepath.Join(m.dir, copyName)
	err := filepath.WalkDir(filepath.Join(src, name), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(src, name), p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out := fill.Replace(expand.Replace(string(b)))
		if unfilled.MatchString(out) {
			return fmt.Errorf("%s: %s not given", p, unfilled.FindString(out))
		}
		return os.WriteFile(filepath.Join(dst, rel), []byte(out), 0o644)
	})
	if err != nil {
		m.t.Fatalf("copying project %s: %v", name, err)
	}
	return dst
}

// localRepo returns a new, empty local repository folder.
func (m *mavenEnv) localRepo(name string) string {
	m.t.Helper()
	p := filepath.Join(m.dir, "m2-"+name)
	if err := os.RemoveAll(p); err != nil {
		m.t.Fatal(err)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		m.t.Fatal(err)
	}
	return p
}

// run runs mvn in project with the local repository repo (bounded in
// time) and returns its output and whether it succeeded.
func (m *mavenEnv) run(project, repo string, args ...string) (string, bool) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	all := append([]string{"--batch-mode", "--no-transfer-progress", "-Dstyle.color=never",
		"-s", m.settings, "-gs", m.settings, "-Dmaven.repo.local=" + repo}, args...)
	cmd := exec.CommandContext(ctx, m.mvn, all...)
	cmd.Dir = project
	var env []string
	for _, kv := range clientEnv() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || strings.HasPrefix(k, "MAVEN_") || k == "JAVA_TOOL_OPTIONS" {
			continue
		}
		env = append(env, kv)
	}
	// A small heap and the quick compiler only: mvn runs are short, and
	// the machine is shared.
	cmd.Env = append(env, "HOME="+m.home,
		"MAVEN_OPTS=-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		m.t.Fatalf("mvn %s in %s: timed out:\n%s", strings.Join(args, " "), project, mvnTail(out))
	}
	return string(out), err == nil
}

// mustRun is run that requires success.
func (m *mavenEnv) mustRun(project, repo string, args ...string) string {
	m.t.Helper()
	out, ok := m.run(project, repo, args...)
	if !ok {
		m.t.Fatalf("mvn %s in %s failed:\n%s", strings.Join(args, " "), filepath.Base(project), mvnTail([]byte(out)))
	}
	return out
}

// mustFail is run that requires failure, and that the output says why
// (want, such as the status the server answered).
func (m *mavenEnv) mustFail(project, repo, want string, args ...string) string {
	m.t.Helper()
	out, ok := m.run(project, repo, args...)
	if ok {
		m.t.Fatalf("mvn %s in %s succeeded, want a failure:\n%s", strings.Join(args, " "), filepath.Base(project), mvnTail([]byte(out)))
	}
	if !strings.Contains(out, want) {
		m.t.Errorf("mvn %s in %s failed without %q in its output:\n%s", strings.Join(args, " "), filepath.Base(project), want, mvnTail([]byte(out)))
	}
	return out
}

// mvnTail is the end of mvn's output, without the stack traces of
// Maven's checksum warnings.
func mvnTail(out []byte) string {
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "at ") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > 120 {
		keep = append([]string{"..."}, keep[len(keep)-120:]...)
	}
	return strings.Join(keep, "\n")
}

// zipEntry reads one file out of a jar.
func zipEntry(t testing.TB, jar, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(jar)
	if err != nil {
		t.Fatalf("opening %s: %v", jar, err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s in %s: %v", name, jar, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sha1Hex(b []byte) string {
	h := sha1.Sum(b)
	return hex.EncodeToString(h[:])
}

// mavenLocalFiles lists the Maven paths of the artifacts in a local
// repository: what mvn downloaded, without its own bookkeeping files.
func mavenLocalFiles(t testing.TB, repo string) []string {
	t.Helper()
	var out []string
	for rel := range filesUnder(t, repo) {
		base := filepath.Base(rel)
		if base == "_remote.repositories" || base == "resolver-status.properties" ||
			strings.HasSuffix(base, ".lastUpdated") || strings.HasPrefix(base, "maven-metadata-") {
			continue
		}
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

// TestMavenFixtures builds the test projects with mvn straight from the
// upstream, no server between: a failure here is the fixture's (a plugin
// version Debian no longer ships), not the server's.
func TestMavenFixtures(t *testing.T) {
	up := startMavenUpstream(t, debianMavenRepo)
	m := newMavenEnvMirror(t, nil, up.url())
	repo := m.localRepo("plain")
	lib := map[string]string{"VERSION": "1.0", "BUILD": "plain"}
	m.mustRun(m.project("lib", "lib", lib), repo, "install")
	// TestMavenBuilds redeploys a rebuild and needs the same bytes.
	m.mustRun(m.project("lib", "lib-again", lib), repo, "package")
	first, err := os.ReadFile(filepath.Join(m.dir, "lib", "target", "lib-1.0.jar"))
	if err != nil {
		t.Fatal(err)
	}
	if again, err := os.ReadFile(filepath.Join(m.dir, "lib-again", "target", "lib-1.0.jar")); err != nil || !bytes.Equal(first, again) {
		t.Errorf("two builds of lib made different jars (%v): the build is not reproducible", err)
	}
	m.mustRun(m.project("plugin", "plugin", nil), repo, "install")
	out := m.mustRun(m.project("app", "app", map[string]string{"LIB_VERSION": "1.0"}), repo, "package")
	if !strings.Contains(out, "Tests run: 1, Failures: 0") {
		t.Errorf("the app's test did not run:\n%s", mvnTail([]byte(out)))
	}
	if got := zipEntry(t, filepath.Join(repo, "org/example/e2e/lib/1.0/lib-1.0.jar"), "lib.properties"); got != "build=plain\n" {
		t.Errorf("lib.properties %q, want build=plain", got)
	}
}
