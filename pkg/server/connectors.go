package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/serve"
	"github.com/nexus-go/nexus-go/pkg/tlsconf"
)

// connectors keeps one listener per connector port of the repositories
// whose format serves at the root of its own port (Docker), opening,
// moving and closing them as repositories change, without a restart.
type connectors struct {
	cfg     config.Config
	repos   *repo.Manager
	authn   *auth.Service
	metrics *metrics.Metrics
	log     *slog.Logger
	tls     *tlsconf.Reloader // nil when no certificate is configured
	// clientAddr decides the client address of a request, as on the main
	// port.
	clientAddr func(*http.Request) string

	// reconcile keeps Changed calls in order; it is never taken while
	// the manager is locked, unlike mu, which Check takes from inside the
	// manager's lock (so Changed must not call the manager while holding
	// mu).
	reconcile sync.Mutex
	mu        sync.Mutex
	open      map[int]*connector
	// reserved holds ports bound by Check for a change not yet applied.
	reserved map[int]net.Listener
	closed   bool
}

// connector is one listening port serving one repository.
type connector struct {
	repo    string
	https   bool
	handler atomic.Value // http.Handler; swapped when the repository changes
	srv     *http.Server
}

func (c *connector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.handler.Load().(http.Handler).ServeHTTP(w, r)
}

func newConnectors(cfg config.Config, repos *repo.Manager, authn *auth.Service, m *metrics.Metrics, log *slog.Logger, clientAddr func(*http.Request) string) (*connectors, error) {
	c := &connectors{cfg: cfg, repos: repos, authn: authn, metrics: m, log: log, clientAddr: clientAddr,
		open: map[int]*connector{}, reserved: map[int]net.Listener{}}
	if cfg.DockerTLSCert != "" {
		files := tlsconf.Files{Cert: cfg.DockerTLSCert, Key: cfg.DockerTLSKey, ClientCAs: cfg.ClientCAFiles()}
		var err error
		if c.tls, err = tlsconf.New("docker connectors", files, log); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// portSpec is a wanted listener.
type portSpec struct {
	repo  string
	https bool
}

func (c *connectors) wanted(cfg repo.Config) map[int]portSpec {
	out := map[int]portSpec{}
	f, ok := c.repos.Format(cfg.Format)
	if !ok {
		return out
	}
	conn, ok := f.(repo.Connector)
	if !ok {
		return out
	}
	httpPort, httpsPort := conn.Ports(cfg)
	if httpPort > 0 {
		out[httpPort] = portSpec{repo: cfg.Name}
	}
	// Without a certificate an HTTPS port is kept in the configuration, as
	// Nexus does, but does not listen; the status says why (StatusNote).
	if httpsPort > 0 && c.tls != nil {
		out[httpsPort] = portSpec{repo: cfg.Name, https: true}
	}
	return out
}

// StatusNote says why cfg's HTTPS connector does not listen, if it does
// not for want of a certificate (repo.StatusNoter).
func (c *connectors) StatusNote(cfg repo.Config) string {
	if c.tls != nil {
		return ""
	}
	f, ok := c.repos.Format(cfg.Format)
	if !ok {
		return ""
	}
	conn, ok := f.(repo.Connector)
	if !ok {
		return ""
	}
	if _, httpsPort := conn.Ports(cfg); httpsPort > 0 {
		return fmt.Sprintf("HTTPS port %d does not listen: no TLS certificate is configured (docker.tls-certificate and docker.tls-key)", httpsPort)
	}
	return ""
}

// Check refuses a configuration whose connector port is the main port,
// another repository's, or taken on this machine; a free port is bound now
// and kept for Changed, so the check cannot be overtaken.
func (c *connectors) Check(cfg repo.Config) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for port, spec := range c.wanted(cfg) {
		field := "docker.httpPort"
		if spec.https {
			field = "docker.httpsPort"
		}
		if port == c.cfg.Port || port == c.cfg.SSLPort {
			return &errs.FieldError{Field: field, Message: fmt.Sprintf("port %d is the server's main port", port)}
		}
		if open, ok := c.open[port]; ok {
			if open.repo != cfg.Name {
				return &errs.FieldError{Field: field, Message: fmt.Sprintf("port %d is used by repository %s", port, open.repo)}
			}
			continue
		}
		if _, ok := c.reserved[port]; ok {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(c.cfg.Host, strconv.Itoa(port)))
		if err != nil {
			return &errs.FieldError{Field: field, Message: fmt.Sprintf("port %d is already in use", port)}
		}
		c.reserved[port] = l
	}
	return nil
}

// Changed reconciles the listeners with the repositories.
func (c *connectors) Changed() {
	c.reconcile.Lock()
	defer c.reconcile.Unlock()
	want := map[int]portSpec{}
	handlers := map[string]http.Handler{}
	for _, r := range c.repos.List() {
		for port, spec := range c.wanted(r.Config()) {
			want[port] = spec
		}
		if conn, ok := r.Format().(repo.Connector); ok {
			handlers[r.Name()] = c.wrap(conn.Handler(r), c.metrics.Repository(r.Name(), r.Format().Name()))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for port, open := range c.open {
		if spec, ok := want[port]; !ok || spec != (portSpec{open.repo, open.https}) {
			c.stop(port, open)
		}
	}
	for port, spec := range want {
		if open, ok := c.open[port]; ok {
			open.handler.Store(handlers[spec.repo])
			continue
		}
		if err := c.start(port, spec, handlers[spec.repo]); err != nil {
			c.log.Error("connector not started", "repository", spec.repo, "port", port, "err", err)
		}
	}
	for port, l := range c.reserved {
		l.Close()
		delete(c.reserved, port)
	}
}

func (c *connectors) start(port int, spec portSpec, h http.Handler) error {
	l, ok := c.reserved[port]
	if ok {
		delete(c.reserved, port)
	} else {
		var err error
		if l, err = net.Listen("tcp", net.JoinHostPort(c.cfg.Host, strconv.Itoa(port))); err != nil {
			return err
		}
	}
	l = limitConnections(l, c.cfg.MaxConnections)
	if spec.https {
		l = tls.NewListener(l, c.tls.Config())
	}
	conn := &connector{repo: spec.repo, https: spec.https}
	conn.handler.Store(h)
	conn.srv = &http.Server{
		Handler:           conn,
		ReadHeaderTimeout: c.cfg.ReadHeaderTimeout,
		IdleTimeout:       c.cfg.IdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(c.log.Handler(), slog.LevelWarn),
	}
	c.open[port] = conn
	go func() {
		if err := conn.srv.Serve(l); err != nil && err != http.ErrServerClosed {
			c.log.Error("connector stopped", "repository", spec.repo, "port", port, "err", err)
		}
	}()
	c.log.Info("connector listening", "repository", spec.repo, "port", port, "https", spec.https)
	return nil
}

// stop closes a connector at once; used when its repository moves or goes.
func (c *connectors) stop(port int, conn *connector) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := conn.srv.Shutdown(ctx); err != nil {
		conn.srv.Close()
	}
	delete(c.open, port)
	c.log.Info("connector closed", "repository", conn.repo, "port", port)
}

// shutdown drains every connector, as the main server does on exit.
func (c *connectors) shutdown(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var wg sync.WaitGroup
	for port, conn := range c.open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := conn.srv.Shutdown(ctx); err != nil {
				conn.srv.Close()
			}
		}()
		delete(c.open, port)
	}
	wg.Wait()
	for port, l := range c.reserved {
		l.Close()
		delete(c.reserved, port)
	}
}

// wrap adds what the main port's middleware gives its routes: the client
// address, the caller (auth.Service.Resolve), the upload size limit, the
// limits on request bodies, a request log line, and the request metrics,
// all under the port's repository (route).
func (c *connectors) wrap(h http.Handler, route *metrics.Route) http.Handler {
	return guardBodies(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var body *metrics.CountingBody
		if r.ContentLength != 0 {
			body = &metrics.CountingBody{ReadCloser: r.Body}
			r.Body = body
		}
		r = clientip.With(r, c.clientAddr(r))
		r = r.WithContext(repo.WithMaxUploadSize(r.Context(), c.cfg.MaxUploadSize))
		sw := &serve.StatusWriter{ResponseWriter: w}
		line := func() []any {
			return []any{"method", r.Method, "path", auth.RedactTokens(r.URL.Path), "status", sw.Logged(),
				"bytes", sw.Bytes, "ms", time.Since(start).Milliseconds(), "remote", clientip.Of(r), "host", r.Host}
		}
		defer logAbort(c.log, line)
		defer func() {
			var received int64
			if body != nil {
				received = body.N
			}
			route.Observe(r.Method, sw.Logged(), time.Since(start), received, sw.Bytes)
		}()
		resolved, err := c.authn.Resolve(r)
		switch {
		case err != nil:
			serve.Error(sw, r, c.log, err)
		case refusesBody(resolved, false):
			refuseBody(sw, resolved, c.log)
		default:
			r = resolved
			h.ServeHTTP(sw, r)
		}
		c.log.Info("request", line()...)
	}), c.cfg.BodyIdleTimeout)
}
