package main

// Maven workloads against the built server: a build's whole dependency set
// fetched through the group, beside the same files from a plain static
// file server, and the merged metadata of a group.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// mavenBenchPasses is how often the warm dependency set is fetched.
const mavenBenchPasses = 20

// mavenFetchAll GETs base+p for every path on benchClients workers as c
// (nil: anonymous) and returns the wall time and the bytes; keep, when not
// nil, gets every body.
func mavenFetchAll(client *http.Client, base string, c *creds, paths []string, keep func(p string, body []byte)) (time.Duration, int64, error) {
	var mu sync.Mutex
	var total int64
	d, err := parallel(len(paths), func(i int) error {
		req, err := http.NewRequest(http.MethodGet, base+paths[i], nil)
		if err != nil {
			return err
		}
		if c != nil {
			req.SetBasicAuth(c.user, c.pass)
		}
		_, body, err := fetch(client, req, http.StatusOK)
		if err != nil {
			return err
		}
		mu.Lock()
		total += int64(len(body))
		if keep != nil {
			keep(paths[i], body)
		}
		mu.Unlock()
		return nil
	})
	return d, total, err
}

// mavenBuildFiles deploys the library, builds the app through maven-public
// with an empty local repository and returns the Maven paths of every
// file the build fetched, with the .sha1 mvn fetched beside each.
func mavenBuildFiles(b *testing.B, s *nexusServer) []string {
	b.Helper()
	m := newMavenEnv(b, s)
	m.mustRun(m.project("lib", "lib", map[string]string{"VERSION": "1.0", "BUILD": "bench"}),
		m.localRepo("deploy"), "deploy", "-Dmaven.test.skip=true")
	repo := m.localRepo("app")
	m.mustRun(m.project("app", "app", map[string]string{"LIB_VERSION": "1.0"}), repo, "package")
	var paths []string
	for _, p := range mavenLocalFiles(b, repo) {
		if ext := filepath.Ext(p); ext == ".sha1" || ext == ".md5" {
			continue
		}
		paths = append(paths, p, p+".sha1")
	}
	slices.Sort(paths)
	if len(paths) < 100 {
		b.Fatalf("the build fetched only %d files: %q", len(paths), paths)
	}
	return paths
}

func BenchmarkMavenResolve(b *testing.B) {
	up := startMavenUpstream(b, debianMavenRepo)
	s := benchServer(b)
	setupMavenRepos(b, s, up.url())
	paths := mavenBuildFiles(b, s)
	client := benchClient()
	defer client.CloseIdleConnections()

	// Cold: a second proxy of the same upstream, empty, behind a group of
	// its own with the hosted library.
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/proxy", s.admin(),
		mavenProxyJSON("cold-central", up.url(), true), nil)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/group", s.admin(),
		mavenGroupJSON("cold-public", "maven-releases", "cold-central"), nil)

	static := b.TempDir()
	var writeErr error
	b.ResetTimer()
	cold, coldBytes, err := mavenFetchAll(client, s.url("/repository/cold-public/"), s.admin(), paths, nil)
	if err != nil {
		b.Fatalf("cold pass: %v", err)
	}
	// The static server's copy, from an unmeasured warm-up pass: writing
	// the files must not count against the server.
	_, _, err = mavenFetchAll(client, s.url("/repository/maven-public/"), s.admin(), paths, func(p string, body []byte) {
		dst := filepath.Join(static, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.WriteFile(dst, body, 0o644)
		}
		if err != nil && writeErr == nil {
			writeErr = err
		}
	})
	if err != nil || writeErr != nil {
		b.Fatalf("copying the files for the static server: %v %v", err, writeErr)
	}
	files := httptest.NewServer(http.FileServer(http.Dir(static)))
	defer files.Close()
	// Passes alternate between the two, so that the machine's drifts
	// (other work on its two cores) fall on both alike.
	var warm, direct time.Duration
	var warmBytes, directBytes int64
	for pass := 0; pass < mavenBenchPasses; pass++ {
		d, n, err := mavenFetchAll(client, s.url("/repository/maven-public/"), s.admin(), paths, nil)
		if err != nil {
			b.Fatalf("warm pass %d: %v", pass, err)
		}
		warm += d
		warmBytes += n
		d, n, err = mavenFetchAll(client, files.URL+"/", nil, paths, nil)
		if err != nil {
			b.Fatalf("static pass %d: %v", pass, err)
		}
		direct += d
		directBytes += n
	}
	b.StopTimer()
	if warmBytes != directBytes || coldBytes*mavenBenchPasses != warmBytes {
		b.Fatalf("bytes differ: cold %d, warm %d, static %d (over %d passes)", coldBytes, warmBytes, directBytes, mavenBenchPasses)
	}
	perPass := func(d time.Duration) float64 { return float64(d.Milliseconds()) / mavenBenchPasses }
	b.ReportMetric(float64(len(paths)), "files")
	b.ReportMetric(float64(coldBytes)/1e6, "MB/pass")
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
	b.ReportMetric(perPass(warm), "nexus-warm-ms/pass")
	b.ReportMetric(perPass(direct), "static-ms/pass")
	b.ReportMetric(warm.Seconds()/direct.Seconds(), "nexus/static")
	b.ReportMetric(float64(len(paths)*mavenBenchPasses)/warm.Seconds(), "nexus-warm-req/s")
	b.ReportMetric(serverMem(b, s).hwmMiB(), "server-hwm-MiB")
}

// The metadata workload: one artifact with versions in two hosted
// members, a third member without it.
const (
	mavenMergeGETs   = 4000
	mavenMergeWarmup = 50
)

func BenchmarkMavenMetadataMerge(b *testing.B) {
	s := benchServer(b)
	for _, name := range []string{"merge-a", "merge-b", "merge-c"} {
		s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/hosted", s.admin(),
			mavenHostedJSON(name, "allow", "RELEASE", "STRICT"), nil)
	}
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/maven/group", s.admin(),
		mavenGroupJSON("merge-public", "merge-a", "merge-b", "merge-c"), nil)
	deploy := func(repo, group, artifact, version string) {
		dir := strings.ReplaceAll(group, ".", "/") + "/" + artifact + "/" + version + "/"
		pom := fmt.Sprintf(`<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>`+
			`<groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></project>`, group, artifact, version)
		s.put(repo, dir+artifact+"-"+version+".pom", []byte(pom))
		s.put(repo, dir+artifact+"-"+version+".jar", []byte("jar of "+artifact+" "+version))
	}
	for _, v := range []string{"1.0", "1.1", "1.2"} {
		deploy("merge-a", "org.example.bench", "merged", v)
	}
	for _, v := range []string{"2.0", "2.1"} {
		deploy("merge-b", "org.example.bench", "merged", v)
	}
	want := []string{"1.0", "1.1", "1.2", "2.0", "2.1"}
	deploy("merge-c", "org.example.bench", "other", "9.0")

	const path = "/repository/merge-public/org/example/bench/merged/maven-metadata.xml"
	client := benchClient()
	defer client.CloseIdleConnections()
	get := func(int) error {
		req, err := http.NewRequest(http.MethodGet, s.url(path), nil)
		if err != nil {
			return err
		}
		req.SetBasicAuth("admin", s.adminPW)
		_, _, err = fetch(client, req, http.StatusOK)
		return err
	}
	res := s.do(http.MethodGet, path, s.admin(), nil, nil)
	for _, v := range want {
		if res.status != http.StatusOK || !strings.Contains(string(res.body), "<version>"+v+"</version>") {
			b.Fatalf("GET %s: %d, want version %s in:\n%s", path, res.status, v, res.body)
		}
	}
	if _, err := parallel(mavenMergeWarmup, get); err != nil {
		b.Fatalf("warm-up: %v", err)
	}
	b.ResetTimer()
	d, err := parallel(mavenMergeGETs, get)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(mavenMergeGETs)/d.Seconds(), "merged-metadata-req/s")
	b.ReportMetric(serverMem(b, s).hwmMiB(), "server-hwm-MiB")
}
