package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// A token realm that sends its headers and then nothing, or a byte now
// and then, cannot hold a pull: it fails within proxy.timeout, and works
// again once the realm does.
func TestProxyTokenRealmStalls(t *testing.T) {
	const timeout = 500 * time.Millisecond
	fx := newFixtureOpts(t, time.Hour, repo.Options{ProxyTimeout: timeout})
	settleDownloads(t, fx)
	up := newUpstream(t)
	up.realm = true
	m, md := up.pushImage("team/app", "1.0", mtOCIManifest, []byte(`{"os":"linux"}`), randomBytes(t, 1024))

	var mode atomic.Value // "stall", "drip" or "" (the realm works)
	mode.Store("")
	release := make(chan struct{})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" || mode.Load() == "" {
			up.serve(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-release:
				return
			case <-time.After(timeout / 5):
			}
			if mode.Load() == "drip" {
				io.WriteString(w, " ")
			}
		}
	}))
	t.Cleanup(front.Close)
	r := fx.create(proxyConfig(t, "docker-proxy", front.URL, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["autoBlock"] = false
	}))
	c := fx.admin(fx.connector(r))
	t.Cleanup(func() { close(release) }) // before the servers close

	for _, realm := range []string{"stall", "drip"} {
		mode.Store(realm)
		var resp *response
		var err error
		took := repotest.Within(t, 10*timeout, "a pull with the realm "+realm+"ing", func() {
			resp, err = c.send(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
		})
		t.Logf("realm %s: the pull ended after %s: %v %v", realm, took, resp, err)
		if err == nil && resp.status < 500 {
			t.Errorf("realm %s: %s, want a 5xx", realm, resp)
		}
		if took < timeout {
			t.Errorf("realm %s: the pull ended after %s, before proxy.timeout (%s)", realm, took, timeout)
		}
	}
	mode.Store("")
	wantContent(t, c, http.MethodGet, "/v2/team/app/manifests/1.0", m, md, mtOCIManifest)
}

// Requests waiting for a token another request is fetching leave as soon
// as their own contexts end; the shared fetch is no caller's: it still
// completes, and its token serves the next request.
func TestTokenWaitersLeaveWithTheirContexts(t *testing.T) {
	var challenges, realmHits atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			realmHits.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"token": "t1", "expires_in": 60})
			return
		}
		if r.Header.Get("Authorization") != "Bearer t1" {
			challenges.Add(1)
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="s"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(free) // before srv.Close
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	tr := (&Format{}).UpstreamTransport(repo.Config{}, base)

	// The first request starts the fetch; n more wait for it.
	const n = 4
	errsOut := make([]error, n+1)
	cancels := make([]context.CancelFunc, n+1)
	done := make([]chan struct{}, n+1)
	for i := range n + 1 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i], done[i] = cancel, make(chan struct{})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/v2/team/app/blobs/sha256:%064d", srv.URL, i), nil)
		go func() {
			defer close(done[i])
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			errsOut[i] = err
		}()
		for realmHits.Load() < 1 || challenges.Load() < int64(i+1) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	time.Sleep(50 * time.Millisecond) // the waiters reach the shared fetch
	leave := func(what string, reqs ...int) {
		t.Helper()
		for _, i := range reqs {
			cancels[i]()
		}
		repotest.Within(t, time.Second, what, func() {
			for _, i := range reqs {
				<-done[i]
			}
		})
	}
	waiters := make([]int, n)
	for i := range waiters {
		waiters[i] = i + 1
	}
	leave("requests waiting for a token, after their contexts ended", waiters...)
	leave("the request that started the fetch, after its context ended", 0)
	for i, err := range errsOut {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("request %d: %v, want context.Canceled", i, err)
		}
	}
	if got := realmHits.Load(); got != 1 {
		t.Errorf("the realm was asked %d times, want once for all", got)
	}

	free()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/team/app/manifests/1.0", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" {
		t.Errorf("request after the fetch: %d %q", resp.StatusCode, body)
	}
	if got := realmHits.Load(); got != 1 {
		t.Errorf("the realm was asked %d times, want once: the shared fetch must outlive its callers", got)
	}
}

// A blob redirected to another server (another port is another origin)
// that challenges for a token of its own gets it without the proxy's
// credentials, which are for the configured upstream only; nor does the
// redirected request carry them.
func TestProxyRedirectedChallengeGetsNoCredentials(t *testing.T) {
	t.Parallel()
	_, up, _, c := proxyFixture(t, func(cfg map[string]any) {
		sectionOf(cfg, "httpClient")["authentication"] = map[string]any{"type": "username", "username": "u", "password": "p"}
	})
	up.realm, up.realmUser, up.realmPass = true, "u", "p"
	layer := randomBytes(t, 64<<10)
	ld := up.putBlob("team/app", layer)

	var mu sync.Mutex
	var seen []string // "token <Authorization>" and "blob <Authorization>" at the other server
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, strings.TrimPrefix(r.URL.Path, "/")+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		switch {
		case r.URL.Path == "/token":
			json.NewEncoder(w).Encode(map[string]any{"token": "other-token"})
		case r.Header.Get("Authorization") != "Bearer other-token":
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="other"`, r.Host))
			w.WriteHeader(http.StatusUnauthorized)
		default:
			w.Header().Set("Content-Length", fmt.Sprint(len(layer)))
			w.Write(layer)
		}
	}))
	t.Cleanup(other.Close)
	up.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, other.URL+"/"+ld.Encoded(), http.StatusTemporaryRedirect)
			return true
		}
		return false
	})

	wantContent(t, c, http.MethodGet, "/v2/team/app/blobs/"+ld.String(), layer, ld, "")
	if reqs := up.tokenRequests(); len(reqs) != 1 {
		t.Errorf("token requests to the upstream's realm: %d, want 1", len(reqs))
	} else if user, _, ok := reqs[0].BasicAuth(); !ok || user != "u" {
		t.Errorf("the upstream's realm did not get the configured credentials")
	}
	mu.Lock()
	defer mu.Unlock()
	var tokens int
	for _, s := range seen {
		if strings.Contains(s, "Basic ") {
			t.Errorf("the other server got the configured credentials: %q", s)
		}
		if strings.HasPrefix(s, "token ") {
			tokens++
		}
	}
	if tokens != 1 || len(seen) != 3 {
		t.Errorf("requests at the other server: %q, want a challenge, an anonymous token request, the blob", seen)
	}
}
