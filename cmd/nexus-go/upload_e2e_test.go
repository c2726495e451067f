package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// curlUpload posts a component upload with real curl -F (fields
// "k=v", files "k=@path") and returns the status and body.
func curlUpload(t *testing.T, s *nexusServer, repository string, c *creds, parts ...string) (string, string) {
	t.Helper()
	args := []string{"-s", "-u", c.user + ":" + c.pass, "-w", "\n%{http_code}"}
	for _, p := range parts {
		args = append(args, "-F", p)
	}
	args = append(args, s.url("/service/rest/v1/components?repository="+repository))
	out, err := exec.Command(e2eClient(t, "curl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	i := strings.LastIndex(string(out), "\n")
	return string(out[i+1:]), string(out[:max(i, 0)])
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// POST /v1/components as scripts send it (curl -F), for each format, and
// the real client then uses what was uploaded: mvn builds against the
// uploaded jar, npm installs the uploaded tarball.
func TestComponentUploadClients(t *testing.T) {
	up := startMavenUpstream(t, debianMavenRepo)
	s := startServer(t)
	admin := s.admin()

	t.Run("raw", func(t *testing.T) {
		s.createRepo("hosted", hostedBody("raw-up", "allow_once"))
		for _, tc := range []struct {
			name   string
			parts  []string
			status string
			stored map[string]string
		}{
			{"two files", []string{"raw.directory=/site/v1", "raw.asset1=@" + writeTemp(t, "a.html", []byte("A")),
				"raw.asset1.filename=index.html", "raw.asset2=@" + writeTemp(t, "b.css", []byte("B")), "raw.asset2.filename=css/b.css"},
				"204", map[string]string{"site/v1/index.html": "A", "site/v1/css/b.css": "B"}},
			{"no directory", []string{"raw.asset1=@" + writeTemp(t, "c", []byte("C")), "raw.asset1.filename=c"}, "400", nil},
			{"second refused", []string{"raw.directory=site", "raw.asset1=@" + writeTemp(t, "n", []byte("N")), "raw.asset1.filename=new.txt",
				"raw.asset2=@" + writeTemp(t, "d", []byte("D")), "raw.asset2.filename=v1/index.html"}, "400",
				map[string]string{"site/v1/index.html": "A", "site/new.txt": ""}},
		} {
			status, body := curlUpload(t, s, "raw-up", admin, tc.parts...)
			if status != tc.status {
				t.Fatalf("%s: status %s (%s), want %s", tc.name, status, body, tc.status)
			}
			for p, want := range tc.stored {
				r := s.do(http.MethodGet, "/repository/raw-up/"+p, admin, nil, nil)
				if (want == "" && r.status != http.StatusNotFound) || (want != "" && string(r.body) != want) {
					t.Errorf("%s: %s = %d %q, want %q", tc.name, p, r.status, r.body, want)
				}
			}
		}
	})

	t.Run("maven2", func(t *testing.T) {
		m := newMavenEnv(t, s)
		setupMavenRepos(t, s, up.url())
		dir := m.project("lib", "lib", map[string]string{"VERSION": "1.0", "BUILD": "uploaded"})
		m.mustRun(dir, m.localRepo("build"), "package", deployArgs)
		jar := filepath.Join(dir, "target", "lib-1.0.jar")
		status, body := curlUpload(t, s, "maven-releases", admin, "maven2.groupId=org.example.e2e", "maven2.artifactId=lib",
			"maven2.version=1.0", "maven2.generate-pom=true", "maven2.asset1=@"+jar, "maven2.asset1.extension=jar")
		if status != "204" {
			t.Fatalf("maven2 upload: %s %s", status, body)
		}
		if status, body := curlUpload(t, s, "maven-releases", admin, "maven2.artifactId=lib", "maven2.version=2.0",
			"maven2.asset1=@"+jar, "maven2.asset1.extension=jar"); status != "400" || !strings.Contains(body, "Group ID") {
			t.Errorf("upload without groupId: %s %s", status, body)
		}
		repo := m.localRepo("app")
		m.mustRun(m.project("app", "app", map[string]string{"LIB_VERSION": "1.0"}), repo, "package")
		if got := zipEntry(t, filepath.Join(repo, "org/example/e2e/lib/1.0/lib-1.0.jar"), "lib.properties"); got != "build=uploaded\n" {
			t.Errorf("mvn resolved a lib with lib.properties %q", got)
		}
	})

	t.Run("npm", func(t *testing.T) {
		s.createRepoOf("npm", "hosted", npmHostedJSON("npm-up", "allow_once"))
		pkg := npmPkg{name: "uploaded-pkg", version: "1.2.3"}
		tgz := writeTemp(t, "uploaded-pkg-1.2.3.tgz", pkg.tarball())
		if status, body := curlUpload(t, s, "npm-up", admin, "npm.asset=@"+tgz); status != "204" {
			t.Fatalf("npm upload: %s %s", status, body)
		}
		// The npm registry's refusal, as npm publish gets it.
		if status, body := curlUpload(t, s, "npm-up", admin, "npm.asset=@"+tgz); status != "403" || !strings.Contains(body, "previously published") {
			t.Errorf("the same version again: %s %s", status, body)
		}
		e := npmPublisher(t, s, "npm-up", admin)
		proj := e.project("app", map[string]string{"uploaded-pkg": "1.2.3"})
		e.mustRun(proj, "install", "--no-audit", "--no-fund")
		got, err := os.ReadFile(filepath.Join(proj, "node_modules", "uploaded-pkg", "index.js"))
		if err != nil || !strings.Contains(string(got), "uploaded-pkg@1.2.3") {
			t.Fatalf("npm installed %q (%v)", got, err)
		}
	})
}
