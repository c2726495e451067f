package main

// End-to-end tests of the Docker format with real clients: a private Docker
// engine (dockerd and the docker CLI) and skopeo, against hosted Docker
// repositories on their connector ports and, by path, on the main port.

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/webhooks/webhooktest"
)

// e2eClientMissing fails the test when real clients are required
// (NEXUS_GO_E2E_CLIENTS=required, as `make test` sets) and skips it
// otherwise.
func e2eClientMissing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("NEXUS_GO_E2E_CLIENTS") == "required" {
		t.Fatalf("%s is missing and NEXUS_GO_E2E_CLIENTS=required", what)
	}
	t.Skipf("%s is missing (NEXUS_GO_E2E_CLIENTS=required fails instead)", what)
}

// e2eClient returns the path of a client program.
func e2eClient(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		e2eClientMissing(t, name)
	}
	return p
}

// e2eTool returns the program the environment variable env names (the
// Makefile points it at the pinned build in bin/tools); what says what it is.
func e2eTool(t testing.TB, env, what string) string {
	t.Helper()
	bin := os.Getenv(env)
	if bin == "" {
		e2eClientMissing(t, what+" ("+env+" is not set)")
	}
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		e2eClientMissing(t, what+" at "+bin+" ("+env+")")
	}
	return bin
}

// clientEnv is the environment for client programs: the caller's, without
// settings that would point them elsewhere, plus extra.
func clientEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "DOCKER_"), strings.HasPrefix(k, "NEXUS_GO_"),
			k == "REGISTRY_AUTH_FILE", k == "CONTAINERS_REGISTRIES_CONF", k == "CONTAINERS_CONF":
			continue
		}
		env = append(env, kv)
	}
	return append(env, append([]string{"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost"}, extra...)...)
}

// dockerHostedJSON is the full configuration of a hosted Docker repository.
func dockerHostedJSON(name string, httpPort int, forceBasicAuth bool) string {
	return fmt.Sprintf(`{"name":%q,"online":true,`+
		`"storage":{"blobStoreName":"default","strictContentTypeValidation":true,"writePolicy":"allow"},`+
		`"docker":{"v1Enabled":false,"forceBasicAuth":%t,"httpPort":%d}}`, name, forceBasicAuth, httpPort)
}

func createDockerHosted(s *nexusServer, name string, httpPort int) {
	s.t.Helper()
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/repositories/docker/hosted", s.admin(),
		dockerHostedJSON(name, httpPort, true), nil)
}

// dockerComponent is the REST shape of a component, with its version.
type dockerComponent struct {
	ID         string `json:"id"`
	Repository string `json:"repository"`
	Format     string `json:"format"`
	Name       string `json:"name"`
	Version    string `json:"version"`
}

// dockerVersions lists the components of repo: image name -> sorted tags,
// and the component ids by "name:version".
func dockerVersions(s *nexusServer, repo string) (map[string][]string, map[string]string) {
	s.t.Helper()
	items, _ := listAll[dockerComponent](s, "/v1/components?repository="+url.QueryEscape(repo))
	versions, ids := map[string][]string{}, map[string]string{}
	for _, c := range items {
		versions[c.Name] = append(versions[c.Name], c.Version)
		ids[c.Name+":"+c.Version] = c.ID
	}
	for _, v := range versions {
		slices.Sort(v)
	}
	return versions, ids
}

// v2Get sends GET path to a connector (or the main) port on a connection
// of its own, with Basic credentials when c is not nil.
func v2Get(port int, path string, c *creds) (int, http.Header, []byte, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(port)+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if c != nil {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}

// tagList is GET /v2/<name>/tags/list as admin on a connector port.
func tagList(t *testing.T, s *nexusServer, port int, name string) (int, []string) {
	t.Helper()
	status, _, body, err := v2Get(port, "/v2/"+name+"/tags/list", s.admin())
	if err != nil {
		t.Fatalf("tags/list of %s on port %d: %v", name, port, err)
	}
	if status != http.StatusOK {
		return status, nil
	}
	var tl struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &tl); err != nil {
		t.Fatalf("tags/list of %s: %q: %v", name, body, err)
	}
	if tl.Name != name {
		t.Errorf("tags/list of %s names %q", name, tl.Name)
	}
	return status, tl.Tags
}

// dockerEngine is a private dockerd: its own data root, socket and CLI
// configuration (so logins stay in the test), no networking of its own.
type dockerEngine struct {
	dir    string
	host   string // unix://<dir>/docker.sock
	config string // DOCKER_CONFIG of the CLI
	cli    string
	logs   *logBuffer
	cmd    *exec.Cmd
	done   chan struct{}
}

// startDockerEngine starts dockerd and waits (bounded) until it answers;
// it is stopped when t ends.
func startDockerEngine(t *testing.T) *dockerEngine {
	t.Helper()
	dockerd := e2eClient(t, "dockerd")
	cli := e2eClient(t, "docker")
	if os.Geteuid() != 0 {
		e2eClientMissing(t, "root, which a private dockerd needs,")
	}
	// Unix socket paths are limited to about 100 bytes: keep the root short.
	dir, err := os.MkdirTemp("/tmp", "dk")
	if err != nil {
		t.Fatal(err)
	}
	e := &dockerEngine{dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"),
		config: filepath.Join(dir, "config"), cli: cli, logs: &logBuffer{}}
	if err := os.Mkdir(e.config, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dockerd,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--storage-driver=vfs",
		"--data-root="+filepath.Join(dir, "root"), "--exec-root="+filepath.Join(dir, "exec"),
		"--pidfile="+filepath.Join(dir, "pid"), "--host="+e.host, "--insecure-registry=127.0.0.0/8")
	cmd.Dir = dir
	cmd.Env = clientEnv()
	cmd.Stdout, cmd.Stderr = e.logs, e.logs
	// Its own process group, so the containerd it starts can be reaped too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("starting dockerd: %v", err)
	}
	e.cmd = cmd
	e.done = make(chan struct{})
	go func() {
		cmd.Wait()
		close(e.done)
	}()
	t.Cleanup(func() { e.stop(t) })

	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-e.done:
			t.Fatalf("dockerd exited at start:\n%s", e.logs.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c := exec.CommandContext(ctx, cli, "--host", e.host, "version")
		c.Env = e.env()
		err := c.Run()
		cancel()
		if err == nil {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("dockerd did not answer within 60s: %v\n%s", err, e.logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// stop ends dockerd with SIGTERM (SIGKILL to its process group after 30s)
// and removes its directory.
func (e *dockerEngine) stop(t *testing.T) {
	pid := e.cmd.Process.Pid
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		t.Errorf("dockerd did not exit within 30s of SIGTERM")
		syscall.Kill(-pid, syscall.SIGKILL)
		<-e.done
	}
	// Anything of the group left behind (containerd) goes too.
	syscall.Kill(-pid, syscall.SIGKILL)
	if t.Failed() {
		t.Logf("dockerd output:\n%s", conformanceTail(e.logs.String(), 64<<10))
	}
	if err := os.RemoveAll(e.dir); err != nil {
		t.Logf("removing %s: %v", e.dir, err)
	}
}

func (e *dockerEngine) env() []string {
	return clientEnv("DOCKER_CONFIG="+e.config, "DOCKER_BUILDKIT=0", "DOCKER_CLI_HINTS=false")
}

// run runs the docker CLI against the engine (bounded by 3 minutes).
func (e *dockerEngine) run(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.cli, append([]string{"--host", e.host}, args...)...)
	cmd.Env = e.env()
	cmd.WaitDelay = 5 * time.Second
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out: %w", err)
	}
	return string(out), err
}

// must runs docker and requires success.
func (e *dockerEngine) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.run("", args...)
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustFail runs docker and requires failure; it returns the output.
func (e *dockerEngine) mustFail(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.run("", args...)
	if err == nil {
		t.Fatalf("docker %s succeeded, want failure:\n%s", strings.Join(args, " "), out)
	}
	t.Logf("docker %s failed as expected: %s", strings.Join(args, " "), lastLine(out))
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func (e *dockerEngine) login(t *testing.T, registry, user, pass string) {
	t.Helper()
	out, err := e.run(pass+"\n", "login", registry, "-u", user, "--password-stdin")
	if err != nil || !strings.Contains(out, "Login Succeeded") {
		t.Fatalf("docker login %s as %s: %v\n%s", registry, user, err, out)
	}
}

// imageID is the engine's image id (the config digest) of ref.
func (e *dockerEngine) imageID(t *testing.T, ref string) string {
	t.Helper()
	return strings.TrimSpace(e.must(t, "image", "inspect", "--format", "{{.Id}}", ref))
}

// drop removes an image with every tag it has, so the next pull downloads
// it; an image not present is fine.
func (e *dockerEngine) drop(t *testing.T, id string) {
	t.Helper()
	if out, err := e.run("", "rmi", "-f", id); err != nil && !strings.Contains(strings.ToLower(out), "no such image") {
		t.Fatalf("docker rmi -f %s: %v\n%s", id, err, out)
	}
	if out, err := e.run("", "image", "inspect", id); err == nil {
		t.Fatalf("image %s still present after rmi:\n%s", id, out)
	}
}

// pullExpect pulls ref and requires the image id want.
func (e *dockerEngine) pullExpect(t *testing.T, ref, want string) {
	t.Helper()
	e.must(t, "pull", ref)
	if got := e.imageID(t, ref); got != want {
		t.Fatalf("pulled %s: image id %s, want %s", ref, got, want)
	}
}

// lastLine is the last non-empty line of out, where clients put the error.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// mentions reports whether out names one of words, ignoring case.
func mentions(out string, words ...string) bool {
	out = strings.ToLower(out)
	for _, w := range words {
		if strings.Contains(out, strings.ToLower(w)) {
			return true
		}
	}
	return false
}

// TestDockerEngine drives one private Docker engine through the scenarios
// in order; each builds on the repository state the previous ones left.
func TestDockerEngine(t *testing.T) {
	eng := startDockerEngine(t)
	s := startServer(t)
	port := testproc.FreePort(t)
	createDockerHosted(s, "docker-h", port)
	reg := "127.0.0.1:" + strconv.Itoa(port)
	mainReg := "127.0.0.1:" + strconv.Itoa(s.port)
	admin := s.admin()

	// A two-layer image FROM scratch, saved so it can be loaded again with
	// the same id after a scenario removed it.
	build := t.TempDir()
	files := map[string][]byte{
		"Dockerfile": []byte("FROM scratch\nCOPY a.bin /a.bin\nCOPY b.bin /data/b.bin\n"),
		"a.bin":      randomBytes(t, 1500),
		"b.bin":      randomBytes(t, 2500),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(build, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng.must(t, "build", "-q", "-t", "nexus-e2e/src:1", build)
	srcID := eng.imageID(t, "nexus-e2e/src:1")
	srcLayers := strings.TrimSpace(eng.must(t, "image", "inspect", "--format", "{{json .RootFS.Layers}}", srcID))
	var layers []string
	if err := json.Unmarshal([]byte(srcLayers), &layers); err != nil || len(layers) != 2 {
		t.Fatalf("built image has layers %s (%v), want 2", srcLayers, err)
	}
	saved := filepath.Join(t.TempDir(), "src.tar")
	eng.must(t, "save", "-o", saved, "nexus-e2e/src:1")
	restore := func(t *testing.T) {
		t.Helper()
		eng.must(t, "load", "-q", "-i", saved)
		if got := eng.imageID(t, "nexus-e2e/src:1"); got != srcID {
			t.Fatalf("loaded image id %s, want %s", got, srcID)
		}
	}

	app1, app2 := reg+"/team/app:1.0", reg+"/team/app:2.0"
	// A registry:2-style notification endpoint for docker-h, from the start.
	notified := webhooktest.New(t, "")
	s.mustJSON(http.StatusCreated, http.MethodPost, "/v1/webhooks", admin, map[string]any{
		"name": "registry", "url": notified.URL, "payload": "registry", "repositories": []string{"docker-h"}}, nil)
	setForceBasicAuth := func(t *testing.T, on bool) {
		t.Helper()
		s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/docker/hosted/docker-h", admin,
			dockerHostedJSON("docker-h", port, on), nil)
	}
	setAnonymous := func(t *testing.T, on bool) {
		t.Helper()
		s.mustJSON(http.StatusOK, http.MethodPut, "/v1/security/anonymous", admin,
			map[string]any{"enabled": on, "userId": "anonymous", "realmName": "NexusAuthorizingRealm"}, nil)
	}

	scenarios := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"PushPullTwoTags", func(t *testing.T) {
			eng.login(t, reg, "admin", s.adminPW)
			eng.must(t, "tag", srcID, app1)
			eng.must(t, "tag", srcID, app2)
			eng.must(t, "push", app1)
			eng.must(t, "push", app2)

			// A second image name in the same repository: the engine mounts
			// the layers it knows are in team/app instead of uploading them.
			mounted := reg + "/team/mounted:1.0"
			eng.must(t, "tag", srcID, mounted)
			if out := eng.must(t, "push", mounted); !strings.Contains(out, "Mounted from team/app") {
				t.Errorf("push of team/mounted did not mount the layers from team/app:\n%s", out)
			}

			versions, _ := dockerVersions(s, "docker-h")
			if got := versions["team/mounted"]; !slices.Equal(got, []string{"1.0"}) {
				t.Errorf("components of docker-h: team/mounted has versions %v, want [1.0]", got)
			}
			if got := versions["team/app"]; !slices.Equal(got, []string{"1.0", "2.0"}) {
				t.Fatalf("components of docker-h: team/app has versions %v, want [1.0 2.0] (all: %v)", got, versions)
			}
			if status, tags := tagList(t, s, port, "team/app"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0", "2.0"}) {
				t.Errorf("tags/list of team/app: %d %v, want 200 [1.0 2.0]", status, tags)
			}

			eng.must(t, "rmi", app1, app2, mounted)
			eng.drop(t, srcID) // the build's own tag too, so the pull downloads every layer
			eng.pullExpect(t, app1, srcID)
			got := strings.TrimSpace(eng.must(t, "image", "inspect", "--format", "{{json .RootFS.Layers}}", app1))
			if got != srcLayers {
				t.Errorf("pulled layers %s, want %s", got, srcLayers)
			}
		}},

		{"RegistryNotifications", func(t *testing.T) {
			// The pushes and the pull above, as Distribution's events: a
			// push per tag of each manifest (none by digest for them), a
			// push per blob; the pull of team/app:1.0, its manifest and
			// its three blobs.
			type target struct {
				MediaType, Digest, Repository, Tag string
				Size                               int64
			}
			var manifests, pulled []string
			blobs, blobPulls := 0, 0
			deadline := time.Now().Add(30 * time.Second)
			for (len(manifests) < 3 || blobPulls < 3) && time.Now().Before(deadline) {
				manifests, pulled, blobs, blobPulls = nil, nil, 0, 0
				for _, d := range notified.Got() {
					if d.ContentType != "application/vnd.docker.distribution.events.v1+json" {
						t.Fatalf("notification content type %q", d.ContentType)
					}
					var env struct {
						Events []struct {
							Action  string
							Target  target
							Actor   struct{ Name string }
							Request struct{ Method string }
						}
					}
					if err := json.Unmarshal(d.Raw, &env); err != nil || len(env.Events) != 1 {
						t.Fatalf("notification %s: %v", d.Raw, err)
					}
					e := env.Events[0]
					method := map[string]string{"push": http.MethodPut, "pull": http.MethodGet}[e.Action]
					if method == "" || e.Request.Method != method || e.Actor.Name != "admin" || !strings.HasPrefix(e.Target.Digest, "sha256:") || e.Target.Size <= 0 {
						t.Errorf("event %+v: want a push or a pull by admin with a digest and size", e)
					}
					isBlob := e.Target.MediaType == "application/octet-stream"
					switch {
					case e.Action == "push" && isBlob:
						blobs++
					case e.Action == "push":
						manifests = append(manifests, e.Target.Repository+":"+e.Target.Tag)
					case isBlob && e.Target.Repository == "team/app":
						blobPulls++
					case isBlob:
						t.Errorf("blob pull from %s, want team/app", e.Target.Repository)
					default:
						pulled = append(pulled, e.Target.Repository+":"+cmp.Or(e.Target.Tag, e.Target.Digest))
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			slices.Sort(manifests)
			if want := []string{"team/app:1.0", "team/app:2.0", "team/mounted:1.0"}; !slices.Equal(manifests, want) {
				t.Errorf("manifest pushes notified %v, want %v", manifests, want)
			}
			// Two layers and the config in team/app, mounted into team/mounted.
			if blobs != 6 {
				t.Errorf("%d blob pushes notified, want 6", blobs)
			}
			if blobPulls != 3 || len(pulled) != 1 || !strings.HasPrefix(pulled[0], "team/app:") {
				t.Errorf("pulls notified: manifests %v, %d blobs; want team/app's manifest and 3 blobs", pulled, blobPulls)
			}
		}},

		{"AnonymousPull", func(t *testing.T) {
			eng.must(t, "logout", reg)
			eng.drop(t, srcID)
			out := eng.mustFail(t, "pull", app2)
			if !mentions(out, "unauthorized", "authentication required") {
				t.Errorf("anonymous pull with anonymous access off: want an authentication error, got:\n%s", out)
			}

			setAnonymous(t, true)
			t.Cleanup(func() { setAnonymous(t, false) })
			// forceBasicAuth still on: anonymous callers are refused.
			out = eng.mustFail(t, "pull", app2)
			if !mentions(out, "unauthorized", "authentication required") {
				t.Errorf("anonymous pull with forceBasicAuth on: want an authentication error, got:\n%s", out)
			}

			// forceBasicAuth off: anonymous pulls work, on the connector and by
			// path on the main port.
			setForceBasicAuth(t, false)
			eng.pullExpect(t, app2, srcID)
			eng.drop(t, srcID)
			viaMain := mainReg + "/docker-h/team/app:2.0"
			eng.pullExpect(t, viaMain, srcID)
			eng.drop(t, srcID)

			// Anonymous access off again: refused although forceBasicAuth is off.
			setAnonymous(t, false)
			out = eng.mustFail(t, "pull", app2)
			if !mentions(out, "unauthorized", "authentication required") {
				t.Errorf("anonymous pull with anonymous access off (forceBasicAuth off): want an authentication error, got:\n%s", out)
			}

			setAnonymous(t, true)
			setForceBasicAuth(t, true)
			for _, ref := range []string{app2, viaMain} {
				out = eng.mustFail(t, "pull", ref)
				if !mentions(out, "unauthorized", "authentication required") {
					t.Errorf("anonymous pull of %s after forceBasicAuth is back on: want an authentication error, got:\n%s", ref, out)
				}
				if out, err := eng.run("", "image", "inspect", ref); err == nil {
					t.Errorf("the refused pull left %s behind:\n%s", ref, out)
				}
			}
		}},

		{"MainPortPathRouting", func(t *testing.T) {
			restore(t)
			eng.login(t, mainReg, "admin", s.adminPW)
			via := mainReg + "/docker-h/team/viamain:1.0"
			eng.must(t, "tag", srcID, via)
			eng.must(t, "push", via)
			eng.drop(t, srcID)
			eng.pullExpect(t, via, srcID)
			eng.must(t, "logout", mainReg)

			// The same image on the repository's connector, without the prefix.
			if status, tags := tagList(t, s, port, "team/viamain"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0"}) {
				t.Errorf("tags/list of team/viamain on the connector: %d %v, want 200 [1.0]", status, tags)
			}
			versions, _ := dockerVersions(s, "docker-h")
			if got := versions["team/viamain"]; !slices.Equal(got, []string{"1.0"}) {
				t.Errorf("components of docker-h: team/viamain has versions %v, want [1.0]", got)
			}
		}},

		{"ReadOnlyUser", func(t *testing.T) {
			s.createRole("docker-h-reader", "nx-repository-view-docker-docker-h-read")
			const pw = "Reader-pw-93"
			s.createUser("dockreader", pw, "docker-h-reader")
			eng.login(t, reg, "dockreader", pw)
			defer eng.run("", "logout", reg)

			eng.drop(t, srcID)
			eng.pullExpect(t, app1, srcID)

			// A new image name, and a new tag of an existing one: both refused.
			// The user is authenticated, so the refusal is 403 DENIED ("denied:"
			// in docker's output), as it is for the same user with Basic
			// credentials; 401 UNAUTHORIZED would tell the client to log in.
			ro := reg + "/team/readonly:1.0"
			eng.must(t, "tag", srcID, ro)
			out := eng.mustFail(t, "push", ro)
			if !mentions(out, "denied") {
				t.Errorf("push by a read-only user: want denied (403 DENIED), got:\n%s", out)
			}
			app3 := reg + "/team/app:3.0"
			eng.must(t, "tag", srcID, app3)
			out = eng.mustFail(t, "push", app3)
			if !mentions(out, "denied") {
				t.Errorf("push of a new tag by a read-only user: want denied (403 DENIED), got:\n%s", out)
			}

			if status, _ := tagList(t, s, port, "team/readonly"); status != http.StatusNotFound {
				t.Errorf("tags/list of team/readonly after the refused push: %d, want 404", status)
			}
			for _, a := range s.assets("docker-h") {
				if strings.HasPrefix(a.Path, "v2/team/readonly/") {
					t.Errorf("the refused push stored %s", a.Path)
				}
			}
			if status, tags := tagList(t, s, port, "team/app"); status != http.StatusOK || !slices.Equal(tags, []string{"1.0", "2.0"}) {
				t.Errorf("tags/list of team/app after the refused push: %d %v, want 200 [1.0 2.0]", status, tags)
			}
		}},

		{"DeleteTagByREST", func(t *testing.T) {
			eng.login(t, reg, "admin", s.adminPW)
			_, ids := dockerVersions(s, "docker-h")
			id, ok := ids["team/app:2.0"]
			if !ok {
				t.Fatalf("no component team/app:2.0 in %v", ids)
			}
			s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/components/"+url.PathEscape(id), admin, nil, nil)

			eng.drop(t, srcID)
			out := eng.mustFail(t, "pull", app2)
			if !mentions(out, "not found", "manifest unknown") {
				t.Errorf("pull of the deleted tag: want not found, got:\n%s", out)
			}
			// 1.0 is the same manifest: it must survive the other tag's deletion.
			eng.pullExpect(t, app1, srcID)
			versions, _ := dockerVersions(s, "docker-h")
			if got := versions["team/app"]; !slices.Equal(got, []string{"1.0"}) {
				t.Errorf("components of docker-h: team/app has versions %v after the delete, want [1.0]", got)
			}
		}},

		{"RestartReopensConnector", func(t *testing.T) {
			s.stop()
			if _, _, _, err := v2Get(port, "/v2/", nil); err == nil {
				t.Errorf("connector port %d answers while the server is stopped", port)
			}
			s.restart()
			// The connector is open again once the server answers.
			eng.drop(t, srcID)
			eng.pullExpect(t, app1, srcID)
			eng.drop(t, srcID)
			eng.pullExpect(t, reg+"/team/mounted:1.0", srcID)
		}},

		{"ConnectorPortMoves", func(t *testing.T) {
			newPort := testproc.FreePort(t)
			s.mustJSON(http.StatusNoContent, http.MethodPut, "/v1/repositories/docker/hosted/docker-h", admin,
				dockerHostedJSON("docker-h", newPort, true), nil)

			if status, _, _, err := v2Get(port, "/v2/", nil); err == nil {
				t.Errorf("the old connector port %d still answers (%d) after the move", port, status)
			}
			status, hdr, body, err := v2Get(newPort, "/v2/", nil)
			if err != nil {
				t.Fatalf("the new connector port %d: %v", newPort, err)
			}
			wantRealm := `realm="http://127.0.0.1:` + strconv.Itoa(newPort) + `/v2/token"`
			if status != http.StatusUnauthorized || !strings.Contains(hdr.Get("WWW-Authenticate"), wantRealm) {
				t.Errorf("GET /v2/ on the new port: %d, WWW-Authenticate %q, want 401 with %s: %s",
					status, hdr.Get("WWW-Authenticate"), wantRealm, body)
			}
			if v := hdr.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
				t.Errorf("Docker-Distribution-API-Version %q, want registry/2.0", v)
			}

			// A real client on the new port.
			newReg := "127.0.0.1:" + strconv.Itoa(newPort)
			eng.login(t, newReg, "admin", s.adminPW)
			eng.drop(t, srcID)
			eng.pullExpect(t, newReg+"/team/app:1.0", srcID)
			eng.must(t, "logout", newReg)

			// A second repository may not take a port in use, nor the main port.
			for _, p := range []int{newPort, s.port} {
				res := s.doJSON(http.MethodPost, "/v1/repositories/docker/hosted", admin, dockerHostedJSON("docker-h2", p, true), nil)
				if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "docker.httpPort") {
					t.Errorf("second repository on port %d: %d %s, want 400 naming docker.httpPort", p, res.status, res.body)
				}
			}
			// The old port was released: another repository can have it.
			createDockerHosted(s, "docker-h2", port)
			if status, _, _, err := v2Get(port, "/v2/", nil); err != nil || status != http.StatusUnauthorized {
				t.Errorf("docker-h2 on the released port %d: %d %v, want 401", port, status, err)
			}

			for name, p := range map[string]int{"docker-h": newPort, "docker-h2": port} {
				s.mustJSON(http.StatusNoContent, http.MethodDelete, "/v1/repositories/"+name, admin, nil, nil)
				if status, _, _, err := v2Get(p, "/v2/", nil); err == nil {
					t.Errorf("port %d of the deleted repository %s still answers (%d)", p, name, status)
				}
			}
		}},
	}
	for _, sc := range scenarios {
		start := time.Now()
		completed := false
		t.Run(sc.name, func(t *testing.T) {
			sc.run(t)
			completed = true
		})
		t.Logf("%s: %v", sc.name, time.Since(start).Round(time.Millisecond))
		if !completed {
			t.Fatalf("scenario %s stopped early; the later ones build on it", sc.name)
		}
	}
}

// ociImage is what ociLayout wrote: the image manifest and an image index
// of it (one platform), as bytes and digests.
type ociImage struct {
	manifest, index             []byte
	manifestDigest, indexDigest string
}

// ociLayout writes a minimal OCI image layout under dir by hand: one image
// (a gzip layer with a small file, its config and manifest) tagged tag, and
// an image index of it tagged tag+"-index".
func ociLayout(t *testing.T, dir, tag string) ociImage {
	t.Helper()
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	content := randomBytes(t, 3000)
	hdr := &tar.Header{Name: "data/payload.bin", Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(1700000000, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	tw.Write(content)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gzBuf bytes.Buffer
	gz := gzip.NewWriter(&gzBuf)
	gz.Write(tarBuf.Bytes())
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	layer := gzBuf.Bytes()

	config, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + sha(tarBuf.Bytes())}},
	})
	manifest, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + sha(config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + sha(layer), "size": len(layer)}},
	})
	imageIndex, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []any{map[string]any{
			"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(manifest), "size": len(manifest),
			"platform": map[string]string{"architecture": "amd64", "os": "linux"},
		}},
	})
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []any{
			map[string]any{
				"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(manifest), "size": len(manifest),
				"annotations": map[string]string{"org.opencontainers.image.ref.name": tag},
			},
			map[string]any{
				"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + sha(imageIndex), "size": len(imageIndex),
				"annotations": map[string]string{"org.opencontainers.image.ref.name": tag + "-index"},
			},
		},
	})
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path string, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range [][]byte{layer, config, manifest, imageIndex} {
		write(filepath.Join(blobs, sha(b)), b)
	}
	write(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`))
	write(filepath.Join(dir, "index.json"), index)
	return ociImage{manifest: manifest, index: imageIndex,
		manifestDigest: "sha256:" + sha(manifest), indexDigest: "sha256:" + sha(imageIndex)}
}

// clientCmd is a client program as tests run it: bounded in time, with
// the environment of clientEnv plus env, in dir if set, with extra after
// the arguments of every call.
type clientCmd struct {
	name, bin, dir string
	env, extra     []string
}

// run runs the program and returns its output: stdout, and stderr too
// when it fails.
func (c clientCmd) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, c.extra...)...)
	cmd.Dir = c.dir
	cmd.Env = clientEnv(c.env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// must runs the program and requires success.
func (c clientCmd) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", c.name, strings.Join(args, " "), err, out)
	}
	return out
}

// skopeo runs skopeo with an auth file of its own.
type skopeo struct{ clientCmd }

func newSkopeo(t *testing.T) *skopeo {
	t.Helper()
	auth := filepath.Join(t.TempDir(), "auth.json")
	return &skopeo{clientCmd{name: "skopeo", bin: e2eClient(t, "skopeo"), env: []string{"REGISTRY_AUTH_FILE=" + auth}}}
}

// TestSkopeoCopy uses skopeo, a daemonless client, to push an OCI layout to
// one hosted repository and copy it to another, over the connector ports
// and the main port.
func TestSkopeoCopy(t *testing.T) {
	sk := newSkopeo(t)
	s := startServer(t)
	p1, p2 := testproc.FreePort(t), testproc.FreePort(t)
	createDockerHosted(s, "docker-src", p1)
	createDockerHosted(s, "docker-dst", p2)
	pw := s.adminPW
	run := sk.run
	must := func(args ...string) string {
		t.Helper()
		return sk.must(t, args...)
	}
	inspect := func(ref string) (string, []byte) {
		t.Helper()
		var info struct {
			Digest string `json:"Digest"`
		}
		out := must("inspect", "--tls-verify=false", "--creds", "admin:"+pw, ref)
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("skopeo inspect %s: %q: %v", ref, out, err)
		}
		raw := must("inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+pw, ref)
		return info.Digest, []byte(raw)
	}

	layout := filepath.Join(t.TempDir(), "layout")
	img := ociLayout(t, layout, "1.0")
	manifest, digest := img.manifest, img.manifestDigest
	conn := func(port int, name string) string { return "docker://127.0.0.1:" + strconv.Itoa(port) + "/" + name }
	src := conn(p1, "team/app:1.0")
	must("copy", "--dest-tls-verify=false", "--dest-creds", "admin:"+pw, "oci:"+layout+":1.0", src)
	if got, raw := inspect(src); got != digest || !bytes.Equal(raw, manifest) {
		t.Fatalf("pushed from the layout: digest %s, want %s; manifest %s, want %s", got, digest, raw, manifest)
	}

	dst := conn(p2, "copied/app:1.0")
	must("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
		"--src-creds", "admin:"+pw, "--dest-creds", "admin:"+pw, src, dst)
	if got, raw := inspect(dst); got != digest || !bytes.Equal(raw, manifest) {
		t.Errorf("copied between connectors: digest %s, want %s; manifest %s", got, digest, raw)
	}

	// Into docker-dst by path on the main port; it shows on the connector.
	viaMain := conn(s.port, "docker-dst/viamain/app:1.0")
	must("copy", "--src-tls-verify=false", "--dest-tls-verify=false",
		"--src-creds", "admin:"+pw, "--dest-creds", "admin:"+pw, src, viaMain)
	if got, _ := inspect(conn(p2, "viamain/app:1.0")); got != digest {
		t.Errorf("copied through the main port: digest on the connector %s, want %s", got, digest)
	}
	if got, _ := inspect(viaMain); got != digest {
		t.Errorf("copied through the main port: digest there %s, want %s", got, digest)
	}

	// An image index and the manifest it lists, pushed and copied whole.
	multi := conn(p1, "team/multi:1.0")
	must("copy", "--all", "--dest-tls-verify=false", "--dest-creds", "admin:"+pw, "oci:"+layout+":1.0-index", multi)
	raw := must("inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+pw, multi)
	if !bytes.Equal([]byte(raw), img.index) {
		t.Errorf("pushed index: raw %s, want %s", raw, img.index)
	}
	multiDst := conn(p2, "copied/multi:1.0")
	must("copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
		"--src-creds", "admin:"+pw, "--dest-creds", "admin:"+pw, multi, multiDst)
	raw = must("inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+pw, multiDst)
	if !bytes.Equal([]byte(raw), img.index) {
		t.Errorf("copied index: raw %s, want %s", raw, img.index)
	}
	// The platform's manifest resolves through the index.
	if got, _ := inspect(multiDst); got != img.indexDigest {
		t.Errorf("inspect of the copied index: digest %s, want %s", got, img.indexDigest)
	}
	raw = must("inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+pw, conn(p2, "copied/multi@"+digest))
	if !bytes.Equal([]byte(raw), manifest) {
		t.Errorf("the index's manifest by digest: %s, want %s", raw, manifest)
	}

	var tags struct {
		Repository string   `json:"Repository"`
		Tags       []string `json:"Tags"`
	}
	out := must("list-tags", "--tls-verify=false", "--creds", "admin:"+pw, conn(p2, "copied/app"))
	if err := json.Unmarshal([]byte(out), &tags); err != nil || !slices.Equal(tags.Tags, []string{"1.0"}) {
		t.Errorf("list-tags copied/app: %s (%v), want [1.0]", out, err)
	}

	// Back out to a layout: the bytes survive the round trip.
	back := filepath.Join(t.TempDir(), "back")
	must("copy", "--src-tls-verify=false", "--src-creds", "admin:"+pw, dst, "oci:"+back+":1.0")
	var idx struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	data, err := os.ReadFile(filepath.Join(back, "index.json"))
	if err == nil {
		err = json.Unmarshal(data, &idx)
	}
	if err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Digest != digest {
		t.Errorf("copied back to a layout: index %s (%v), want the manifest %s", data, err, digest)
	}

	// skopeo delete removes the manifest by digest, and its tag with it;
	// the other image of the repository is untouched.
	must("delete", "--tls-verify=false", "--creds", "admin:"+pw, conn(p2, "viamain/app:1.0"))
	if out, err := run("inspect", "--raw", "--tls-verify=false", "--creds", "admin:"+pw, conn(p2, "viamain/app:1.0")); err == nil {
		t.Errorf("inspect after skopeo delete succeeded:\n%s", out)
	}
	if got, _ := inspect(dst); got != digest {
		t.Errorf("copied/app after deleting viamain/app: digest %s, want %s", got, digest)
	}
	versions, _ := dockerVersions(s, "docker-dst")
	if _, ok := versions["viamain/app"]; ok || !slices.Equal(versions["copied/app"], []string{"1.0"}) {
		t.Errorf("components of docker-dst after the delete: %v, want copied/app [1.0] and no viamain/app", versions)
	}

	// Without credentials, or with wrong ones, the repository refuses.
	if out, err := run("inspect", "--tls-verify=false", "--no-creds", dst); err == nil {
		t.Errorf("anonymous skopeo inspect succeeded:\n%s", out)
	}
	if out, err := run("inspect", "--tls-verify=false", "--creds", "admin:wrong-"+pw, dst); err == nil {
		t.Errorf("skopeo inspect with a wrong password succeeded:\n%s", out)
	}
}
