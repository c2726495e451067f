package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/testclock"
)

// proxied is a test server seen from a reverse proxy on 127.0.0.1.
type proxied struct {
	main, connector string // base URLs
	logs            *logRecorder
}

// The security clock stands still, so that the attempts' count does not
// depend on how fast this machine checks passwords.
func startProxied(t *testing.T, trustedProxies string) *proxied {
	t.Helper()
	s := startTestServerAt(t, func(c *config.Config) { c.TrustedProxies = trustedProxies }, testclock.New(time.Now()).Now)
	return &proxied{main: "http://" + s.main, connector: "http://" + s.connector, logs: s.logs}
}

// wrongLogin sends a wrong admin password to base+/v2/ as forwarded for
// client, and returns what was logged of the login and of the request.
func (p *proxied) wrongLogin(t *testing.T, base, client string) (login, request map[string]slog.Value) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/v2/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(auth.AdminUser, "wrong-password")
	req.Header.Set("X-Forwarded-For", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET %s/v2/ with a wrong password: status %d; want 401", base, resp.StatusCode)
	}
	return p.logs.last(t, "login failed"), p.logs.last(t, "request")
}

func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	p := startProxied(t, "")
	for port, base := range map[string]string{"main port": p.main, "connector": p.connector} {
		login, request := p.wrongLogin(t, base, "203.0.113.1")
		if got := login["client"].String(); got != "127.0.0.1" {
			t.Errorf("%s: login counted against client %q; want the peer 127.0.0.1", port, got)
		}
		if got := request["remote"].String(); got != "127.0.0.1" {
			t.Errorf("%s: request logged from %q; want the peer 127.0.0.1", port, got)
		}
	}
}

// Behind a trusted proxy, each forwarded client is throttled on its own,
// alike on the main port and on a Docker connector.
func TestForwardedForHonouredFromTrustedProxy(t *testing.T) {
	t.Parallel()
	p := startProxied(t, "127.0.0.1/32")
	const a, b = "203.0.113.7", "203.0.113.8"
	var login, request map[string]slog.Value
	for i := range 6 {
		base, port := p.main, "main port"
		if i%2 == 1 {
			base, port = p.connector, "connector"
		}
		login, request = p.wrongLogin(t, base, a)
		if got := login["client"].String(); got != a {
			t.Errorf("%s: login counted against client %q; want the forwarded %s", port, got, a)
		}
		if got := request["remote"].String(); got != a {
			t.Errorf("%s: request logged from %q; want the forwarded %s", port, got, a)
		}
	}
	// Both ports counted the same client: the sixth attempt is throttled.
	if d := login["delay"]; d.Kind() != slog.KindDuration || d.Duration() <= 0 {
		t.Errorf("sixth wrong password of %s waited %v; want a throttling delay", a, d)
	}
	for port, base := range map[string]string{"main port": p.main, "connector": p.connector} {
		login, _ := p.wrongLogin(t, base, b)
		if got, d := login["client"].String(), login["delay"]; got != b || d.Kind() != slog.KindDuration || d.Duration() != 0 {
			t.Errorf("%s: another client behind the proxy counted as %q with delay %v; want %s without delay", port, got, d, b)
		}
	}
}

// An upload records as its uploader's address the client a trusted proxy
// names, as the login throttle and the request log see it.
func TestUploaderAddressIsTheForwardedClient(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, func(c *config.Config) { c.TrustedProxies = "127.0.0.1/32" })
	req, err := http.NewRequest(http.MethodPut, "http://"+s.main+"/repository/raw-h/up.txt", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(auth.AdminUser, s.adminPW)
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodGet, "http://"+s.main+"/service/rest/v1/assets?repository=raw-h", nil)
	req.SetBasicAuth(auth.AdminUser, s.adminPW)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Items []struct {
			Path       string `json:"path"`
			UploaderIP string `json:"uploaderIp"`
		} `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Items) != 1 {
		t.Fatalf("assets of raw-h: %+v, %v", page, err)
	}
	if got := page.Items[0].UploaderIP; got != "203.0.113.5" {
		t.Errorf("uploaderIp %q, want the forwarded client 203.0.113.5", got)
	}
}
