package server

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/docker"
	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/api"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
	"github.com/nexus-go/nexus-go/pkg/testproc"
	"github.com/nexus-go/nexus-go/pkg/tlsconf/tlstest"
)

// testServer is a whole server on 127.0.0.1 over a fresh data directory,
// with a raw repository raw-h, a Docker repository docker-h on a
// connector port and a signInFormat repository signin-h; what it logs is
// recorded, what it counts is in metrics.
type testServer struct {
	main, connector string         // host:port
	https           string         // host:port of the HTTPS main port (startHTTPSTestServer)
	debug           string         // host:port of the debug listener, when the configuration has one
	roots           *x509.CertPool // the CA of its certificate
	adminPW         string
	logs            *logRecorder
	metrics         *metrics.Metrics
	srv             *Server
	// shutdown starts the shutdown that the end of the test would (as
	// SIGTERM does); stop also waits for it and returns Serve's result.
	shutdown context.CancelFunc
	stop     func() error
	// serve starts Serve; a server from newTestServer has not yet.
	serve func()
}

// startTestServer starts a test server whose configuration tune may change
// first; it stops when t ends.
func startTestServer(t *testing.T, tune func(*config.Config)) *testServer {
	t.Helper()
	return startTestServerAt(t, tune, nil)
}

// startTestServerAt is startTestServer whose security service reads the
// time from now (nil: the wall clock).
func startTestServerAt(t *testing.T, tune func(*config.Config), now func() time.Time) *testServer {
	t.Helper()
	s := newTestServer(t, tune, now)
	s.serve()
	return s
}

// newTestServer is startTestServerAt before Serve: its repositories
// exist, its ports are bound, nothing is served until s.serve().
func newTestServer(t *testing.T, tune func(*config.Config), now func() time.Time) *testServer {
	t.Helper()
	st := repotest.NewStorage(t)
	logs := &logRecorder{}
	log := slog.New(logs)
	security, pw := st.Security(t, log)
	if now != nil {
		security.UseClock(now)
	}
	dockerFormat := docker.New(security, log, docker.Options{})
	m := metrics.New()
	security.UseLoginMeter(m)
	repos := repo.NewManager(st.DB, st.Stores, security, repo.Options{Log: log, Meter: m}, raw.New(log), dockerFormat, signInFormat{})
	m.Watch(repos)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, ContextPath: "/",
		MaxUploadSize: 1 << 30, MaxRequestBody: 1 << 20, ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout: time.Minute, BodyIdleTimeout: time.Minute, ShutdownTimeout: 5 * time.Second}
	if tune != nil {
		tune(&cfg)
	}
	// A tune that sets a certificate gets an HTTPS main port.
	var https net.Listener
	if cfg.SSLCert != "" {
		if https, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		cfg.SSLPort = https.Addr().(*net.TCPAddr).Port
	}
	// A tune that sets a debug address (127.0.0.1:0) gets a debug listener.
	var debug net.Listener
	if cfg.DebugAddr != "" {
		if debug, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(cfg, repos, security, api.New(repos, security, st.DB, "/", log), callerUI{}, m, log,
		Mount{Prefix: "/v2/", Format: "docker", Handler: dockerFormat.MainPortHandler(repos)})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := security.PrincipalOf(t.Context(), auth.AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	connPort := testproc.FreePort(t)
	for _, js := range []string{
		`{"name":"raw-h","format":"raw","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`,
		fmt.Sprintf(`{"name":"docker-h","format":"docker","type":"hosted","online":true,
			"storage":{"blobStoreName":"default","writePolicy":"allow"},"docker":{"forceBasicAuth":true,"httpPort":%d}}`, connPort),
		`{"name":"signin-h","format":"signin","type":"hosted","online":true,"storage":{"blobStoreName":"default","writePolicy":"allow"}}`,
	} {
		var rc repo.Config
		if err := json.Unmarshal([]byte(js), &rc); err != nil {
			t.Fatal(err)
		}
		if err := repos.Create(auth.WithPrincipal(t.Context(), admin), rc); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	var started atomic.Bool
	serve := func() {
		started.Store(true)
		go func() { served <- srv.Serve(ctx, Listeners{Main: l, HTTPS: https, Debug: debug}) }()
	}
	var stopped sync.Once
	var serveErr error
	stop := func() error {
		stopped.Do(func() {
			cancel()
			if started.Load() {
				serveErr = <-served
			}
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	})
	s := &testServer{main: l.Addr().String(), connector: "127.0.0.1:" + strconv.Itoa(connPort),
		adminPW: pw, logs: logs, metrics: m, srv: srv, shutdown: cancel, stop: stop, serve: serve}
	if https != nil {
		s.https = https.Addr().String()
	}
	if debug != nil {
		s.debug = debug.Addr().String()
	}
	return s
}

// startHTTPSTestServer is startTestServer with an HTTPS main port whose
// certificate a test CA signed.
func startHTTPSTestServer(t *testing.T, tune func(*config.Config)) *testServer {
	t.Helper()
	ca := tlstest.NewCA(t, "server test CA")
	certFile, keyFile, _ := ca.Server(t, t.TempDir(), "server")
	s := startTestServer(t, func(c *config.Config) {
		c.SSLCert, c.SSLKey = certFile, keyFile
		if tune != nil {
			tune(c)
		}
	})
	s.roots = x509.NewCertPool()
	s.roots.AddCert(ca.Cert)
	return s
}

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

// has reports whether a record was logged with msg and the path attribute.
func (l *logRecorder) has(msg, path string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, m := range l.msgs {
		if m == msg && l.records[i]["path"].String() == path {
			return true
		}
	}
	return false
}
