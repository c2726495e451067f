package main

// End-to-end test of `docker search` with a real Docker engine against a
// hosted repository, a proxy whose upstream is a second nexus-go's hosted
// repository, a group of both, and the main port.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// withV1 turns docker.v1Enabled on in a repository configuration from the
// harness's builders.
func withV1(t *testing.T, body string) string {
	t.Helper()
	out := strings.Replace(body, `"v1Enabled":false`, `"v1Enabled":true`, 1)
	if out == body {
		t.Fatalf("no v1Enabled in %s", body)
	}
	return out
}

// search runs docker search and returns the names it lists, in order.
func (e *dockerEngine) search(t *testing.T, args ...string) []string {
	t.Helper()
	out := e.must(t, append([]string{"search", "--no-trunc", "--format", "{{.Name}}"}, args...)...)
	names := []string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	return names
}

func TestDockerSearch(t *testing.T) {
	eng := startDockerEngine(t)
	up := startServer(t)
	s := startServer(t)
	upPort, hPort, pPort, gPort := testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t), testproc.FreePort(t)
	reg := func(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

	// The upstream: a hosted repository of the other server, which wants
	// credentials (forceBasicAuth).
	up.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", up.admin(),
		withV1(t, dockerHostedJSON("docker-up", upPort, true)), nil)
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		withV1(t, dockerHostedJSON("docker-h", hPort, true)), nil)
	createDockerProxy(s, withV1(t, dockerProxyJSON("docker-p", "http://"+reg(upPort), pPort, true,
		fmt.Sprintf(`{"type":"username","username":"admin","password":%q}`, up.adminPW))))
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/group", s.admin(),
		withV1(t, dockerGroupJSON("docker-g", gPort, "", "docker-h", "docker-p")), nil)
	var cfg struct {
		Docker struct {
			V1Enabled bool `json:"v1Enabled"`
		} `json:"docker"`
	}
	s.mustJSON(http.StatusOK, http.MethodGet, "/v1/repositories/docker/group/docker-g", s.admin(), nil, &cfg)
	if !cfg.Docker.V1Enabled {
		t.Fatalf("GET of docker-g does not return v1Enabled: true")
	}

	// One small image FROM scratch, pushed under several names.
	build := t.TempDir()
	for name, data := range map[string][]byte{
		"Dockerfile": []byte("FROM scratch\nCOPY a.bin /a.bin\n"),
		"a.bin":      randomBytes(t, 1000),
	} {
		if err := os.WriteFile(filepath.Join(build, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng.must(t, "build", "-q", "-t", "search-e2e/src:1", build)
	push := func(registry string, names ...string) {
		t.Helper()
		for _, name := range names {
			eng.must(t, "tag", "search-e2e/src:1", registry+"/"+name+":1")
			eng.must(t, "push", registry+"/"+name+":1")
		}
	}
	eng.login(t, reg(upPort), "admin", up.adminPW)
	push(reg(upPort), "db/postgres", "tools/pgadmin")
	eng.login(t, reg(hPort), "admin", s.adminPW)
	push(reg(hPort), "db/postgres", "db/postgres-backup", "web/nginx")

	// Hosted: image names containing the term; --limit is the page size.
	if got := eng.search(t, reg(hPort)+"/postgres"); !slices.Equal(got, []string{"db/postgres", "db/postgres-backup"}) {
		t.Fatalf("hosted search: %q", got)
	}
	if got := eng.search(t, "--limit", "1", reg(hPort)+"/postgres"); !slices.Equal(got, []string{"db/postgres"}) {
		t.Fatalf("hosted search --limit 1: %q", got)
	}
	if got := eng.search(t, reg(hPort)+"/mysql"); len(got) != 0 {
		t.Fatalf("hosted search for nothing: %q", got)
	}

	// Not logged in to the proxy yet: it wants credentials.
	if out := eng.mustFail(t, "search", reg(pPort)+"/postgres"); !mentions(out, "401") {
		t.Errorf("search without login: %s", out)
	}
	eng.login(t, reg(pPort), "admin", s.adminPW)
	eng.login(t, reg(gPort), "admin", s.adminPW)

	// Proxy: the upstream nexus-go's search, with the proxy's credentials.
	if got := eng.search(t, reg(pPort)+"/pg"); !slices.Equal(got, []string{"tools/pgadmin"}) {
		t.Fatalf("proxy search: %q", got)
	}
	// Group: the members in order, each name once.
	want := []string{"db/postgres", "db/postgres-backup", "web/nginx", "tools/pgadmin"}
	if got := eng.search(t, reg(gPort)+"/g"); !slices.Equal(got, want) {
		t.Fatalf("group search: %q, want %q", got, want)
	}
	if got := eng.search(t, "--limit", "2", reg(gPort)+"/g"); !slices.Equal(got, want[:2]) {
		t.Fatalf("group search --limit 2: %q", got)
	}

	// Main port: a repository named in the term, names as pulled there.
	main := reg(s.port)
	eng.login(t, main, "admin", s.adminPW)
	if got := eng.search(t, main+"/docker-h/postgres"); !slices.Equal(got, []string{"docker-h/db/postgres", "docker-h/db/postgres-backup"}) {
		t.Fatalf("main port search: %q", got)
	}
	eng.pullExpect(t, main+"/docker-h/db/postgres-backup:1", eng.imageID(t, "search-e2e/src:1"))

	// The upstream gone: the proxy lists what it has cached.
	eng.must(t, "pull", reg(pPort)+"/tools/pgadmin:1")
	up.stop()
	if got := eng.search(t, reg(pPort)+"/pg"); !slices.Equal(got, []string{"tools/pgadmin"}) {
		t.Fatalf("proxy search, upstream down: %q", got)
	}
	if got := eng.search(t, reg(pPort)+"/postgres"); len(got) != 0 {
		t.Fatalf("proxy search for an image never cached, upstream down: %q", got)
	}
}
