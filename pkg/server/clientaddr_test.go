package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/formats/docker"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// logRecorder keeps the attributes of every record logged with msg.
type logRecorder struct {
	mu      sync.Mutex
	records []map[string]slog.Value
	msgs    []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, attrs)
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// last returns the attributes of the latest record logged with msg.
func (l *logRecorder) last(t *testing.T, msg string) map[string]slog.Value {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.msgs) - 1; i >= 0; i-- {
		if l.msgs[i] == msg {
			return l.records[i]
		}
	}
	t.Fatalf("nothing logged as %q", msg)
	return nil
}

type noAPI struct{}

func (noAPI) Register(*echo.Group) {}

// proxied is a running server with a Docker repository on a connector
// port, as seen from a reverse proxy on 127.0.0.1.
type proxied struct {
	main, connector string // base URLs
	logs            *logRecorder
}

func startProxied(t *testing.T, trustedProxies string) *proxied {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.Open(filepath.Join(dir, "db", "nexus.bolt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := blob.NewFileDriver(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logRecorder{}
	log := slog.New(logs)
	authn := auth.New(db, log)
	if _, _, err := authn.Bootstrap(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	dockerFormat := docker.New(authn, log, docker.Options{})
	m := repo.NewManager(db, blob.NewStore("default", d), authn, repo.Options{Log: log}, raw.New(log), dockerFormat)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, TrustedProxies: trustedProxies,
		ShutdownTimeout: time.Second}
	srv, err := New(cfg, m, authn, noAPI{}, log, Mount{Prefix: "/v2/", Handler: dockerFormat.MainPortHandler(m)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})

	port := freePort(t)
	section, _ := json.Marshal(map[string]any{"httpPort": port, "forceBasicAuth": true})
	rc := repo.Config{Name: "docker-h", Format: "docker", Type: repo.Hosted, Online: true,
		Storage:  repo.Storage{BlobStoreName: "default", WritePolicy: "allow"},
		Sections: map[string]json.RawMessage{"docker": section}}
	admin, err := authn.PrincipalOf(context.Background(), auth.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Create(auth.WithPrincipal(context.Background(), admin), rc); err != nil {
		t.Fatal(err)
	}
	return &proxied{main: "http://" + l.Addr().String(), connector: "http://127.0.0.1:" + strconv.Itoa(port), logs: logs}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
