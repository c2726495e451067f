package main

// End-to-end tests of the Maven format with the real mvn: deploys into the
// hosted repositories through distributionManagement, builds resolving
// every plugin and dependency through the group (hosted members and a
// proxy of Debian's Maven repository), the write policies, the merged
// metadata, a plugin run by its prefix, builds from the proxy's cache once
// the upstream is gone, and all of it over a restart.

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// mavenMetadata is the part of maven-metadata.xml the tests read.
type mavenMetadata struct {
	GroupID    string `xml:"groupId"`
	ArtifactID string `xml:"artifactId"`
	Version    string `xml:"version"`
	Versioning struct {
		Latest   string   `xml:"latest"`
		Release  string   `xml:"release"`
		Versions []string `xml:"versions>version"`
		Snapshot struct {
			Timestamp   string `xml:"timestamp"`
			BuildNumber int    `xml:"buildNumber"`
		} `xml:"snapshot"`
		SnapshotVersions []struct {
			Classifier string `xml:"classifier"`
			Extension  string `xml:"extension"`
			Value      string `xml:"value"`
		} `xml:"snapshotVersions>snapshotVersion"`
	} `xml:"versioning"`
	Plugins []struct {
		Name       string `xml:"name"`
		Prefix     string `xml:"prefix"`
		ArtifactID string `xml:"artifactId"`
	} `xml:"plugins>plugin"`
}

// metadata fetches and parses a maven-metadata.xml as admin.
func metadata(t *testing.T, s *nexusServer, path string) (mavenMetadata, result) {
	t.Helper()
	res := s.do(http.MethodGet, path, s.admin(), nil, nil)
	if res.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.status, res.body)
	}
	var md mavenMetadata
	if err := xml.Unmarshal(res.body, &md); err != nil {
		t.Fatalf("GET %s: not metadata: %v\n%s", path, err, res.body)
	}
	return md, res
}

// readFile reads a file the test made (a built jar).
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	libPath    = "/org/example/e2e/lib"
	deployArgs = "-Dmaven.test.skip=true"
)

func TestMavenBuilds(t *testing.T) {
	up := startMavenUpstream(t, debianMavenRepo)
	s := startServer(t)
	m := newMavenEnv(t, s)
	setupMavenRepos(t, s, up.url())
	deployRepo := m.localRepo("deploy")

	// deployLib builds and deploys lib at version with the marker build
	// in its lib.properties; want is "" for success, else what mvn's
	// output must say.
	deployLib := func(copyName, version, build, want string, vars ...string) string {
		t.Helper()
		v := map[string]string{"VERSION": version, "BUILD": build}
		for i := 0; i+1 < len(vars); i += 2 {
			v[vars[i]] = vars[i+1]
		}
		dir := m.project("lib", copyName, v)
		if want == "" {
			m.mustRun(dir, deployRepo, "deploy", deployArgs)
		} else {
			m.mustFail(dir, deployRepo, want, "deploy", deployArgs)
		}
		return dir
	}

	var release1, snap2 []byte
	if !t.Run("deploy", func(t *testing.T) {
		rel := deployLib("lib-1.0", "1.0", "release-1", "")
		release1 = readFile(t, filepath.Join(rel, "target", "lib-1.0.jar"))
		jar := "/repository/maven-releases" + libPath + "/1.0/lib-1.0.jar"
		s.getExpect("maven-releases", strings.TrimPrefix(jar, "/repository/maven-releases/"), release1)
		checkChecksums(t, s, jar, release1)
		md, _ := metadata(t, s, "/repository/maven-releases"+libPath+"/maven-metadata.xml")
		if !slices.Equal(md.Versioning.Versions, []string{"1.0"}) || md.Versioning.Release != "1.0" {
			t.Errorf("maven-releases metadata after deploying 1.0: %+v", md.Versioning)
		}

		deployLib("lib-snap-1", "1.1-SNAPSHOT", "snap-1", "")
		// The group merges this snapshot's metadata now; the second deploy
		// must show through it all the same (see the app's build below).
		groupSnap := "/repository/maven-public" + libPath + "/1.1-SNAPSHOT/maven-metadata.xml"
		if md, _ := metadata(t, s, groupSnap); md.Versioning.Snapshot.BuildNumber != 1 {
			t.Errorf("%s after one deploy: build number %d, want 1", groupSnap, md.Versioning.Snapshot.BuildNumber)
		}
		dir := deployLib("lib-snap-2", "1.1-SNAPSHOT", "snap-2", "")
		snap2 = readFile(t, filepath.Join(dir, "target", "lib-1.1-SNAPSHOT.jar"))
		snapDir := "/repository/maven-snapshots" + libPath + "/1.1-SNAPSHOT/"
		md, _ = metadata(t, s, snapDir+"maven-metadata.xml")
		if md.Versioning.Snapshot.BuildNumber != 2 {
			t.Errorf("snapshot metadata after two deploys: build number %d, want 2: %+v",
				md.Versioning.Snapshot.BuildNumber, md.Versioning)
		}
		if gmd, _ := metadata(t, s, groupSnap); gmd.Versioning.Snapshot != md.Versioning.Snapshot {
			t.Errorf("%s after two deploys: snapshot %+v, want the member's %+v", groupSnap, gmd.Versioning.Snapshot, md.Versioning.Snapshot)
		}
		stamped := regexp.MustCompile(`/lib-1\.1-\d{8}\.\d{6}-\d+\.jar$`)
		var jars []string
		for _, a := range s.assets("maven-snapshots") {
			if stamped.MatchString("/" + a.Path) {
				jars = append(jars, a.Path)
			}
		}
		if len(jars) != 2 {
			t.Errorf("timestamped jars in maven-snapshots: %q, want 2", jars)
		}
		// The base version resolves to the newest timestamp, checksums too.
		s.getExpect("maven-snapshots", strings.TrimPrefix(snapDir, "/repository/maven-snapshots/")+"lib-1.1-SNAPSHOT.jar", snap2)
		checkChecksums(t, s, snapDir+"lib-1.1-SNAPSHOT.jar", snap2)
		for _, sv := range md.Versioning.SnapshotVersions {
			if sv.Extension == "jar" && sv.Classifier == "" {
				s.getExpect("maven-snapshots", strings.TrimPrefix(snapDir, "/repository/maven-snapshots/")+"lib-"+sv.Value+".jar", snap2)
			}
		}
	}) {
		return
	}

	t.Run("build through the group", func(t *testing.T) {
		repo := m.localRepo("app")
		hits := up.hits.Load()
		app := m.project("app", "app-1.0", map[string]string{"LIB_VERSION": "1.0"})
		m.mustRun(app, repo, "package")
		if up.hits.Load() == hits {
			t.Errorf("the build resolved nothing through the proxy")
		}
		if got := zipEntry(t, filepath.Join(repo, "org/example/e2e/lib/1.0/lib-1.0.jar"), "lib.properties"); !strings.Contains(got, "build=release-1") {
			t.Errorf("the app resolved lib 1.0 with lib.properties %q, want build=release-1", got)
		}
		// junit came through the proxy: the upstream's bytes, and the
		// checksums the upstream does not have.
		const junit = "junit/junit/4.13.2/junit-4.13.2.jar"
		want := readFile(t, filepath.Join(debianMavenRepo, junit))
		if got := readFile(t, filepath.Join(repo, junit)); !bytes.Equal(got, want) {
			t.Errorf("the app resolved %s with other bytes than the upstream's", junit)
		}
		checkChecksums(t, s, "/repository/maven-public/"+junit, want)
		snapApp := m.project("app", "app-snap", map[string]string{"LIB_VERSION": "1.1-SNAPSHOT"})
		m.mustRun(snapApp, repo, "package")
		got := readFile(t, filepath.Join(repo, "org/example/e2e/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar"))
		if !bytes.Equal(got, snap2) {
			t.Errorf("the app resolved lib 1.1-SNAPSHOT with lib.properties %q, want the second deploy (build=snap-2)",
				zipEntry(t, filepath.Join(repo, "org/example/e2e/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar"), "lib.properties"))
		}
	})

	t.Run("write policies", func(t *testing.T) {
		deployLib("lib-1.0-other", "1.0", "release-1-other", "status: 400")
		s.getExpect("maven-releases", strings.TrimPrefix(libPath, "/")+"/1.0/lib-1.0.jar", release1)

		again := deployLib("lib-1.0-again", "1.0", "release-1", "")
		if b := readFile(t, filepath.Join(again, "target", "lib-1.0.jar")); !bytes.Equal(b, release1) {
			t.Fatalf("rebuilding lib 1.0 made other bytes: the fixture is not reproducible")
		}

		releases, snapshots := s.url("/repository/maven-releases/"), s.url("/repository/maven-snapshots/")
		deployLib("lib-snap-to-releases", "1.2-SNAPSHOT", "snap", "status: 400", "SNAPSHOTS_URL", releases)
		deployLib("lib-release-to-snapshots", "3.0", "release-3", "status: 400", "RELEASES_URL", snapshots)
		for repo, version := range map[string]string{"maven-releases": "/1.2-SNAPSHOT/", "maven-snapshots": "/3.0/"} {
			for _, a := range s.assets(repo) {
				if strings.Contains("/"+a.Path, version) {
					t.Errorf("refused deploy stored %s in %s", a.Path, repo)
				}
			}
		}
	})

	t.Run("second release and the group's metadata", func(t *testing.T) {
		path := "/repository/maven-public" + libPath + "/maven-metadata.xml"
		md, _ := metadata(t, s, path)
		if want := []string{"1.0", "1.1-SNAPSHOT"}; !slices.Equal(md.Versioning.Versions, want) {
			t.Errorf("maven-public metadata versions before 2.0 %q, want %q", md.Versioning.Versions, want)
		}
		deployLib("lib-2.0", "2.0", "release-2", "")
		md, _ = metadata(t, s, "/repository/maven-releases"+libPath+"/maven-metadata.xml")
		if !slices.Equal(md.Versioning.Versions, []string{"1.0", "2.0"}) {
			t.Errorf("maven-releases metadata versions %q, want [1.0 2.0]", md.Versioning.Versions)
		}
		md, res := metadata(t, s, path)
		if want := []string{"1.0", "1.1-SNAPSHOT", "2.0"}; !slices.Equal(md.Versioning.Versions, want) {
			t.Errorf("maven-public metadata versions %q, want %q", md.Versioning.Versions, want)
		}
		if md.Versioning.Release != "2.0" || md.Versioning.Latest != "2.0" {
			t.Errorf("maven-public metadata release %q latest %q, want 2.0", md.Versioning.Release, md.Versioning.Latest)
		}
		checkChecksums(t, s, path, res.body)
		etag := res.header.Get("ETag")
		if etag == "" || res.header.Get("Last-Modified") == "" {
			t.Errorf("merged metadata without ETag or Last-Modified: %v", res.header)
		} else if again := s.do(http.MethodGet, path, s.admin(), nil, http.Header{"If-None-Match": {etag}}); again.status != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s: status %d, want 304", path, etag, again.status)
		}
	})

	t.Run("plugin by prefix", func(t *testing.T) {
		m.mustRun(m.project("plugin", "plugin", nil), deployRepo, "deploy", deployArgs)
		md, _ := metadata(t, s, "/repository/maven-public/org/example/e2e/plugins/maven-metadata.xml")
		found := false
		for _, p := range md.Plugins {
			found = found || (p.Prefix == "hello" && p.ArtifactID == "hello-maven-plugin")
		}
		if !found {
			t.Errorf("the group-level metadata of org.example.e2e.plugins names no prefix hello: %+v", md.Plugins)
		}
		out := m.mustRun(m.project("app", "app-hello", map[string]string{"LIB_VERSION": "1.0"}), m.localRepo("hello"), "hello:greet")
		if !strings.Contains(out, "hello-maven-plugin greets the e2e test") {
			t.Errorf("mvn hello:greet did not run the plugin's goal:\n%s", mvnTail([]byte(out)))
		}
	})

	t.Run("upstream gone", func(t *testing.T) {
		up.stop()
		repo := m.localRepo("offline")
		m.mustRun(m.project("app", "app-offline", map[string]string{"LIB_VERSION": "1.0"}), repo, "package")
		if _, err := os.Stat(filepath.Join(repo, "junit/junit/4.13.2/junit-4.13.2.jar")); err != nil {
			t.Errorf("junit was not resolved from the proxy's cache: %v", err)
		}
		// A snapshot needs the group's metadata, which the proxy member
		// cannot answer now: the group merges the members that can.
		m.mustRun(m.project("app", "app-offline-snap", map[string]string{"LIB_VERSION": "1.1-SNAPSHOT"}), repo, "package")
		if got := readFile(t, filepath.Join(repo, "org/example/e2e/lib/1.1-SNAPSHOT/lib-1.1-SNAPSHOT.jar")); !bytes.Equal(got, snap2) {
			t.Errorf("with the upstream gone the app resolved another lib 1.1-SNAPSHOT than the second deploy")
		}
	})

	t.Run("restart", func(t *testing.T) {
		const path = "/repository/maven-public" + libPath + "/maven-metadata.xml"
		_, before := metadata(t, s, path)
		s.stop()
		s.restart()
		md, after := metadata(t, s, path)
		if string(after.body) != string(before.body) {
			t.Errorf("the group's metadata changed over a restart:\n%s\nthen\n%s", before.body, after.body)
		}
		if want := []string{"1.0", "1.1-SNAPSHOT", "2.0"}; !slices.Equal(md.Versioning.Versions, want) {
			t.Errorf("maven-public metadata versions after a restart %q, want %q", md.Versioning.Versions, want)
		}
		checkChecksums(t, s, path, after.body)
		// The upstream is still gone: the proxy's cache lasted.
		const junit = "junit/junit/4.13.2/junit-4.13.2.jar"
		s.getExpect("maven-public", junit, readFile(t, filepath.Join(debianMavenRepo, junit)))
	})
}

// checkChecksums requires the four checksum files of path, each the hex
// digest of data.
func checkChecksums(t *testing.T, s *nexusServer, path string, data []byte) {
	t.Helper()
	m5, s256, s512 := md5.Sum(data), sha256.Sum256(data), sha512.Sum512(data)
	for ext, want := range map[string]string{
		".md5": hex.EncodeToString(m5[:]), ".sha1": sha1Hex(data),
		".sha256": hex.EncodeToString(s256[:]), ".sha512": hex.EncodeToString(s512[:]),
	} {
		res := s.do(http.MethodGet, path+ext, s.admin(), nil, nil)
		if got := strings.TrimSpace(string(res.body)); res.status != http.StatusOK || got != want {
			t.Errorf("GET %s%s: %d %q, want %s", path, ext, res.status, got, want)
		}
	}
}
