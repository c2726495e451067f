package main

// End-to-end test of a Docker proxy whose upstream's token realm hangs,
// with real clients (a private dockerd, skopeo) that give up on their
// pulls: nexus-go must let go of their connections, and of the upstream's,
// within proxy.timeout.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/testproc"
)

// realmFront is an upstream on 127.0.0.1 in front of a registry that
// wants Bearer tokens from a realm of its own (/token), which can be made
// to hang: it sends its headers, then nothing.
type realmFront struct {
	srv       *httptest.Server
	proxy     *httputil.ReverseProxy
	transport *http.Transport
	token     string
	stop      chan struct{}
	hang      atomic.Bool
	hung      atomic.Int64 // token requests left hanging
}

func newRealmFront(t *testing.T, reg *distRegistry) *realmFront {
	t.Helper()
	f := &realmFront{token: "tok-" + sha(randomBytes(t, 16))[:16], stop: make(chan struct{})}
	f.proxy, f.transport = registryProxy(t, reg)
	f.srv = httptest.NewServer(f)
	t.Cleanup(func() {
		close(f.stop)
		f.srv.Close()
		f.transport.CloseIdleConnections()
	})
	return f
}

func (f *realmFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Every answer closes its connection, so that nexus-go's pool of idle
	// upstream connections does not count among its sockets.
	w.Header().Set("Connection", "close")
	if r.URL.Path == "/token" {
		if f.hang.Load() {
			f.hung.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"token": f.token, "expires_in": 300})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="%s/token",service="front",scope="repository:%s:pull"`,
			f.srv.URL, dpImageName(r.URL.Path)))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.proxy.ServeHTTP(w, r)
}

// sockets counts the sockets process pid has open, and those of them in
// CLOSE-WAIT (the peer hung up, the process did not).
func sockets(t *testing.T, pid int) (open, closeWait int) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		link, err := os.Readlink(filepath.Join(dir, e.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	for _, table := range []string{"tcp", "tcp6"} {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		for _, line := range strings.Split(string(data), "\n") {
			// sl local remote st tx:rx tr:when retrnsmt uid timeout inode
			if fields := strings.Fields(line); len(fields) > 9 && fields[3] == "08" && inodes[fields[9]] {
				closeWait++
			}
		}
	}
	return len(inodes), closeWait
}

// settledSockets waits (at most 15s) until pid's socket count has not
// changed for a second and returns it.
func settledSockets(t *testing.T, pid int) int {
	t.Helper()
	last, since := -1, time.Now()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		n, _ := sockets(t, pid)
		if n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= time.Second {
			return n
		}
	}
	t.Fatalf("the socket count of process %d never settled (last %d)", pid, last)
	return 0
}

// TestDockerProxyUpstreamHangingRealm: the upstream challenges for a token
// whose realm sends headers and then nothing. A pull through the proxy
// fails within proxy.timeout; 30 pulls by clients that give up after a
// second leave no socket behind once proxy.timeout has passed; and once
// the realm answers again, a pull succeeds.
func TestDockerProxyUpstreamHangingRealm(t *testing.T) {
	const proxyTimeout = 2 * time.Second
	eng := startDockerEngine(t)
	skopeo := e2eClient(t, "skopeo")
	reg := startDistRegistry(t)
	front := newRealmFront(t, reg)
	// A short http.idle-timeout, so that the clients' idle keep-alive
	// connections do not count among the server's sockets either.
	s := startServerEnv(t, "NEXUS_GO_PROXY_TIMEOUT="+proxyTimeout.String(), "NEXUS_GO_HTTP_IDLE_TIMEOUT=1s")
	pid := s.cmd.Process.Pid
	port := testproc.FreePort(t)
	createDockerProxy(s, dockerProxyJSON("docker-proxy", front.srv.URL, port, false, ""))
	proxyReg := "127.0.0.1:" + strconv.Itoa(port)

	// The image, straight to the registry under 31 tags.
	srcID := dpBuildImage(t, eng, reg.host+"/team/app:1.0", map[string][]byte{"a.bin": randomBytes(t, 4096)})
	eng.must(t, "push", reg.host+"/team/app:1.0")
	eng.drop(t, srcID)
	accept := map[string]string{"Accept": "application/vnd.docker.distribution.manifest.v2+json, " + dpOCIManifest}
	status, hdr, manifest := dpDo(t, http.MethodGet, reg.base+"/v2/team/app/manifests/1.0", nil, nil, accept)
	if status != http.StatusOK {
		t.Fatalf("the pushed manifest: %d %s", status, manifest)
	}
	const pulls = 30
	for i := range pulls {
		tag := reg.base + "/v2/team/app/manifests/t" + strconv.Itoa(i)
		if status, _, body := dpDo(t, http.MethodPut, tag, nil, manifest, map[string]string{"Content-Type": hdr.Get("Content-Type")}); status != http.StatusCreated {
			t.Fatalf("tagging t%d: %d %s", i, status, body)
		}
	}
	eng.login(t, proxyReg, "admin", s.adminPW)

	skopeoInspect := func(timeout time.Duration, tag string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout+10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, skopeo, "--command-timeout", timeout.String(), "inspect", "--tls-verify=false",
			"--creds", "admin:"+s.adminPW, "docker://"+proxyReg+"/team/app:"+tag)
		cmd.Env = clientEnv("REGISTRY_AUTH_FILE=" + filepath.Join(t.TempDir(), "auth.json"))
		cmd.WaitDelay = 2 * time.Second
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// dockerPull starts a pull and kills the docker CLI after a second,
	// as a user's Ctrl-C or a CI job's timeout would.
	dockerPull := func(tag string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, eng.cli, "--host", eng.host, "pull", proxyReg+"/team/app:"+tag)
		cmd.Env = eng.env()
		cmd.WaitDelay = 2 * time.Second
		cmd.Run()
	}

	baseline := settledSockets(t, pid)
	front.hang.Store(true)

	// One patient client: the proxy gives up on the realm and answers.
	start := time.Now()
	out, err := skopeoInspect(15*time.Second, "1.0")
	failedAfter := time.Since(start)
	t.Logf("skopeo inspect with the realm hanging failed after %s: %v: %s", failedAfter.Round(time.Millisecond), err, lastLine(out))
	if err == nil {
		t.Errorf("skopeo inspect with the realm hanging succeeded:\n%s", out)
	}
	if failedAfter > proxyTimeout+5*time.Second {
		t.Errorf("skopeo inspect with the realm hanging took %s to fail, want within proxy.timeout (%s) and a margin", failedAfter, proxyTimeout)
	}

	// 30 impatient ones, in three waves: skopeo giving up after a second,
	// docker pulls killed after one.
	peak := 0
	for wave := range 3 {
		var wg sync.WaitGroup
		for i := wave * pulls / 3; i < (wave+1)*pulls/3; i++ {
			tag := "t" + strconv.Itoa(i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%5 == 4 {
					dockerPull(tag)
				} else {
					skopeoInspect(time.Second, tag)
				}
			}()
		}
		wg.Wait()
		n, cw := sockets(t, pid)
		peak = max(peak, n)
		t.Logf("after wave %d: %d sockets (%d in CLOSE-WAIT), baseline %d", wave+1, n, cw, baseline)
	}
	clientsGone := time.Now()
	var n, cw int
	back := pollUntil(int((proxyTimeout+4*time.Second)/(100*time.Millisecond)), func() bool {
		n, cw = sockets(t, pid)
		return n <= baseline
	})
	t.Logf("sockets: baseline %d, peak %d, %s after the last client gave up %d (%d in CLOSE-WAIT); %d token requests left hanging",
		baseline, peak, time.Since(clientsGone).Round(100*time.Millisecond), n, cw, front.hung.Load())
	if !back {
		// The server is wedged; a pull would only wait for it.
		t.Fatalf("%d sockets (%d in CLOSE-WAIT) are still open %s after the clients gave up, want the %d of before (proxy.timeout is %s)",
			n, cw, time.Since(clientsGone).Round(100*time.Millisecond), baseline, proxyTimeout)
	}

	// The realm answers again: pulls through the proxy work.
	front.hang.Store(false)
	eng.pullExpect(t, proxyReg+"/team/app:1.0", srcID)
	if out, err := skopeoInspect(30*time.Second, "t0"); err != nil {
		t.Errorf("skopeo inspect once the realm works: %v\n%s", err, out)
	}
}
